"""``mw.language``'s Python half: numbers, dates, plural forms and language names.

Numbers (separators, grouping, digits), month and day names and language
names come from MediaWiki's language data (render/language_data.py); the small
tables here stand in when that data is not built. Plural classes are those of
the larger Wikipedias (MediaWiki's CLDR plural rules are not in the data).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from wikipeer.render import language_data, plurals
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
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
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


_RELATIVE = re.compile(r"\s*([+-])?\s*(\d+)\s*(second|sec|minute|min|hour|day|week|fortnight|month|year)s?\b", re.I)
_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14}


def _timestamp(text: str) -> datetime:
    """PHP strtotime's common forms: dates, ``now``/``today``/``tomorrow``, ``+2 days``."""
    text = text.strip()
    relative = []
    while True:
        m = re.search(_RELATIVE.pattern + r"\s*\Z", text, re.I)
        if m is None:
            break
        relative.insert(0, m)
        text = text[:m.start()].strip()
    moment = _absolute(text)
    for m in relative:
        amount = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
        unit = m.group(3).lower()
        if unit in ("month", "year"):
            months = moment.month - 1 + amount * (12 if unit == "year" else 1)
            year, month = moment.year + months // 12, months % 12 + 1
            moment = moment.replace(year=year, month=month, day=min(moment.day, 28))
        else:
            seconds = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600}.get(unit)
            moment += timedelta(seconds=amount * seconds) if seconds else timedelta(days=amount * _UNIT_DAYS[unit])
    return moment


def _absolute(text: str) -> datetime:
    lowered = text.lower()
    now = datetime.now(timezone.utc)
    if lowered in ("", "now"):
        return now
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if lowered in ("today", "midnight"):
        return midnight
    if lowered in ("tomorrow", "yesterday"):
        return midnight + timedelta(days=1 if lowered == "tomorrow" else -1)
    if text.startswith("@") and re.fullmatch(r"@-?\d+", text):
        return datetime.fromtimestamp(int(text[1:]), timezone.utc)
    for pattern in ("%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                    "%Y-%m-%d", "%Y-%m", "%Y", "%d %B %Y", "%B %d, %Y", "%B %d %Y", "%B %Y", "%d %b %Y",
                    "%b %d, %Y"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise ScriptError("bad argument #2 to 'formatDate' (not a valid timestamp)")


def _code(moment: datetime, letter: str) -> str:
    table = {
        "Y": lambda: str(moment.year), "y": lambda: f"{moment.year % 100:02d}",
        "n": lambda: str(moment.month), "m": lambda: f"{moment.month:02d}",
        "M": lambda: MONTHS[moment.month - 1][:3], "F": lambda: MONTHS[moment.month - 1],
        "j": lambda: str(moment.day), "d": lambda: f"{moment.day:02d}",
        "D": lambda: DAYS[moment.weekday()][:3], "l": lambda: DAYS[moment.weekday()],
        "N": lambda: str(moment.isoweekday()), "w": lambda: str(moment.isoweekday() % 7),
        "z": lambda: str(moment.timetuple().tm_yday - 1), "W": lambda: f"{moment.isocalendar()[1]:02d}",
        "t": lambda: str(_month_days(moment)), "L": lambda: "1" if _leap(moment.year) else "0",
        "H": lambda: f"{moment.hour:02d}", "G": lambda: str(moment.hour),
        "h": lambda: f"{(moment.hour % 12) or 12:02d}", "g": lambda: str((moment.hour % 12) or 12),
        "i": lambda: f"{moment.minute:02d}", "s": lambda: f"{moment.second:02d}",
        "A": lambda: "AM" if moment.hour < 12 else "PM", "a": lambda: "am" if moment.hour < 12 else "pm",
        "U": lambda: str(int(moment.timestamp())), "c": lambda: moment.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "r": lambda: moment.strftime("%a, %d %b %Y %H:%M:%S +0000"), "e": lambda: "UTC", "T": lambda: "UTC",
        "O": lambda: "+0000", "P": lambda: "+00:00", "Z": lambda: "0",
    }
    function = table.get(letter)
    return function() if function else letter


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _month_days(moment: datetime) -> int:
    return [31, 29 if _leap(moment.year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][moment.month - 1]


_NUMERIC = frozenset("YynmjdNwzWtLHGhgisU")


def _local(code: str, moment: datetime, letter: str) -> str:
    """A format code's text, month and day names in the language ``code`` (English's when it has none)."""
    language = language_data.language(code)
    weekday = moment.isoweekday() % 7
    local = {
        "F": lambda: language.month_name(moment.month), "M": lambda: language.month_abbrev(moment.month),
        "l": lambda: language.day_name(weekday), "D": lambda: language.day_name(weekday, short=True),
        "xg": lambda: language.month_genitive(moment.month),
    }.get(letter)
    found = local() if local is not None and code != "en" else None
    text = found or _code(moment, "F" if letter == "xg" else letter)
    return language.local_digits(text) if letter in _NUMERIC and code != "en" else text


def format_date(code: str, form: str, timestamp: str) -> str:
    """PHP-style date format codes (``Y-m-d``, ``j F Y``, ``"quoted"``, ``\\x``), names in language ``code``."""
    moment = _timestamp(timestamp)
    out: list[str] = []
    i = 0
    while i < len(form):
        c = form[i]
        if c == "\\" and i + 1 < len(form):
            out.append(form[i + 1])
            i += 2
        elif c == '"':
            end = form.find('"', i + 1)
            end = len(form) if end < 0 else end
            out.append(form[i + 1:end])
            i = end + 1
        elif c == "x" and i + 1 < len(form):
            out.append(_local(code, moment, "x" + form[i + 1] if form[i + 1] == "g" else form[i + 1]))
            i += 2
        else:
            out.append(_local(code, moment, c))
            i += 1
    return "".join(out)


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
