-- Parents found or created below the root, parents of parents, and rows linked through a
-- join table (tests/tests/links.rs).
CREATE TABLE cities (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    country text
);

-- A route's stops, each in a city found or created by name.
CREATE TABLE routes (
    id bigserial PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE stops (
    route_id bigint NOT NULL REFERENCES routes (id),
    position integer NOT NULL,
    city_id integer NOT NULL REFERENCES cities (id),
    PRIMARY KEY (route_id, position)
);
