-- PostgreSQL cannot drop enum values; a real down migration would rebuild the type.
SELECT 1;
