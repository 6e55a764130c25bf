ALTER TABLE orders DROP CONSTRAINT orders_customer_fk;
ALTER TABLE customers DROP CONSTRAINT customers_email_key;
