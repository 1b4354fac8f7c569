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


def in_zone(when: datetime, zone: str) -> datetime:
    """``when`` on the clock of ``zone`` (an IANA name); UTC when ``zone`` is empty or unknown."""
    try:
        return when.astimezone(ZoneInfo(zone)) if zone else when
    except (ZoneInfoNotFoundError, ValueError):
        return when


_CLOCK = r"(?:[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_ZONE = r"\s*(?:Z|UTC|GMT|([+-]\d{2}):?(\d{2}))?"
_DATE_TIME = ("H", "M", "S", "zh", "zm")
_FORMS: list[tuple[re.Pattern, tuple[str, ...]]] = [
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _CLOCK + _ZONE, re.I), ("y", "m", "d", *_DATE_TIME)),
    (re.compile(r"(\d{1,2})\s+" + _MONTH + r",?\s+(\d{1,4})" + _CLOCK + _ZONE, re.I), ("d", "mon", "y", *_DATE_TIME)),
    (re.compile(_MONTH + r"\s+(\d{1,2}),?\s+(\d{1,4})" + _CLOCK + _ZONE, re.I), ("mon", "d", "y", *_DATE_TIME)),
    (re.compile(_MONTH + r"\s+(\d{4})", re.I), ("mon", "y")),
    (re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})"), ("y", "m", "d", "H", "M", "S")),
    (re.compile(r"(\d{4})-(\d{1,2})"), ("y", "m")),
    (re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?" + _ZONE, re.I), _DATE_TIME),
]


_RELATIVE = re.compile(r"\s*([+-])?\s*(\d+)\s*(second|sec|minute|min|hour|day|week|fortnight|month|year)s?\s*\Z",
                       re.I)
_UNIT_SECONDS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
                 "fortnight": 14 * 86400}


def parse_date(text: str, now: datetime) -> datetime:
    """The moment ``text`` names, read as PHP's strtotime reads the common forms (UTC unless a zone is given).

    Relative parts at the end (``+1 day``, ``-2 weeks``, ``2020-01-01 +1 month``) move the date as PHP
    does: a month added to 31 January is 2 or 3 March, a day past the month's end runs into the next
    (``2020-02-30`` is 1 March). A bare four-digit number is a time of day when it reads as one
    (``2020`` is 20:20 today), else a year. The one reader of ``#time`` and ``mw.language:formatDate``.
    """
    text = " ".join(text.split())
    relative: list[re.Match] = []
    while (m := _RELATIVE.search(text)) is not None and (m.start() == 0 or text[m.start() - 1] == " "
                                                          or m.group(1)):
        relative.insert(0, m)
        text = text[:m.start()].strip()
    when = _absolute(text, now)
    for m in relative:
        when = _moved(when, int(m.group(2)) * (-1 if m.group(1) == "-" else 1), m.group(3).lower())
    return when


