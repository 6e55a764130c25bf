ALTER TABLE customers ADD COLUMN external_ref text;
CREATE UNIQUE INDEX customers_external_ref_key ON customers (external_ref, email_address);
-- Dropping the column drops the unique index with it.
ALTER TABLE customers DROP COLUMN external_ref;
