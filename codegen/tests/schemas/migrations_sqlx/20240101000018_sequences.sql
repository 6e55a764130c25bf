CREATE SEQUENCE invoice_numbers;
ALTER TABLE invoices ALTER COLUMN number SET DEFAULT 'INV-' || nextval('invoice_numbers');
ALTER SEQUENCE invoice_numbers OWNED BY invoices.number;

CREATE SEQUENCE shipment_seq START 10;
CREATE TABLE shipments (
    id       bigint PRIMARY KEY DEFAULT nextval('shipment_seq'),
    order_id bigint NOT NULL,
    carrier  text
);
ALTER SEQUENCE shipment_seq OWNED BY shipments.id;
