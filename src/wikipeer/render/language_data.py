"""MediaWiki's language data, per language, read from the file ``scripts/build_langdata.py`` generates.

The file (``language_data.sqlite`` next to this module, or the path in
``WIKIPEER_LANGDATA``) holds one row per language with that language's own
data; a ``Language`` answers with the language's value, else its fallback
chain's (as MediaWiki's LocalisationCache merges them), else English's. When
the file is missing, every language is English-only (the renderer's built-in
English words and messages) and one warning line says how to build it: a
missing file never stops a page from rendering.

Reading only; each language is read once per process.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
from functools import cached_property, lru_cache
from pathlib import Path

import zstandard

DEFAULT_PATH = Path(__file__).with_name("language_data.sqlite")
_LOG = logging.getLogger("wikipeer.render")
MONTH_KEYS = ("january", "february", "march", "april", "may_long", "june", "july", "august", "september",
              "october", "november", "december")
MONTH_ABBREV_KEYS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAY_KEYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
DAY_ABBREV_KEYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class LanguageData:
    """The generated file: languages by code, each read once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw: dict[str, dict] = {}
        self._languages: dict[str, Language] = {}
        self._lock = threading.Lock()
        self.available = path.is_file()
        self._names: dict[str, str] | None = None
        if not self.available:
            _LOG.warning("language data not built (%s missing): pages render with English words and messages "
                         "only; run `make langdata` (scripts/build_langdata.py)", path)

    def _query(self, sql: str, args: tuple) -> tuple | None:
        try:
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
                return db.execute(sql, args).fetchone()
        except sqlite3.Error as exc:
            _LOG.warning("language data unreadable (%s): %s", self.path, exc)
            self.available = False
            return None

    def raw(self, code: str) -> dict:
        """One language's own data (empty when unknown or without a data file)."""
        if code in self._raw:
            return self._raw[code]
        row = self._query("SELECT data FROM language WHERE code = ?", (code,)) if self.available else None
        data = json.loads(zstandard.ZstdDecompressor().decompress(row[0])) if row else {}
        with self._lock:
            self._raw[code] = data
        return data

    def language(self, code: str) -> Language:
        """The language ``code`` (English for an empty code), its fallbacks merged in."""
        code = (code or "en").strip().lower()
        found = self._languages.get(code)
        if found is None:
            found = Language(self, code)
            with self._lock:
                self._languages[code] = found
        return found

    def autonyms(self) -> dict[str, str]:
        """Code -> the language's name in itself, for every language MediaWiki names."""
        if self._names is None:
            row = self._query("SELECT value FROM meta WHERE key = 'names'", ()) if self.available else None
            self._names = json.loads(row[0]) if row else {}
        return self._names


