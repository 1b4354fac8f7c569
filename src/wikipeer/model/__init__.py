"""The object model: blocks, CIDs, schemas, titles and signatures (pure, no I/O)."""
