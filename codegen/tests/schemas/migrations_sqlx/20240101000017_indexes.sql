CREATE UNIQUE INDEX customers_phone_key ON customers (phone);
CREATE UNIQUE INDEX orders_one_new_per_customer ON orders (customer_id) WHERE status = 'new';
CREATE INDEX orders_status_idx ON orders (status);
CREATE UNIQUE INDEX items_price_sku ON items (price, item_sku);
DROP INDEX items_price_sku;
CREATE UNIQUE INDEX IF NOT EXISTS customers_lower_email ON customers (lower(email_address));
