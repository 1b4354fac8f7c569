"""Formats content travels in: MediaWiki XML dumps (and later CAR bundles, git, ZIM)."""
