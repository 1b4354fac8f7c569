"""wikipeer: a node for a peer-to-peer, signed, offline-capable wiki network."""

__version__ = "0.1.0"
