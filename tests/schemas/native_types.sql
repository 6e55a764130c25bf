-- A type only the server knows the OID of, bound natively (`bind = "native"` in
-- native_types.toml): an enum created by the schema stands for an extension's scalar type
-- (pgvector's `vector`), whose OID differs between databases too.
CREATE TYPE currency AS ENUM ('EUR', 'USD', 'GBP');

CREATE TABLE prices (
    id       bigserial PRIMARY KEY,
    sku      text NOT NULL UNIQUE,
    cents    bigint NOT NULL,
    currency currency NOT NULL,
    shown_in currency
);

CREATE TABLE price_changes (
    id       bigserial PRIMARY KEY,
    price_id bigint NOT NULL REFERENCES prices (id),
    old      currency,
    new      currency NOT NULL
);
