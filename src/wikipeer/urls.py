"""Where a node serves a wiki's pages and files: the URLs its web pages and its api.php both link to."""

from __future__ import annotations

from urllib.parse import quote

VERSION_DIGITS = 16
"""Hex digits of a file's SHA-256 its URLs carry (``?v=``): a URL names one version, so it may be cached for good."""


def page_url(wiki: str, full_title: str) -> str:
    """The URL of a page, MediaWiki style: spaces become underscores."""
    return f"/wiki/{quote(wiki)}/{quote(full_title.replace(' ', '_'))}"


def file_url(wiki: str, name: str, sha256: str | None = None) -> str:
    """The URL of a file's bytes (``name`` without ``File:``); with ``sha256``, of that version."""
    url = f"/file/{quote(wiki)}/{quote(name.replace(' ', '_'))}"
    return url + (f"?v={sha256[:VERSION_DIGITS]}" if sha256 else "")


def thumb_url(wiki: str, name: str, width: int | str, sha256: str | None = None) -> str:
    """The URL of a thumbnail ``width`` pixels wide."""
    url = f"/thumb/{quote(wiki)}/{width}/{quote(name.replace(' ', '_'))}"
    return url + (f"?v={sha256[:VERSION_DIGITS]}" if sha256 else "")


def upload_url(wiki: str, name: str) -> str:
    """The upload form, with a file name filled in (where a missing file's red link leads)."""
    return f"/upload?wiki={quote(wiki)}&wpDestFile={quote(name.replace(' ', '_'))}"
