"""Dates as MediaWiki writes them: ``{{#time:}}``'s format codes and the dates it reads.

Pure: "now" is whatever the caller passes (the rendered revision's time), so a
rendering never depends on the clock. Month and day names and digits are the
wiki's language's (render/language_data.py), English's when it has none.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wikipeer.render import language_data
from wikipeer.render.language_data import Language

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # datetime.weekday()
_MONTH_NUMBER = {name.lower(): k + 1 for k, name in enumerate(MONTHS)}
_MONTH_NUMBER.update({name[:3].lower(): k + 1 for k, name in enumerate(MONTHS)})
_MONTH = "(" + "|".join(sorted(_MONTH_NUMBER, key=len, reverse=True)) + r")\.?"


class BadDate(ValueError):
    """A date ``{{#time:}}`` cannot read ("Error: Invalid time.")."""


def at(seconds: int) -> datetime:
    """A time in seconds since 1970 as a UTC datetime."""
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)


_CLOCK = r"(?:[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_ZONE = r"\s*(?:Z|UTC|GMT|([+-]\d{2}):?(\d{2}))?"
_DATE_TIME = ("H", "M", "S", "zh", "zm")
_FORMS: list[tuple[re.Pattern, tuple[str, ...]]] = [
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _CLOCK + _ZONE, re.I), ("y", "m", "d", *_DATE_TIME)),
    (re.compile(r"(\d{1,2})\s+" + _MONTH + r",?\s+(\d{1,4})" + _CLOCK + _ZONE, re.I), ("d", "mon", "y", *_DATE_TIME)),
    (re.compile(_MONTH + r"\s+(\d{1,2}),?\s+(\d{1,4})" + _CLOCK + _ZONE, re.I), ("mon", "d", "y", *_DATE_TIME)),
    (re.compile(_MONTH + r"\s+(\d{4})", re.I), ("mon", "y")),
    (re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})"), ("y", "m", "d", "H", "M", "S")),
    (re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?" + _ZONE, re.I), _DATE_TIME),
]


def parse_date(text: str, now: datetime) -> datetime:
    """The moment ``text`` names, read as PHP's strtotime reads the common forms (UTC unless a zone is given)."""
    text = " ".join(text.split())
    lowered = text.lower()
    if lowered in ("", "now"):
        return now
    if lowered == "today":
        return now.replace(hour=0, minute=0, second=0)
    if re.fullmatch(r"@-?\d+", text):
        return at(int(text[1:]))
    zone = None
    head, _, last = text.rpartition(" ")
    if "/" in last and head:  # a named zone (Europe/Paris): the time is that zone's
        try:
            zone = ZoneInfo(last)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadDate(text) from None
        text = head
    for pattern, names in _FORMS:
        m = pattern.fullmatch(text)
        if m is not None:
            when = _built(dict(zip(names, m.groups())), now)
            if zone is not None:
                when = when.replace(tzinfo=zone).astimezone(timezone.utc)
            return when
    raise BadDate(text)


def _built(parts: dict[str, str | None], now: datetime) -> datetime:
    month = _MONTH_NUMBER[parts["mon"].lower()] if parts.get("mon") else int(parts.get("m") or now.month)
    day = int(parts["d"]) if parts.get("d") else (1 if parts.get("mon") else now.day)
    year = int(parts["y"]) if parts.get("y") else now.year
    try:
        when = datetime(year, month, day, int(parts.get("H") or 0), int(parts.get("M") or 0),
                        int(parts.get("S") or 0), tzinfo=timezone.utc)
    except ValueError as exc:
        raise BadDate(str(exc)) from None
    if parts.get("zh"):
        sign = -1 if parts["zh"].startswith("-") else 1
        when -= sign * timedelta(hours=abs(int(parts["zh"])), minutes=int(parts["zm"] or 0))
    return when


def _iso_week(when: datetime) -> tuple[int, int]:
    year, week, _ = when.isocalendar()
    return year, week


