"""The PostgreSQL backend of the store: a connection speaking sqlite3's interface, and search on pg_trgm."""
