-- Columns inside keys: the foreign key's ref_columns and the unique's columns follow.
ALTER TABLE items RENAME COLUMN sku TO item_sku;
ALTER TABLE order_lines RENAME COLUMN sku TO item_sku;
ALTER TABLE customers RENAME COLUMN email TO email_address;
