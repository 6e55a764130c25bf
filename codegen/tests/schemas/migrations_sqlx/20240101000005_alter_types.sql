ALTER TABLE customers ALTER COLUMN phone TYPE varchar(32);
ALTER TABLE products ALTER COLUMN price TYPE numeric(12, 2);
ALTER TABLE orders ALTER COLUMN note SET DATA TYPE varchar(500);
