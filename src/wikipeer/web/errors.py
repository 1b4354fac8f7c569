"""Errors the web pages answer with a proper page and HTTP status."""

from __future__ import annotations


class HttpError(Exception):
    """Shown to the reader as an error page with ``status``."""

    def __init__(self, status: int, message: str, title: str = "") -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.title = title or {400: "Bad request", 401: "Not logged in", 403: "Forbidden",
                               404: "Not found"}.get(status, "Error")
