CREATE TYPE order_status AS ENUM ('new', 'paid');

CREATE TABLE customers (
    id    serial PRIMARY KEY,
    email text NOT NULL,
    name  text
);

CREATE TABLE products (
    sku   text PRIMARY KEY,
    price numeric(10, 2)
);
