"""Cutting text into the short tokens the side search index holds.

Scripts written without spaces (Han, kana, Hangul, Thai...) become
overlapping character bigrams plus each run's last character, so a one- or
two-character word is found wherever it occurs; elsewhere only words of one
or two characters are kept, since the trigram index finds everything longer.
The output must never change for the same input: the index is contentless,
and removing a page means repeating exactly what was indexed
(``SEGMENT_VERSION`` marks a change that needs a rebuild).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SEGMENT_VERSION = "1"

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


@lru_cache(maxsize=1)
def _token_re() -> re.Pattern[str]:
    """Unspaced runs, or words of letters, digits, marks and private use.

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
    # regex engine, not Python, pass over the longer ones.
    return re.compile(f"([{UNSPACED}]+)|(?<![{word}])([{word}]{{1,2}})(?![{word}])")


def is_unspaced(term: str) -> bool:
    """True when every character of ``term`` is from a script written without spaces."""
    return bool(term) and all(_UNSPACED_RE.match(ch) for ch in term)


def short_tokens(text: str) -> str:
    """Space-separated short tokens of lower-cased ``text``."""
    out: list[str] = []
    for run, word in _token_re().findall(text.replace("\u200c", "").replace("\u200d", "")):
        if run:
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
            out.append(run[-1])
        else:
            out.append(word)
    return " ".join(out)
