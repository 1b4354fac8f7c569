"""Wiki configuration and MediaWiki title normalisation.

A page is named by ``(wiki, namespace number, title)``; the title is kept
without its namespace prefix, with spaces rather than underscores and with
the first letter upper-cased when the namespace's case rule says so. These
are MediaWiki's own rules, so a title typed on either side names one page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wikipeer.errors import InvalidObject

MAX_TITLE_BYTES = 255
_INVALID = re.compile(r"[#<>\[\]|{}\x00-\x1f\x7f\ufffd]")
_SPACES = re.compile(r"[ _\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")

DEFAULT_NAMESPACES: dict[int, str] = {
    -2: "Media", -1: "Special", 0: "", 1: "Talk", 2: "User", 3: "User talk",
    4: "Project", 5: "Project talk", 6: "File", 7: "File talk", 8: "MediaWiki",
    9: "MediaWiki talk", 10: "Template", 11: "Template talk", 12: "Help",
    13: "Help talk", 14: "Category", 15: "Category talk",
}


class BadTitle(InvalidObject):
    """A title that MediaWiki would not accept either."""


@dataclass(slots=True)
class WikiConfig:
    """What a node knows of one wiki: its name, case rule and namespaces."""

    name: str
    sitename: str = ""
    base: str = ""
    lang: str = "en"
    case: str = "first-letter"
    namespaces: dict[int, str] = field(default_factory=lambda: dict(DEFAULT_NAMESPACES))
    namespace_case: dict[int, str] = field(default_factory=dict)

    def case_rule(self, ns: int) -> str:
        return self.namespace_case.get(ns, self.case)

    def namespace_prefix(self, ns: int) -> str:
        return self.namespaces.get(ns, "")

    def full_title(self, ns: int, text: str) -> str:
        """A title as a reader sees it, with its namespace prefix (``Talk:Foo``)."""
        prefix = self.namespace_prefix(ns)
        return f"{prefix}:{text}" if prefix else text

    def to_dict(self) -> dict:
        return {
            "name": self.name, "sitename": self.sitename, "base": self.base, "lang": self.lang,
            "case": self.case, "namespaces": {str(k): v for k, v in self.namespaces.items()},
            "namespace_case": {str(k): v for k, v in self.namespace_case.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "WikiConfig":
        return cls(
            name=data["name"], sitename=data.get("sitename", ""), base=data.get("base", ""),
            lang=data.get("lang", "en"), case=data.get("case", "first-letter"),
            namespaces={int(k): v for k, v in data.get("namespaces", {}).items()} or dict(DEFAULT_NAMESPACES),
            namespace_case={int(k): v for k, v in data.get("namespace_case", {}).items()},
        )


@dataclass(frozen=True, slots=True)
class Title:
    """A normalised page name."""

    wiki: str
    ns: int
    text: str
    prefix: str = ""

    @property
    def full(self) -> str:
        """The title as a reader sees it, with its namespace prefix."""
        return f"{self.prefix}:{self.text}" if self.prefix else self.text


def _fold(name: str) -> str:
    return _SPACES.sub(" ", name).strip().casefold()


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def normalize_title(config: WikiConfig, raw: str, ns: int | None = None) -> Title:
    """Normalise a title as MediaWiki does; ``ns`` forces the namespace.

    Without ``ns`` a known namespace prefix (``Talk:Foo``) selects the
    namespace; an unknown prefix stays part of the title, as in MediaWiki.
    """
    text = _SPACES.sub(" ", raw).strip()
    if ns is None:
        ns = 0
        text = text.removeprefix(":").lstrip()
        head, sep, rest = text.partition(":")
        if sep:
            folded = _fold(head)
            for number, name in config.namespaces.items():
                if number != 0 and _fold(name) == folded:
                    ns, text = number, rest.strip()
                    break
    if config.case_rule(ns) == "first-letter":
        text = _upper_first(text)
    check_title_text(raw, text)
    return Title(config.name, ns, text, config.namespace_prefix(ns))


def check_title_text(raw: str, text: str) -> None:
    """Raise BadTitle when ``text`` (normalised from ``raw``) is not a valid title."""
    if not text:
        raise BadTitle(f"empty title: {raw!r}")
    bad = _INVALID.search(text)
    if bad:
        raise BadTitle(f"title {raw!r} contains the character {bad.group()!r}, which titles may not hold")
    if len(text.encode("utf-8")) > MAX_TITLE_BYTES:
        raise BadTitle(f"title {raw[:40]!r}... is longer than {MAX_TITLE_BYTES} bytes")
    if text in (".", "..") or text.startswith(("./", "../")) or "/./" in text or "/../" in text:
        raise BadTitle(f"title {raw!r} is a relative path, which MediaWiki forbids")
    if "~~~" in text:
        raise BadTitle(f"title {raw!r} contains '~~~', which MediaWiki forbids")
