ALTER TYPE order_status ADD VALUE 'shipped' AFTER 'paid';
ALTER TYPE order_status ADD VALUE 'draft' BEFORE 'new';
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'cancelled';
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'paid';
