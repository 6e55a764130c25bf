ALTER TABLE customers
    ADD COLUMN phone varchar(20),
    ADD COLUMN created_at timestamptz DEFAULT now();
ALTER TABLE orders DROP COLUMN legacy_code;
