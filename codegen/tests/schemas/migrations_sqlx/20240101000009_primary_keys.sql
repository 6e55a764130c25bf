CREATE TABLE tags (
    name  text NOT NULL,
    label text
);
ALTER TABLE tags ADD PRIMARY KEY (name);
ALTER TABLE tags DROP CONSTRAINT tags_pkey;
-- The primary key makes `label` NOT NULL.
ALTER TABLE tags ADD CONSTRAINT tags_pk PRIMARY KEY (name, label);