_CODES = {
    "Y": lambda t: str(t.year), "y": lambda t: f"{t.year % 100:02d}",
    "L": lambda t: "1" if (t.year % 4 == 0 and t.year % 100 != 0) or t.year % 400 == 0 else "0",
    "o": lambda t: str(_iso_week(t)[0]), "n": lambda t: str(t.month), "m": lambda t: f"{t.month:02d}",
    "M": lambda t: MONTHS[t.month - 1][:3], "F": lambda t: MONTHS[t.month - 1], "j": lambda t: str(t.day),
    "d": lambda t: f"{t.day:02d}", "z": lambda t: str(t.timetuple().tm_yday - 1),
    "D": lambda t: DAYS[t.weekday()][:3], "l": lambda t: DAYS[t.weekday()], "N": lambda t: str(t.isoweekday()),
    "w": lambda t: str(t.isoweekday() % 7), "a": lambda t: "am" if t.hour < 12 else "pm",
    "A": lambda t: "AM" if t.hour < 12 else "PM", "g": lambda t: str((t.hour + 11) % 12 + 1),
    "h": lambda t: f"{(t.hour + 11) % 12 + 1:02d}", "G": lambda t: str(t.hour), "H": lambda t: f"{t.hour:02d}",
    "i": lambda t: f"{t.minute:02d}", "s": lambda t: f"{t.second:02d}",
    "U": lambda t: str(int((t - at(0)).total_seconds())), "W": lambda t: f"{_iso_week(t)[1]:02d}",
    "t": lambda t: str(((t.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day),
    "c": lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
    "r": lambda t: f"{DAYS[t.weekday()][:3]}, {t.day:02d} {MONTHS[t.month - 1][:3]} {t.year} {t:%H:%M:%S} +0000",
    "e": lambda t: "UTC", "T": lambda t: "UTC", "I": lambda t: "0", "O": lambda t: "+0000",
    "P": lambda t: "+00:00", "Z": lambda t: "0",
}
_TWO = {"xg": lambda t: MONTHS[t.month - 1]}  # genitive month name: the same in English


_NAMED_CODES = frozenset("MFDl")
_NUMERIC_CODES = frozenset("YyLonmjdzNwgGhHisUWt")


def _local_name(code: str, when: datetime, language: Language) -> str | None:
    """A month or day name in the wiki's language (None: English's)."""
    weekday = when.isoweekday() % 7  # 0 = Sunday, as the language data counts
    if code == "F":
        return language.month_name(when.month)
    if code == "xg":
        return language.month_genitive(when.month)
    if code == "M":
        return language.month_abbrev(when.month)
    return language.day_name(weekday, short=code == "D")


def format_time(fmt: str, when: datetime, lang: str = "en") -> str:
    """``when`` written with MediaWiki's ``#time`` format codes (Language::sprintfDate), in ``lang``.

    Month and day names come from the language's messages; numbers are
    written in its digits unless ``xn`` (the next code) or ``xN`` (until the
    next ``xN``) asks for raw digits.
    """
    language = language_data.language(lang) if lang != "en" else None
    out: list[str] = []
    k = 0
    raw_next = raw_all = False
    while k < len(fmt):
        ch = fmt[k]
        if fmt.startswith("xn", k):
            raw_next, k = True, k + 2
            continue
        if fmt.startswith("xN", k):
            raw_all, k = not raw_all, k + 2
            continue
        two = _TWO.get(fmt[k:k + 2])
        if two is not None:
            local = _local_name("xg", when, language) if language is not None else None
            out.append(local or two(when))
            k += 2
        elif ch == "\\" and k + 1 < len(fmt):
            out.append(fmt[k + 1])
            k += 2
        elif ch == '"':
            end = fmt.find('"', k + 1)
            if end < 0:
                out.append('"')
                k += 1
            else:
                out.append(fmt[k + 1:end])
                k = end + 1
        else:
            code = _CODES.get(ch)
            text = code(when) if code else ch
            if language is not None and ch in _NAMED_CODES:
                text = _local_name(ch, when, language) or text
            elif language is not None and ch in _NUMERIC_CODES and not (raw_next or raw_all):
                text = language.local_digits(text)
            raw_next = raw_next and code is None
            out.append(text)
            k += 1
    return "".join(out)


_ISO_DATE = re.compile(r"(-?\d{4})-(\d{2})-(\d{2})")
_DMY = re.compile(r"(\d{1,2})\s+" + _MONTH + r"(?:\s+(\d{1,4}))?", re.I)
_MDY = re.compile(_MONTH + r"\s+(\d{1,2})(?:,?\s+(\d{1,4}))?", re.I)
_YMD = re.compile(r"(\d{1,4})\s+" + _MONTH + r"\s+(\d{1,2})", re.I)


def _local_month_names(lang: str) -> dict[str, str]:
    """The language's month names (full and short, lower case) -> an English name the patterns read."""
    if lang == "en":
        return {}
    language = language_data.language(lang)
    found: dict[str, str] = {}
    for number, english in enumerate(MONTHS, 1):
        for local in (language.month_name(number), language.month_genitive(number), language.month_abbrev(number)):
            if local and local.lower() not in _MONTH_NUMBER:
                found[local.lower()] = english
    return found


def _date_parts(text: str, lang: str = "en") -> tuple[str | None, int, int] | None:
    """(year or None, month, day) of a date ``#formatdate`` reads (English or ``lang``'s month names), or None."""
    local = _local_month_names(lang)
    if local:
        names = "|".join(sorted(map(re.escape, local), key=len, reverse=True))
        pattern = re.compile(rf"(?<!\w)(?:{names})(?!\w)", re.I)
        text = pattern.sub(lambda m: local[m.group(0).lower()], text)
    m = _ISO_DATE.fullmatch(text)
    if m:
        return m.group(1), int(m.group(2)), int(m.group(3))
    m = _DMY.fullmatch(text)
    if m:
        return m.group(3), _MONTH_NUMBER[m.group(2).lower()], int(m.group(1))
    m = _MDY.fullmatch(text)
    if m:
        return m.group(3), _MONTH_NUMBER[m.group(1).lower()], int(m.group(2))
    m = _YMD.fullmatch(text)
    if m:
        return m.group(1), _MONTH_NUMBER[m.group(2).lower()], int(m.group(3))
    return None


def format_date(text: str, preference: str, lang: str = "en") -> str | None:
    """``{{#formatdate:}}``: the date in the preferred order (dmy, mdy, ymd, ISO 8601; else as written),
    as HTML with its ISO form in a title, or None when ``text`` is no date DateFormatter reads.
    Month names are ``lang``'s (read in English too)."""
    text = text.strip()
    parts = _date_parts(text, lang)
    if parts is None:
        return None
    year, month, day = parts
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    name = (language_data.language(lang).month_name(month) if lang != "en" else None) or MONTHS[month - 1]
    iso_year = year if year and _ISO_DATE.fullmatch(text) else (f"{int(year):04d}" if year else "")
    iso = (f"{iso_year}-" if year else "") + f"{month:02d}-{day:02d}"
    if year and _ISO_DATE.fullmatch(text):  # an ISO year as a number: 0001 is 1, 0000 is 1 BC (DateFormatter)
        year = str(int(year)) if int(year) > 0 else f"{1 - int(year)} BC"
    preference = preference.strip().lower()
    if preference == "dmy":
        shown = f"{day} {name}" + (f" {year}" if year else "")
    elif preference == "mdy":
        shown = f"{name} {day}" + (f", {year}" if year else "")
    elif preference == "ymd" and year:
        shown = f"{year} {name} {day}"
    elif preference in ("iso 8601", "iso8601", "iso") and year:
        shown = iso
    else:
        shown = text
    return f'<span class="mw-formatted-date" title="{iso}">{shown}</span>'
