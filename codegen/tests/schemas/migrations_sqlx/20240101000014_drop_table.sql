CREATE TABLE scratch (id integer PRIMARY KEY, payload text);
DROP TABLE scratch;
DROP TABLE IF EXISTS never_created;
