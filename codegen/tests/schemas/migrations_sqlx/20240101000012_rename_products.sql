-- order_lines' foreign key now references public.items.
ALTER TABLE products RENAME TO items;
