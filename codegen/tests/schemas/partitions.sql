-- Keys of partitioned tables as PostgreSQL propagates them, and keys declared on partitions.

CREATE TABLE customers (id bigint PRIMARY KEY);

-- PRIMARY KEY, UNIQUE and FOREIGN KEY on the parent: each partition gets its own copy.
CREATE TABLE events (
    id bigint NOT NULL,
    at date NOT NULL,
    code text NOT NULL,
    customer_id bigint REFERENCES customers (id) ON DELETE CASCADE,
    PRIMARY KEY (id, at),
    UNIQUE (code, at)
) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- A table attached later gets the same copies.
CREATE TABLE events_2025 (
    id bigint NOT NULL,
    at date NOT NULL,
    code text NOT NULL,
    customer_id bigint
);
ALTER TABLE events ATTACH PARTITION events_2025
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
-- A key of its own that equals the parent's is attached, not copied: its name stays.
CREATE TABLE events_2026 (
    id bigint NOT NULL,
    at date NOT NULL,
    code text NOT NULL,
    customer_id bigint,
    CONSTRAINT events_2026_own_pk PRIMARY KEY (id, at)
);
ALTER TABLE events ATTACH PARTITION events_2026
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
-- Keys added to the parent after its partitions exist reach them too.
CREATE UNIQUE INDEX events_id_code ON events (id, code, at);
ALTER TABLE events ADD COLUMN referrer_id bigint;
ALTER TABLE events ADD FOREIGN KEY (referrer_id) REFERENCES customers (id);

-- A partitioned table whose foreign key exists only on its partitions.
CREATE TABLE orders (id bigint PRIMARY KEY);
CREATE TABLE order_lines (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    region text NOT NULL
) PARTITION BY LIST (region);
CREATE TABLE order_lines_eu PARTITION OF order_lines (
    FOREIGN KEY (order_id) REFERENCES orders (id)
) FOR VALUES IN ('eu');
CREATE TABLE order_lines_us (
    id bigint NOT NULL,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    region text NOT NULL
);
ALTER TABLE order_lines ATTACH PARTITION order_lines_us FOR VALUES IN ('us');
CREATE TABLE order_lines_asia PARTITION OF order_lines FOR VALUES IN ('asia');
ALTER TABLE order_lines_asia ADD FOREIGN KEY (order_id) REFERENCES orders (id);

-- Sub-partitions get the keys of every level above them.
CREATE TABLE readings (
    id bigint NOT NULL,
    site text NOT NULL,
    year int NOT NULL,
    customer_id bigint REFERENCES customers (id),
    PRIMARY KEY (id, site, year)
) PARTITION BY LIST (site);
CREATE TABLE readings_north PARTITION OF readings FOR VALUES IN ('north')
    PARTITION BY RANGE (year);
CREATE TABLE readings_north_2024 PARTITION OF readings_north FOR VALUES FROM (2024) TO (2025);

-- A foreign key to a partitioned table: PostgreSQL's extra copies for each referenced
-- partition are not keys of their own.
CREATE TABLE event_notes (
    event_id bigint NOT NULL,
    event_at date NOT NULL,
    FOREIGN KEY (event_id, event_at) REFERENCES events (id, at)
);

-- Dropping a key of the parent drops its copies and the keys attached to it.
CREATE TABLE visits (
    id bigint NOT NULL,
    day date NOT NULL,
    customer_id bigint,
    CONSTRAINT visits_pk PRIMARY KEY (id, day),
    CONSTRAINT visits_day_id UNIQUE (day, id),
    CONSTRAINT visits_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) PARTITION BY RANGE (day);
CREATE TABLE visits_2024 PARTITION OF visits FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE visits DROP CONSTRAINT visits_pk;
ALTER TABLE visits DROP CONSTRAINT visits_day_id;
ALTER TABLE visits DROP CONSTRAINT visits_customer;
