ALTER TABLE order_lines DROP CONSTRAINT order_lines_sku_fkey;
ALTER TABLE order_lines ADD CONSTRAINT order_lines_item_fk FOREIGN KEY (item_sku)
    REFERENCES items (item_sku) ON DELETE SET NULL;
ALTER TABLE clients DROP CONSTRAINT clients_email_key;
ALTER TABLE clients ADD CONSTRAINT clients_email_unique UNIQUE (email_address);