class Language:
    """One language's view of the data: its own values first, then its fallback chain's, then English's."""

    def __init__(self, data: LanguageData, code: str) -> None:
        self.data = data
        self.code = code

    @cached_property
    def declared(self) -> list[str]:
        """The language and the fallbacks its data names (English only where named).

        Not followed further: MediaWiki's data lists each language's whole
        chain (LocalisationCache's fallbackSequence), and so do we.
        """
        own = [c for c in self.data.raw(self.code).get("fallback") or [] if c != self.code]
        return [self.code, *dict.fromkeys(own)]

    @cached_property
    def chain(self) -> list[str]:
        """The language, its fallbacks in MediaWiki's order, and English last."""
        return [self.code, *(c for c in self.declared[1:] if c != "en")] + (["en"] if self.code != "en" else [])

    def _first(self, key: str):
        """The first value the chain sets for ``key`` (None when none does)."""
        for code in self.chain:
            value = self.data.raw(code).get(key)
            if value is not None:
                return value
        return None

    @cached_property
    def rtl(self) -> bool:
        """Whether the language is written right to left."""
        return bool(self._first("rtl"))

    @property
    def direction(self) -> str:
        """``rtl`` or ``ltr``."""
        return "rtl" if self.rtl else "ltr"

    @cached_property
    def autonym(self) -> str:
        """The language's name in itself (empty when MediaWiki does not name it)."""
        return self.data.raw(self.code).get("autonym") or self.data.autonyms().get(self.code, "")

    def message(self, key: str) -> str | None:
        """The text of interface message ``key`` (MediaWiki's key: first letter lower case), or None."""
        for code in self.chain:
            text = (self.data.raw(code).get("messages") or {}).get(key)
            if text is not None:
                return text
        return None

    @cached_property
    def _magic(self) -> dict[str, tuple[bool, list[str]]]:
        merged: dict[str, tuple[bool, list[str]]] = {}
        for code in self.chain:
            for ident, entry in (self.data.raw(code).get("magicWords") or {}).items():
                case, words = bool(int(entry[0])) if entry else False, [str(w) for w in entry[1:]]
                if ident in merged:
                    merged[ident] = (merged[ident][0], merged[ident][1] + [w for w in words if w not in merged[ident][1]])
                else:
                    merged[ident] = (case, words)
        return merged

    def magic_words(self, ident: str) -> tuple[bool, list[str]]:
        """(case-sensitive, synonyms) of magic word ``ident`` (``img_thumbnail``, ``notoc``...), the language's first."""
        return self._magic.get(ident, (False, []))

    def magic_ids(self) -> list[str]:
        """The ids of every magic word the language (or its chain) names."""
        return list(self._magic)

    @cached_property
    def namespace_names(self) -> dict[int, str]:
        """Namespace number -> the language's name (spaces, not underscores); 4/5 hold ``$1`` for the site name."""
        names: dict[int, str] = {}
        for code in reversed(self.chain):
            names.update({int(k): v.replace("_", " ") for k, v in (self.data.raw(code).get("namespaces") or {}).items()})
        return names

    @cached_property
    def namespace_aliases(self) -> dict[str, int]:
        """Alias (folded: spaces, lower case) -> namespace number, gender forms included."""
        aliases: dict[str, int] = {}
        for code in reversed(self.chain):
            raw = self.data.raw(code)
            aliases.update({_fold(k): int(v) for k, v in (raw.get("namespaceAliases") or {}).items()})
            for ns, forms in (raw.get("genderAliases") or {}).items():
                aliases.update({_fold(name): int(ns) for name in forms.values()})
        return aliases

    @cached_property
    def digits(self) -> dict[int, str] | None:
        """A str.translate table from ASCII digits to the language's, or None when it writes ASCII digits."""
        table = self._first("digits")
        return {ord(k): v for k, v in table.items()} if table else None

    def local_digits(self, text: str) -> str:
        """``text`` with its ASCII digits written as the language writes them."""
        return text.translate(self.digits) if self.digits else text

    @cached_property
    def separators(self) -> tuple[str, str]:
        """(grouping, decimal) separators."""
        table = self._first("separators") or {}
        return table.get(",", ","), table.get(".", ".")

    @cached_property
    def _grouping(self) -> tuple[int, int, int]:
        """(first group size, later group size, minimum grouping digits)."""
        pattern = self._first("digitGroupingPattern") or "#,##0.###"
        groups = pattern.split(".")[0].split(",")
        first = len(groups[-1]) if len(groups) > 1 else 3
        later = len(groups[-2]) if len(groups) > 2 else first
        return first, later, int(self._first("minimumGroupingDigits") or 0)

    def format_num(self, number: str, separators: bool = True, translate: bool = True) -> str:
        """A number as ``{{formatnum:}}`` writes it (Language::formatNum): grouped, separators and digits translated.

        ``separators=False`` (NOSEP) neither groups nor translates the decimal point, as MediaWiki;
        text that is not one number has each number in it formatted.
        """
        stripped = number.strip()
        if not _NUMBER.fullmatch(stripped):
            return _NUMBER.sub(lambda m: self.format_num(m.group(0), separators, translate), number)
        sign = "-" if stripped.startswith("-") else ""
        whole, point, fraction = stripped.lstrip("-").partition(".")
        if separators:
            first, later, minimum = self._grouping
            if not minimum or len(whole) >= minimum + first:
                whole = _grouped(whole, first, later)
            grouping, decimal = self.separators if translate else (",", ".")
            whole, point = whole.replace(",", grouping), decimal if point else ""
        text = sign + whole + point + fraction
        return self.local_digits(text).replace("-", "\u2212") if translate else text

    def parse_formatted(self, text: str) -> str:
        """``{{formatnum:...|R}}``: a number the language wrote, back in plain ASCII (Language::parseFormattedNumber)."""
        if self.digits:
            text = text.translate({ord(v): chr(k) for k, v in self.digits.items()})
        grouping, decimal = self.separators
        text = text.replace(grouping, "").replace(decimal, ".") if (grouping, decimal) != (",", ".") \
            else text.replace(",", "")
        return text.replace("\u2212", "-")

    @cached_property
    def plural_rules(self) -> list[str] | None:
        """CLDR's plural conditions in order ("other" left out), or None without data."""
        rules = self._first("plural")
        return list(rules) if rules is not None else None

    def grammar(self, case: str, word: str) -> str:
        """``word`` in grammatical ``case`` (``{{GRAMMAR:genitive|...}}``), by MediaWiki's rules for the language.

        As Language::convertGrammar with the rules of
        ``languages/data/grammarTransformations``: the first rule whose pattern
        matches rewrites the word; no rule, or an unknown case, leaves it as it is.
        The rules are the language's own (MediaWiki does not follow fallbacks here).
        """
        rules = self.data.raw(self.code).get("grammar") or {}
        forms = rules.get(case)
        if isinstance(forms, str):  # an alias of another case
            forms = rules.get(forms)
        for pattern, replacement in forms or []:
            compiled = _pcre(pattern)
            if compiled is not None and compiled.search(word):
                return compiled.sub(_php_replacement(replacement), word)
        return word

    def month_name(self, month: int) -> str | None:
        """The name of month 1-12."""
        return self.message(MONTH_KEYS[month - 1])

    def month_genitive(self, month: int) -> str | None:
        """The genitive form of month 1-12 (``xg``), as Russian or Armenian dates use it."""
        return self.message(MONTH_KEYS[month - 1].replace("_long", "") + "-gen")

    def month_abbrev(self, month: int) -> str | None:
        """The short name of month 1-12."""
        return self.message(MONTH_ABBREV_KEYS[month - 1])

    def day_name(self, weekday: int, short: bool = False) -> str | None:
        """The name of a weekday, 0 = Sunday as PHP's ``w``."""
        return self.message((DAY_ABBREV_KEYS if short else DAY_KEYS)[weekday % 7])

    def date_format(self, preference: str, kind: str = "date") -> str | None:
        """The PHP date format of ``preference`` (``dmy``, ``mdy``, ``ymd``, ``ISO 8601``, ``default``) and kind."""
        formats = {}
        for code in reversed(self.chain):
            formats.update(self.data.raw(code).get("dateFormats") or {})
        if preference in ("", "default"):
            preference = (self._first("defaultDateFormat") or "dmy").split(" or ")[0]
        return formats.get(f"{preference} {kind}")


