"""``mw.language``'s Python half: numbers, dates, plural forms and language names.

Numbers (separators, grouping, digits), month and day names and language
names come from MediaWiki's language data (render/language_data.py); the small
tables here stand in when that data is not built. Plural classes are those of
the larger Wikipedias (MediaWiki's CLDR plural rules are not in the data).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from wikipeer.render import language_data, plurals, timefmt
from wikipeer.render.langtags import direction
from wikipeer.render.lua.sandbox import ScriptError

_SEPARATORS = {  # (thousands, decimal)
    "de": (".", ","), "es": (".", ","), "it": (".", ","), "nl": (".", ","), "pt": (".", ","),
    "id": (".", ","), "vi": (".", ","), "tr": (".", ","), "da": (".", ","), "el": (".", ","),
    "fr": ("\u202f", ","), "ru": ("\u00a0", ","), "uk": ("\u00a0", ","), "pl": ("\u00a0", ","),
    "cs": ("\u00a0", ","), "sv": ("\u00a0", ","), "fi": ("\u00a0", ","), "nb": ("\u00a0", ","),
}
NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "uk": "Ukrainian", "pl": "Polish",
    "cs": "Czech", "sv": "Swedish", "fi": "Finnish", "da": "Danish", "nb": "Norwegian Bokmål",
    "el": "Greek", "tr": "Turkish", "ar": "Arabic", "he": "Hebrew", "fa": "Persian",
    "hi": "Hindi", "bn": "Bangla", "mr": "Marathi", "ja": "Japanese", "zh": "Chinese",
    "ko": "Korean", "vi": "Vietnamese", "id": "Indonesian", "hy": "Armenian", "la": "Latin",
    "ur": "Urdu", "ta": "Tamil", "th": "Thai", "hu": "Hungarian", "ro": "Romanian",
    "bg": "Bulgarian", "sr": "Serbian", "hr": "Croatian", "ca": "Catalan", "eo": "Esperanto",
}
AUTONYMS = {
    "en": "English", "de": "Deutsch", "fr": "français", "es": "español", "it": "italiano",
    "pt": "português", "nl": "Nederlands", "ru": "русский", "uk": "українська", "pl": "polski",
    "cs": "čeština", "sv": "svenska", "fi": "suomi", "da": "dansk", "el": "Ελληνικά",
    "tr": "Türkçe", "ar": "العربية", "he": "עברית", "fa": "فارسی", "hi": "हिन्दी", "bn": "বাংলা",
    "mr": "मराठी", "ja": "日本語", "zh": "中文", "ko": "한국어", "vi": "Tiếng Việt",
    "id": "Bahasa Indonesia", "hy": "հայերեն", "la": "Latina", "ur": "اردو", "hu": "magyar",
    "ro": "română", "bg": "български", "sr": "српски / srpski", "hr": "hrvatski", "ca": "català",
}
RTL = frozenset({"ar", "he", "fa", "ur", "yi", "dv", "ps", "sd", "ug", "ckb", "arz", "azb", "mzn", "pnb"})
_INVALID_CODE = re.compile(r"[:/\\\x00&<>'\"\[\]{}|~]")


def valid_code(code: str) -> bool:
    """Whether MediaWiki would accept ``code`` as a language code (no title or markup characters)."""
    return bool(code) and not _INVALID_CODE.search(code) and len(code) <= 128


def fallbacks(code: str, strict: bool) -> list[str]:
    """``mw.language.getFallbacksFor``: the language's fallbacks; ``strict`` leaves out an English not named."""
    code = code.strip().lower()
    if code == "en" or not valid_code(code) or not language_data.current().available:
        return [] if code == "en" or not valid_code(code) else ["en"]
    language = language_data.language(code)
    return language.declared[1:] if strict else language.chain[1:]


def is_rtl(code: str) -> bool:
    """Whether the language is written right to left (MediaWiki's data; a short list without it)."""
    return direction(code) == "rtl"


def parse_formatted(code: str, text: str) -> str:
    """``parseFormattedNumber``'s text: the number the language wrote, in plain ASCII."""
    return language_data.language(code.lower()).parse_formatted(text)


def language_name(code: str, in_language: str | None) -> str:
    """A language's name in ``in_language`` (its own name when None), or empty."""
    code = code.lower()
    if in_language is None:
        return language_data.current().autonyms().get(code) or AUTONYMS.get(code) or NAMES.get(code, "")
    return NAMES.get(code, "") if in_language.lower() == "en" else AUTONYMS.get(code, "")


def language_names(in_language: str | None) -> dict[str, str]:
    """Code -> name of the languages known here."""
    if in_language and in_language.lower() == "en":
        return dict(NAMES)
    return {**AUTONYMS, **language_data.current().autonyms()}


def format_num(code: str, number: str, plain: bool) -> str:
    """A number as the language writes it (its grouping, separators and digits)."""
    if language_data.current().available:
        return language_data.language(code).format_num(number, separators=not plain)
    thousands, point = _SEPARATORS.get(code, (",", "."))
    m = re.fullmatch(r"(-?)(\d+)(\.\d+)?", number.strip())
    if m is None:
        return number
    sign, whole, fraction = m.group(1), m.group(2), m.group(3) or ""
    if not plain and len(whole) > 3:
        whole = f"{int(whole):,}".replace(",", thousands)
    sign = "\u2212" if sign else ""  # MediaWiki writes a minus sign, not a hyphen
    return sign + whole + (point + fraction[1:] if fraction else "")


def plural_index(code: str, n: float, forms: int) -> int:
    """Which of ``forms`` (1-based) a count takes in the language (CLDR's rules from the language data)."""
    rules = language_data.language(code.lower()).plural_rules
    if rules is not None:
        return min(plurals.rule_index(rules, plurals.number_text(repr(float(n)))) + 1, forms)
    if code in ("ru", "uk", "be", "sr", "hr", "bs"):
        if n % 10 == 1 and n % 100 != 11:
            index = 1
        elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            index = 2
        else:
            index = 3
    elif code == "pl":
        index = 1 if n == 1 else 2 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 3
    elif code in ("fr", "pt-br", "hy"):
        index = 1 if n in (0, 1) else 2
    elif code in ("ja", "zh", "ko", "vi", "th", "id"):
        index = 1
    else:
        index = 1 if n == 1 else 2
    return min(index, forms)


def grammar(code: str, case: str, word: str) -> str:
    """``mw.language:grammar``: ``word`` in ``case`` by MediaWiki's grammar rules for the language."""
    return language_data.language(code.lower()).grammar(case, word)


def format_date(code: str, form: str, timestamp: str) -> str:
    """``mw.language:formatDate``: PHP-style date format codes (Language::sprintfDate), names in language
    ``code``; the date read by ``#time``'s reader (render/timefmt.py), relative to the clock's now."""
    try:
        moment = timefmt.parse_date(timestamp, datetime.now(timezone.utc).replace(microsecond=0))
    except timefmt.BadDate:
        raise ScriptError("bad argument #2 to 'formatDate' (not a valid timestamp)") from None
    return timefmt.format_time(form, moment, code if valid_code(code) else "en")


def format_duration(seconds: float) -> str:
    """Seconds as English words (``2 hours and 5 minutes``)."""
    parts = []
    remaining = int(seconds)
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    if not parts:
        return "0 seconds"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
