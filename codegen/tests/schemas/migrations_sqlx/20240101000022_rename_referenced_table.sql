-- orders' and line_notes' foreign keys now reference public.clients.
ALTER TABLE customers RENAME TO clients;
ALTER TABLE clients RENAME CONSTRAINT customers_email_key TO clients_email_key;
ALTER INDEX customers_phone_key RENAME TO clients_phone_key;
