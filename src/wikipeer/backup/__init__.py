"""Backups: encrypted, append-only snapshots of a node's blocks on a directory or an S3 target."""