def _moved(when: datetime, amount: int, unit: str) -> datetime:
    """``when`` moved by ``amount`` units; months and years keep the day and overflow as PHP's do."""
    if unit in ("month", "year"):
        months = when.month - 1 + amount * (12 if unit == "year" else 1)
        return _overflowing(when.year + months // 12, months % 12 + 1, when.day, when)
    return when + timedelta(seconds=amount * _UNIT_SECONDS[unit])


def _overflowing(year: int, month: int, day: int, clock: datetime) -> datetime:
    """Day ``day`` (1-31) of the month, run on into the next months as PHP runs it (30 February is 1 March)."""
    try:
        first = datetime(year, month, 1, clock.hour, clock.minute, clock.second, tzinfo=clock.tzinfo)
    except ValueError as exc:
        raise BadDate(str(exc)) from None
    return first + timedelta(days=day - 1)


def _absolute(text: str, now: datetime) -> datetime:
    lowered = text.lower()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if lowered in ("", "now"):
        return now
    if lowered in ("today", "midnight"):
        return midnight
    if lowered in ("tomorrow", "yesterday"):
        return midnight + timedelta(days=1 if lowered == "tomorrow" else -1)
    if re.fullmatch(r"@-?\d+", text):
        return at(int(text[1:]))
    m = re.fullmatch(r"(\d{2})(\d{2})", text)
    if m is not None:  # PHP reads four digits as HHMM when they can be one, else as a year
        if int(m.group(1)) <= 24 and int(m.group(2)) < 60:
            return midnight + timedelta(hours=int(m.group(1)), minutes=int(m.group(2)))
        return _overflowing(int(text), now.month, now.day, now)
    m = re.fullmatch(r"(\d{1,2}):(\d{2}) (\d{4})", text)
    if m is not None:  # a time then a year: that year on today's month and day (#time's reading of "2020")
        day = _overflowing(int(m.group(3)), now.month, now.day, midnight)
        return day + timedelta(hours=int(m.group(1)), minutes=int(m.group(2)))
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
    day = int(parts["d"]) if parts.get("d") else (1 if parts.get("mon") or parts.get("m") else now.day)
    year = int(parts["y"]) if parts.get("y") else now.year
    hour, minute, second = int(parts.get("H") or 0), int(parts.get("M") or 0), int(parts.get("S") or 0)
    if not (1 <= month <= 12 and 0 <= day <= 31 and hour <= 24 and minute < 60 and second < 60):
        raise BadDate(f"{year}-{month}-{day} {hour}:{minute}:{second}")
    when = _overflowing(year, month, day, datetime(2000, 1, 1, tzinfo=timezone.utc))
    when += timedelta(hours=hour, minutes=minute, seconds=second)
    if parts.get("zh"):
        sign = -1 if parts["zh"].startswith("-") else 1
        when -= sign * timedelta(hours=abs(int(parts["zh"])), minutes=int(parts["zm"] or 0))
    return when


def _offset(when: datetime, colon: str = "") -> str:
    """The zone's offset from UTC, ``+0100`` (``+01:00`` with a colon)."""
    minutes = int(when.utcoffset().total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{colon}{abs(minutes) % 60:02d}"


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
    "U": lambda t: str(int(t.timestamp())), "W": lambda t: f"{_iso_week(t)[1]:02d}",
    "t": lambda t: str(((t.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day),
    "c": lambda t: t.strftime("%Y-%m-%dT%H:%M:%S") + _offset(t, ":"),
    "r": lambda t: f"{DAYS[t.weekday()][:3]}, {t.day:02d} {MONTHS[t.month - 1][:3]} {t.year} {t:%H:%M:%S} {_offset(t)}",
    "e": lambda t: getattr(t.tzinfo, "key", "UTC"), "T": lambda t: t.tzname() or "UTC",
    "I": lambda t: "1" if t.dst() else "0", "O": _offset, "P": lambda t: _offset(t, ":"),
    "Z": lambda t: str(int(t.utcoffset().total_seconds())),
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


# The calendars' three-letter codes (xiY, xjn...): their third letter is read with them; we write none of
# those calendars, so such a code writes that letter, as sprintfDate writes any code it does not know.
_CALENDARS = ("xi", "xj", "xk", "xm", "xo", "xt")


def format_time(fmt: str, when: datetime, lang: str = "en") -> str:
    """``when`` written with MediaWiki's ``#time`` format codes (Language::sprintfDate), in ``lang``.

    Month and day names come from the language's messages; numbers are
    written in its digits unless ``xn`` (the next number) or ``xN`` (until the
    next ``xN``) asks for raw digits, ``xr`` for Roman and ``xh`` for Hebrew
    numerals (the next number); ``xx`` is a literal ``x``; an ``x`` code
    sprintfDate does not know writes its second letter.
    """
    language = language_data.language(lang) if lang != "en" else None
    out: list[str] = []
    k = 0
    raw_next = raw_all = roman = hebrew = False
    while k < len(fmt):
        ch = fmt[k]
        if ch == "x" and k + 1 < len(fmt):
            code = fmt[k:k + 2]
            if code in _CALENDARS and k + 2 < len(fmt):
                code = fmt[k:k + 3]
            k += len(code)
            if code == "xn":
                raw_next = True
            elif code == "xN":
                raw_all = not raw_all
            elif code == "xr":
                roman = True
            elif code == "xh":
                hebrew = True
            elif code == "xx":
                out.append("x")
            elif code == "xg":
                local = _local_name("xg", when, language) if language is not None else None
                out.append(local or _TWO["xg"](when))
            else:
                out.append(code[-1])
            continue
        if ch == "\\" and k + 1 < len(fmt):
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
            if ch in _NUMERIC_CODES:
                if raw_next or raw_all:
                    raw_next = False
                elif roman:
                    text, roman = roman_numeral(int(text)), False
                elif hebrew:
                    text, hebrew = hebrew_numeral(int(text)), False
                elif language is not None:
                    text = language.local_digits(text)
            elif language is not None and ch in _NAMED_CODES:
                text = _local_name(ch, when, language) or text
            out.append(text)
            k += 1
    return "".join(out)


_ROMAN = (("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"),
          ("", "X", "XX", "XXX", "XL", "L", "LX", "LXX", "LXXX", "XC", "C"),
          ("", "C", "CC", "CCC", "CD", "D", "DC", "DCC", "DCCC", "CM", "M"),
          tuple("M" * n for n in range(11)))


def roman_numeral(num: int) -> str:
    """``num`` in Roman numerals as Language::romanNumeral writes it (1-10000; others as digits)."""
    if num > 10000 or num <= 0:
        return str(num)
    out = []
    for power in (3, 2, 1, 0):
        if num >= 10 ** power:
            out.append(_ROMAN[power][num // 10 ** power])
        num %= 10 ** power
    return "".join(out)


_HEBREW_UNITS = ("", "א", "ב", "ג", "ד", "ה", "ו", "ז", "ח", "ט", "י")
_HEBREW = (_HEBREW_UNITS,
           ("", "י", "כ", "ל", "מ", "נ", "ס", "ע", "פ", "צ", "ק"),
           ((), ("ק",), ("ר",), ("ש",), ("ת",), ("ת", "ק"), ("ת", "ר"), ("ת", "ש"), ("ת", "ת"), ("ת", "ת", "ק"),
            ("ת", "ת", "ר")),
           _HEBREW_UNITS)
_HEBREW_FINAL = str.maketrans("כמנפצ", "ךםןףץ")


def hebrew_numeral(num: int) -> str:
    """``num`` in Hebrew (gematria) numerals as Language::hebrewNumeral writes it (1-9999; others as digits)."""
    if num > 9999 or num <= 0:
        return str(num)
    if num == 1000:
        return "א' אלף"
    if num % 1000 == 0:
        return _HEBREW_UNITS[num // 1000] + "' אלפים"
    letters: list[str] = []
    for power in (3, 2, 1, 0):
        size = 10 ** power
        if num >= size:
            if num in (15, 16):  # not the letters of God's name: 9+6, 9+7
                letters += [_HEBREW_UNITS[9], _HEBREW_UNITS[num - 9]]
                num = 0
            else:
                digit = _HEBREW[power][num // size]
                letters += list(digit) if isinstance(digit, tuple) else [digit]
                if power == 3:
                    letters.append("'")
        num %= size
    if len(letters) == 1:
        return letters[0] + "'"
    letters[-1] = letters[-1].translate(_HEBREW_FINAL)
    if letters[1] == "'" and len(letters) == 3:
        letters.append("'")
    else:
        letters.insert(len(letters) - 1, '"')
    return "".join(letters)


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
