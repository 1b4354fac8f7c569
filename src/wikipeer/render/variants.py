"""Language-variant markup (``-{...}-``) shown as MediaWiki shows it with conversion off.

Conversion between variants (zh-hans/zh-hant, sr-ec/sr-el...) is not built:
a page is shown in the wiki's main variant, its text as written. What the
markup itself asks for is still honoured, so a reader never sees the markers:
``-{text}-`` and ``-{R|text}-`` show the text; ``-{zh-cn:A;zh-tw:B}-`` shows
the text for the wiki's language, else its variant fallbacks' (MediaWiki's
order, from the language data), else the first; rules that only define a
conversion (``H``, ``-``, ``T`` flags) show nothing. Only languages with
variants read the markup (on an English wiki ``-{x}-`` stays text, as in
MediaWiki). docs/rendering.md says so.
"""

from __future__ import annotations

import re

from wikipeer.render import language_data

# MediaWiki 1.39's languages with a LanguageConverter (LanguageConverterFactory)
VARIANT_LANGUAGES = frozenset({"zh", "sr", "gan", "iu", "kk", "ku", "shi", "tg", "uz", "crh", "ban", "tly"})
_INNERMOST = re.compile(r"-\{((?:(?!-\{|\}-).)*)\}-", re.S)
_RULE = re.compile(r"\s*([a-z]{2,3}(?:-[a-z0-9]+)*)\s*:(.*)", re.S | re.I)
_FLAGS = frozenset("ATRDHN-")
_BCP47 = {"zh-hans-cn": "zh-cn", "zh-hant-tw": "zh-tw", "zh-hant-hk": "zh-hk", "zh-hans-sg": "zh-sg",
          "zh-hans-my": "zh-my", "zh-hant-mo": "zh-mo", "sr-cyrl": "sr-ec", "sr-latn": "sr-el"}


def has_variants(lang: str) -> bool:
    """Whether MediaWiki reads ``-{...}-`` on a wiki in ``lang``."""
    return lang.split("-")[0].lower() in VARIANT_LANGUAGES


def unconvert(text: str, lang: str) -> str:
    """``text`` with each ``-{...}-`` replaced by what it shows in the main variant (innermost first)."""
    if "-{" not in text or not has_variants(lang):
        return text
    chain = language_data.language(lang).chain
    previous = None
    while previous != text:
        previous = text
        text = _INNERMOST.sub(lambda m: _shown(m.group(1), lang.lower(), chain), text)
    return text


def _shown(body: str, lang: str, chain: list[str]) -> str:
    flags: set[str] = set()
    head, bar, rest = body.partition("|")
    if bar:  # as ConverterRule::parseFlags: what precedes the first bar is flags, valid or not
        flags = {f.strip() for f in head.split(";") if f.strip() in _FLAGS or _is_code(f)}
        body = rest
    if flags & {"H", "-", "T"}:
        return ""
    if "R" in flags or any(_is_code(f) for f in flags):
        return body  # raw, or a filter naming the variants it is for: the text as written
    if "N" in flags:
        return language_data.language(lang).message(f"variantname-{body.strip().lower()}") or body
    rules = _rules(body)
    if not rules:
        return body
    for code in [lang, *chain]:
        if code in rules:
            return rules[code]
    return next(iter(rules.values()))


def _is_code(flag: str) -> bool:
    return bool(re.fullmatch(r"[a-z]{2,3}(?:-[a-z0-9]+)+|[a-z]{2,3}", flag.strip(), re.I)) and len(flag.strip()) > 1


def _rules(body: str) -> dict[str, str]:
    """``code:text`` rules (``from=>code:to``: the ``to``), codes in MediaWiki's lower-case form."""
    rules: dict[str, str] = {}
    for piece in body.split(";"):
        one_way = piece.split("=>", 1)[1] if "=>" in piece else piece
        m = _RULE.fullmatch(one_way)
        if m is None:
            if piece.strip():
                return {}  # not all rules: plain text that happens to hold a semicolon
            continue
        code = m.group(1).lower()
        text = m.group(2).strip()
        if text:
            rules.setdefault(_BCP47.get(code, code), text)
    return rules
