"""The SQLite store: blocks, compressed texts, indexes, heads, log and search."""
