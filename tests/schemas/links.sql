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

-- A customer's address, and the address's city: parents of parents.
CREATE TABLE addresses (
    id bigserial PRIMARY KEY,
    city_id integer NOT NULL REFERENCES cities (id),
    street text NOT NULL
);

CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    address_id bigint NOT NULL REFERENCES addresses (id)
);

-- A shipment's parcels, each for a customer written with it, with an address in a city.
CREATE TABLE shipments (
    id bigserial PRIMARY KEY,
    label text NOT NULL
);

CREATE TABLE parcels (
    id bigserial PRIMARY KEY,
    shipment_id bigint NOT NULL REFERENCES shipments (id),
    customer_id bigint NOT NULL REFERENCES customers (id),
    weight_grams integer NOT NULL
);

-- Articles and their tags, linked through article_tags; a blog's articles.
CREATE TABLE blogs (
    id serial PRIMARY KEY,
    title text NOT NULL
);

CREATE TABLE articles (
    id bigserial PRIMARY KEY,
    blog_id integer REFERENCES blogs (id),
    title text NOT NULL
);

CREATE TABLE tags (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    color text
);

CREATE TABLE article_tags (
    article_id bigint NOT NULL REFERENCES articles (id),
    tag_id integer NOT NULL REFERENCES tags (id),
    added_by text NOT NULL DEFAULT 'editor',
    PRIMARY KEY (article_id, tag_id)
);

-- Groups and their members, each membership with a role it must give.
CREATE TABLE groups (
    id bigserial PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE people (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE
);

CREATE TABLE group_members (
    group_id bigint NOT NULL REFERENCES groups (id),
    person_id bigint NOT NULL REFERENCES people (id),
    role text NOT NULL,
    PRIMARY KEY (group_id, person_id)
);

-- A log row written after each article, and one before it, unrelated to it.
CREATE TABLE article_logs (
    id bigserial PRIMARY KEY,
    article_id bigint REFERENCES articles (id),
    action text NOT NULL
);
