-- Never applied by the tests (and never read by the reader): down migrations are ignored.
DROP TABLE orders;
DROP TABLE customers;
