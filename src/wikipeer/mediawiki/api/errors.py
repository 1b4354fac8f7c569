"""The Action API's errors and warnings, with MediaWiki's codes and texts."""

from __future__ import annotations

from dataclasses import dataclass


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "info"}}``; ``headers`` go on the HTTP response."""

    def __init__(self, code: str, info: str, module: str = "main", headers: dict[str, str] | None = None) -> None:
        super().__init__(info)
        self.code, self.info, self.module = code, info, module
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class ApiWarning:
    """A warning of one module (``main``, ``query``, ``revisions``...)."""

    module: str
    code: str
    text: str


def bad_value(name: str, value: str) -> ApiError:
    """A value a single-valued parameter does not take."""
    return ApiError("badvalue", f'Unrecognized value for parameter "{name}": {value}.')


def missing_param(name: str) -> ApiError:
    return ApiError("missingparam", f'The "{name}" parameter must be set.')
