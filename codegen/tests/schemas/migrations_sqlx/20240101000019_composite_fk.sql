CREATE TABLE line_notes (
    order_id  bigint NOT NULL,
    line_no   integer NOT NULL,
    note      text NOT NULL,
    author_id integer DEFAULT 0,
    FOREIGN KEY (order_id, line_no) REFERENCES order_lines (order_id, line_no)
        ON DELETE CASCADE ON UPDATE RESTRICT,
    CONSTRAINT line_notes_author_fk FOREIGN KEY (author_id) REFERENCES customers (id)
        ON DELETE SET DEFAULT ON UPDATE NO ACTION
);
ALTER TABLE shipments ADD CONSTRAINT shipments_order_fk FOREIGN KEY (order_id)
    REFERENCES orders (id) ON DELETE RESTRICT ON UPDATE CASCADE;
