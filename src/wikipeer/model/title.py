"""Wiki configuration and MediaWiki title normalisation.

A page is named by ``(wiki, namespace number, title)``; the title is kept
without its namespace prefix, with spaces rather than underscores and with
the first letter upper-cased when the namespace's case rule says so. These
are MediaWiki's own rules (``MediaWikiTitleCodec::splitTitleString`` and
``Title::newFromText``), so a title typed on either side names one page:
character references decoded, Unicode NFC, directional marks dropped,
whitespace and underscores folded; refused are the characters outside
``$wgLegalTitleChars``, percent-escapes and character references that stay,
relative paths, ``~~~``, a leading colon, an empty title and more than 255
bytes. ``normalize_title`` is the one normaliser every entry point calls;
``clean_title`` is its part that needs no wiki configuration, which the
page object's own check uses (see model/objects.py).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from html.entities import name2codepoint
from urllib.parse import unquote, urlsplit

from wikipeer.errors import InvalidObject

MAX_TITLE_BYTES = 255
# The complement of MediaWiki's $wgLegalTitleChars, plus what its UTF-8 clean-up
# turns into U+FFFD (surrogates, U+FFFE, U+FFFF), which it then refuses.
# The three patterns with wide character ranges take ~5-10 ms each to compile (several times
# that on a busy machine), which every command paid at start-up: compiled on first use.
_ILLEGAL = r"[#<>\[\]|{}\x00-\x1f\x7f\ud800-\udfff\ufffd\ufffe\uffff]"
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_ENTITY = r"&[A-Za-z0-9\x80-\U0010ffff]+;"
_CHAR_REF = r"&([A-Za-z0-9\x80-\U0010ffff]+);|&#([0-9]+);|&#[xX]([0-9A-Fa-f]+);"
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e]+")
_SPACES = re.compile(r"[ _\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")

DEFAULT_NAMESPACES: dict[int, str] = {
    -2: "Media", -1: "Special", 0: "", 1: "Talk", 2: "User", 3: "User talk",
    4: "Project", 5: "Project talk", 6: "File", 7: "File talk", 8: "MediaWiki",
    9: "MediaWiki talk", 10: "Template", 11: "Template talk", 12: "Help",
    13: "Help talk", 14: "Category", 15: "Category talk",
    828: "Module", 829: "Module talk",  # Scribunto's, on every Wikimedia wiki: {{#invoke:}} reads Module: pages
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
    interwiki: dict[str, str] = field(default_factory=dict)
    """Interwiki prefix -> URL pattern with $1, as a MediaWiki's siteinfo gives it (empty: the built-in map)."""
    namespace_aliases: dict[str, int] = field(default_factory=dict)
    """Other names of namespaces (``Image`` for 6, ``Bild`` on a German wiki), as siteinfo's namespacealiases."""
    timezone: str = ""
    """The wiki's time zone (an IANA name, siteinfo's ``timezone``) for ``#timel`` and ``#timefl``; empty: UTC."""

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
            # Left out when empty, so a configuration without one reads and signs as before.
            **({"interwiki": dict(self.interwiki)} if self.interwiki else {}),
            **({"namespace_aliases": dict(self.namespace_aliases)} if self.namespace_aliases else {}),
            **({"timezone": self.timezone} if self.timezone else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "WikiConfig":
        if not isinstance(data.get("interwiki", {}), dict):
            raise ValueError("a wiki's interwiki map must map prefixes to URLs")
        aliases = data.get("namespace_aliases", {})
        if not isinstance(aliases, dict) or not all(isinstance(v, int) for v in aliases.values()):
            raise ValueError("a wiki's namespace aliases must map names to namespace numbers")
        return cls(
            name=data["name"], sitename=data.get("sitename", ""), base=data.get("base", ""),
            lang=data.get("lang", "en"), case=data.get("case", "first-letter"),
            namespaces={int(k): v for k, v in data.get("namespaces", {}).items()} or dict(DEFAULT_NAMESPACES),
            namespace_case={int(k): v for k, v in data.get("namespace_case", {}).items()},
            interwiki={str(k): str(v) for k, v in data.get("interwiki", {}).items()},
            namespace_aliases={str(k): v for k, v in aliases.items()},
            timezone=str(data.get("timezone", "")),
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


def _valid_codepoint(number: int) -> bool:
    """MediaWiki's Sanitizer::validateCodepoint: what a numeric character reference may name."""
    return (number in (0x09, 0x0A, 0x0D) or 0x20 <= number <= 0xD7FF or 0xE000 <= number <= 0xFFFD
            or 0x10000 <= number <= 0x10FFFF)


def _decode_ref(match: re.Match[str]) -> str:
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        number = name2codepoint.get(name)
    else:
        digits = decimal if decimal is not None else hexadecimal
        number = int(digits, 10 if decimal is not None else 16) if len(digits) <= 8 else None
    return chr(number) if number is not None and _valid_codepoint(number) else match.group()


def clean_title(raw: str) -> str:
    """The title-independent part of normalisation: what needs no wiki configuration.

    Character references (``&eacute;``, ``&#233;``) decoded, directional marks
    removed (they ride along when titles are copied from lists), then NFC, so
    a title typed as precomposed or combining characters is one title; then
    every run of spaces, underscores and Unicode spaces becomes one space, and
    the ends are trimmed. Marks are removed before NFC: removing them after
    could leave a letter and its accent side by side, which is not NFC.
    """
    text = _compiled(_CHAR_REF).sub(_decode_ref, raw)
    text = unicodedata.normalize("NFC", _BIDI.sub("", text))
    return _SPACES.sub(" ", text).strip()


def normalize_title(config: WikiConfig, raw: str, ns: int | None = None) -> Title:
    """Normalise a title as MediaWiki does; ``ns`` forces the namespace.

    Without ``ns`` a known namespace prefix (``Talk:Foo``) selects the
    namespace and a leading colon the main one; an unknown prefix stays part
    of the title, as in MediaWiki. Raises BadTitle, naming what is wrong.
    """
    text = clean_title(raw)
    if ns is None:
        ns = 0
        if text.startswith(":"):
            text = text[1:].lstrip()
        head, sep, rest = text.partition(":")
        if sep:
            number = _namespace_named(config, head)
            if number is not None:
                ns, text = number, rest.strip()
                if ns == 1 and _has_namespace_prefix(config, text):
                    raise BadTitle(f"title {raw!r} names a talk page of a page in another namespace; "
                                   f"MediaWiki forbids 'Talk:' before another namespace's prefix")
    if config.case_rule(ns) == "first-letter":
        # Upper-casing can decompose (U+0390 becomes three characters): NFC again keeps the result normal.
        text = unicodedata.normalize("NFC", _upper_first(text))
    check_title_text(raw, text)
    return Title(config.name, ns, text, config.namespace_prefix(ns))


def _namespace_named(config: WikiConfig, prefix: str) -> int | None:
    folded = _fold(prefix)
    for number, name in config.namespaces.items():
        if number != 0 and _fold(name) == folded:
            return number
    for alias, number in config.namespace_aliases.items():
        if _fold(alias) == folded:
            return number
    return None


def _has_namespace_prefix(config: WikiConfig, text: str) -> bool:
    head, sep, _ = text.partition(":")
    return bool(sep) and _namespace_named(config, head) is not None


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def check_title_text(raw: str, text: str) -> None:
    """Raise BadTitle when ``text`` (normalised from ``raw``, without its namespace) is not a valid title."""
    if not text:
        raise BadTitle(f"empty title: {raw!r} (a title needs a name after any namespace prefix)")
    bad = _compiled(_ILLEGAL).search(text)
    if bad:
        raise BadTitle(f"title {raw!r} contains the character {bad.group()!r} (U+{ord(bad.group()):04X}), "
                       "which titles may not hold")
    escape = _PERCENT.search(text) or _compiled(_ENTITY).search(text)
    if escape:
        raise BadTitle(f"title {raw!r} contains the escape {escape.group()!r}; titles may not hold percent-escapes "
                       "or character references: write the character itself")
    if text.startswith(":"):
        raise BadTitle(f"title {raw!r} starts with a colon after its namespace, which MediaWiki forbids")
    if len(text.encode("utf-8")) > MAX_TITLE_BYTES:
        raise BadTitle(f"title {raw[:40]!r}... is longer than {MAX_TITLE_BYTES} bytes")
    if (text in (".", "..") or text.startswith(("./", "../")) or "/./" in text or "/../" in text
            or text.endswith(("/.", "/.."))):
        raise BadTitle(f"title {raw!r} is a relative path, which MediaWiki forbids")
    if "~~~" in text:
        raise BadTitle(f"title {raw!r} contains '~~~', which MediaWiki forbids")


def main_page_title(config: WikiConfig) -> str:
    """The wiki's main page: the last part of its base URL, as in a dump's siteinfo, else "Main Page"."""
    path = urlsplit(config.base).path
    if "/wiki/" in path:
        name = unquote(path.rsplit("/wiki/", 1)[1]).replace("_", " ").strip()
        if name:
            return name
    return "Main Page"
