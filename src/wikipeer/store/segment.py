"""Cutting text into what the two search indexes hold.

Scripts written without spaces (Han, kana, Hangul, Thai...) become
overlapping character bigrams plus each run's last character, in the side
index, so a word of any length is found wherever it occurs (a longer one as
the AND of its bigrams, checked against the text); elsewhere only words of
one or two characters are kept there, since the trigram index finds
everything longer. The trigram index gets the text without those runs
(``spaced_text``): their trigrams would repeat what the bigrams say, and
were most of the index's size and build time for Japanese (docs/search.md).
The output must never change for the same input: the indexes are
contentless, and removing a page means repeating exactly what was indexed
(``SEGMENT_VERSION`` marks a change that needs a rebuild).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SEGMENT_VERSION = "2"

UNSPACED = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul Jamo
    "\u1780-\u17ff"  # Khmer
    "\u3005\u3006\u3007"  # 々 〆 〇
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf\u4e00-\u9fff"  # CJK ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # halfwidth Katakana
    "\U00020000-\U0003134f"  # CJK extensions B..G
)
_UNSPACED_RE = re.compile(f"[{UNSPACED}]")
_UNSPACED_RUN_RE = re.compile(f"[{UNSPACED}]+")


@lru_cache(maxsize=1)
def _token_res() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Three patterns: each bigram of an unspaced run, each run's last character, and each word of one or
    two letters, digits, marks or private-use characters.

    Python's \\w leaves out combining marks, which would cut Devanagari words
    at their vowel signs, so the class is built from Unicode categories.
    """
    ranges: list[list[int]] = []
    for cp in range(0x10000):
        cat = unicodedata.category(chr(cp))
        if (cat[0] in "LNM" or cat == "Co") and not _UNSPACED_RE.match(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    body = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    word = body + "\\U00010000-\\U0001ffff\\U00031350-\\U0010ffff"
    # Only words of one or two characters are wanted: the lookarounds let the
    # regex engine, not Python, pass over the longer ones. Bigrams overlap, so
    # they are caught by a lookahead at each place.
    return (re.compile(f"(?=([{UNSPACED}]{{2}}))"), re.compile(f"[{UNSPACED}](?![{UNSPACED}])"),
            re.compile(f"(?<![{word}])[{word}]{{1,2}}(?![{word}])"))


def fold(text: str) -> str:
    """``text`` as terms are matched in it: NFC, lower case."""
    # Most text is NFC already, and checking is much cheaper than normalising.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text.lower()


def fold_page(title: str, text: str) -> str:
    """A page's title and text folded, a line apart: what a query's terms are looked for in."""
    return fold(title) + "\n" + fold(text)


def is_unspaced(term: str) -> bool:
    """True when every character of ``term`` is from a script written without spaces."""
    return bool(term) and all(_UNSPACED_RE.match(ch) for ch in term)


def short_tokens(text: str) -> str:
    """Space-separated short tokens of lower-cased ``text``: the bigrams of its unspaced runs, each run's
    last character, then its short words (each kind in text order; a detail=none index keeps no order)."""
    text = text.replace("\u200c", "").replace("\u200d", "")
    bigrams, lasts, words = _token_res()
    if _UNSPACED_RE.search(text) is None:  # most texts: one quick pass instead of two slow ones
        return " ".join(words.findall(text))
    return " ".join(bigrams.findall(text) + lasts.findall(text) + words.findall(text))


def spaced_text(text: str) -> str:
    """``text`` with each run of unspaced-script characters replaced by a space (the trigram index's input)."""
    return _UNSPACED_RUN_RE.sub(" ", text)


def unspaced_runs(term: str) -> tuple[list[str], list[str]]:
    """A search term cut into its runs of unspaced-script characters and the parts between them."""
    runs = _UNSPACED_RUN_RE.findall(term)
    return runs, [part for part in _UNSPACED_RUN_RE.split(term) if part]
