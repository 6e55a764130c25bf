-- Extension types keep their type modifiers, spelled as format_type prints them.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE places (
    id bigint PRIMARY KEY,
    outline geometry(polygon, 4326) NOT NULL,
    spot geometry(POINTZ),
    route public.geometry(LineString, 3857),
    area geography(MultiPolygon),
    anything geometry,
    shapes geometry(Point, 4326)[]
);
