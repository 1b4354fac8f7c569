"""The `wikipeer` command: a thin shell over the node, store and ingest."""