_NUMBER = re.compile(r"-?(?:\d+|(?=\.\d))(?:\.\d*)?")


@lru_cache(maxsize=256)
def _pcre(pattern: str) -> re.Pattern | None:
    """A grammar rule's PCRE pattern as Python's (the rules use the common subset); None when it does not compile."""
    try:
        return re.compile(pattern)
    except re.error:
        _LOG.warning("grammar rule pattern not understood: %r", pattern)
        return None


def _php_replacement(replacement: str) -> str:
    """preg_replace's ``$1`` / ``${1}`` / ``\\1`` references written for re.sub."""
    escaped = replacement.replace("\\", "\\\\")
    return re.sub(r"\$\{?(\d+)\}?|\\\\(\d+)", lambda m: f"\\g<{m.group(1) or m.group(2)}>", escaped)


def _grouped(whole: str, first: int, later: int) -> str:
    if len(whole) <= first:
        return whole
    head, tail = whole[:-first], whole[-first:]
    groups = [tail]
    while len(head) > later:
        groups.insert(0, head[-later:])
        head = head[:-later]
    return ",".join([head, *groups] if head else groups)


def _fold(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


_CURRENT: LanguageData | None = None
_CURRENT_LOCK = threading.Lock()


def current() -> LanguageData:
    """The process's data file (``WIKIPEER_LANGDATA`` or the one next to this module), opened once."""
    global _CURRENT
    if _CURRENT is None or (not _CURRENT.available and _CURRENT.path.is_file()):
        # (a file built after the process started, by `make langdata`, is taken up without a restart)
        with _CURRENT_LOCK:
            if _CURRENT is None or (not _CURRENT.available and _CURRENT.path.is_file()):
                _CURRENT = LanguageData(Path(os.environ.get("WIKIPEER_LANGDATA") or DEFAULT_PATH))
    return _CURRENT


def language(code: str) -> Language:
    """The language ``code`` from the process's data file."""
    return current().language(code)
