"""Errors the web pages answer with a proper page and HTTP status."""

from __future__ import annotations


class HttpError(Exception):
    """Shown to the reader as an error page with ``status``."""

    def __init__(self, status: int, message: str, title: str = "",
                 suggestions: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.title = title or {400: "Bad request", 401: "Not logged in", 403: "Forbidden",
                               404: "Not found"}.get(status, "Error")
        self.suggestions = suggestions or []  # (name, URL): what the reader probably meant


class Missing(HttpError):
    """A 404 for a page or a wiki this node does not hold: a partial node may fetch it, an edit may create it."""

    def __init__(self, message: str, title: str, suggestions: list[tuple[str, str]]) -> None:
        super().__init__(404, message, title, suggestions)
