CREATE TABLE orders (
    id          bigserial PRIMARY KEY,
    customer_id integer REFERENCES customers (id),
    status      order_status NOT NULL DEFAULT 'new',
    note        text,
    legacy_code text
);
