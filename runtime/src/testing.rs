//! Throwaway PostgreSQL for tests and examples.
