"""Acceptance rules and views: what a node lets in and which head it shows."""
