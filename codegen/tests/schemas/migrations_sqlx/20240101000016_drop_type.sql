CREATE TYPE temp_kind AS ENUM ('a', 'b');
DROP TYPE temp_kind;
CREATE DOMAIN temp_domain AS text;
DROP DOMAIN temp_domain;
