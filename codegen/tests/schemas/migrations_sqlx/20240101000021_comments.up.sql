COMMENT ON TABLE orders IS 'Orders placed by customers.';
COMMENT ON COLUMN orders.note IS 'Free text.';
COMMENT ON TABLE tags IS 'To be replaced.';
COMMENT ON TABLE tags IS NULL;
