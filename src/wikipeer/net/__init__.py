"""Nodes talking to nodes: the JSON-RPC API, CAR streams, peers, sync and redirects."""
