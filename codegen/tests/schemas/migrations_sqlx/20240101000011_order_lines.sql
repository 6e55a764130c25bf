CREATE TABLE order_lines (
    order_id bigint REFERENCES orders (id) ON DELETE CASCADE,
    line_no  integer,
    sku      text REFERENCES products (sku) ON DELETE RESTRICT,
    qty      integer NOT NULL DEFAULT 1,
    PRIMARY KEY (order_id, line_no)
);
