"""Side-by-side, word-level diff of two texts of a page, as safe HTML pieces.

Lines are compared first; a replaced line is then compared with its
counterpart word by word, so the reader sees which words changed. Every piece
of page text is HTML-escaped here, and the only markup added is
``<del class="diffchange">`` (left) and ``<ins class="diffchange">`` (right),
so a template may insert ``DiffRow.left``/``DiffRow.right`` without escaping.

Big pages stay cheap: lines are matched by ``policy.merge.line_opcodes``
(common ends set aside first, unique lines as anchors on huge texts), and
word-level marks give way to whole-line marks when a line, or all the
replaced lines of a diff together, are too big to compare token by token.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from wikipeer.policy.merge import common_ends, line_opcodes
from wikipeer.store.segment import UNSPACED

CONTEXT, CHANGE, ADD, DELETE, FOLD = "context", "change", "add", "delete", "fold"

# Token pairs (len(old tokens) * len(new tokens), about what difflib's cost
# grows with) above which one line's changed part is marked as a whole rather
# than per word; and the most one diff spends on word marks (some 10 million
# pairs a second): past it, the remaining changed lines are marked whole.
WORD_PAIRS_MAX = 250_000
WORD_PAIRS_BUDGET = 20_000_000
# How far to look for a token boundary next to a line's common start or end.
BOUNDARY_SCAN = 2_000

_UNSPACED_CHAR = re.compile(f"[{UNSPACED}]")

DEL_OPEN, DEL_CLOSE = '<del class="diffchange">', "</del>"
INS_OPEN, INS_CLOSE = '<ins class="diffchange">', "</ins>"


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of the side-by-side table; ``left``/``right`` are safe HTML.

    ``kind`` is "context", "change", "add", "delete" or "fold". Line numbers
    are 1-based and None on the side that has no line; a "fold" row stands
    for unchanged lines left out and carries the first left-out line numbers.
    """

    kind: str
    left_no: int | None
    right_no: int | None
    left: str
    right: str


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` split on LF only; "" has no lines.

    Only LF: str.splitlines also breaks on U+2028, form feeds and the like,
    which are ordinary characters in a wiki text. A final LF yields a last
    empty line, so adding or removing it shows as a change.
    """
    return text.split("\n") if text else []


@lru_cache(maxsize=1)
def _token_re() -> re.Pattern[str]:
    """Tokens: a run of spaces, a run of word characters with their combining
    marks, a character of a script written without spaces with its marks, or
    any other single character.

    Python's \\w leaves out combining marks, which would cut Devanagari words
    at their vowel signs; Han, kana, Thai... are \\w but have no spaces, so
    they go one character at a time or a changed character would mark a
    whole sentence.
    """
    marks = [cp for cp in [*range(0x300, 0x20000), *range(0xE0100, 0xE01F0)] if _is_mark(chr(cp))]
    any_mark = _char_class(marks)
    word_mark = _char_class([cp for cp in marks if not _UNSPACED_CHAR.match(chr(cp))])
    word = f"[^\\W{UNSPACED}]"
    # Spaces first and marks only after a word character: in this order the
    # regex runs about as fast as a plain \\w+|\\s+|.
    return re.compile(f"(?s)\\s+|{word}+(?:[{word_mark}]+{word}*)*|[{UNSPACED}][{any_mark}]*|.")


def _char_class(codepoints: list[int]) -> str:
    """The inside of a regex character class matching sorted ``codepoints``."""
    ranges: list[list[int]] = []
    for cp in codepoints:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
                   for lo, hi in ranges)


def tokens(line: str) -> list[str]:
    """The tokens word-level marks are made of (they join back to ``line``)."""
    return _token_re().findall(line)


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _marked(text: str, open_tag: str, close_tag: str) -> str:
    return f"{open_tag}{_escape(text)}{close_tag}" if text else ""


def _whole_line(old: str, new: str) -> tuple[str, str]:
    return _marked(old, DEL_OPEN, DEL_CLOSE), _marked(new, INS_OPEN, INS_CLOSE)


def word_marks(old: str, new: str) -> tuple[str, str]:
    """Safe HTML of two versions of a line, the words that differ marked."""
    left, right, _ = _word_marks(old, new, WORD_PAIRS_MAX)
    return left, right


def _word_marks(old: str, new: str, max_pairs: int) -> tuple[str, str, int]:
    """word_marks, comparing at most ``max_pairs`` token pairs; also the pairs it compared."""
    start, stop_old, stop_new = _changed_span(old, new)
    prefix, suffix = _escape(old[:start]), _escape(old[stop_old:])
    ta, tb = tokens(old[start:stop_old]), tokens(new[start:stop_new])
    head, tail = common_ends(ta, tb)
    mid_a, mid_b = ta[head:len(ta) - tail], tb[head:len(tb) - tail]
    prefix += _escape("".join(ta[:head]))
    suffix = _escape("".join(ta[len(ta) - tail:])) + suffix
    cost = len(mid_a) * len(mid_b)
    if cost > max_pairs:
        left, right = _whole_line("".join(mid_a), "".join(mid_b))
        return prefix + left + suffix, prefix + right + suffix, 0
    left, right = [prefix], [prefix]
    # autojunk off: spaces are most of a line's tokens and must still match.
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, mid_a, mid_b, autojunk=False).get_opcodes():
        if tag == "equal":
            same = _escape("".join(mid_a[i1:i2]))
            left.append(same)
            right.append(same)
        else:
            left.append(_marked("".join(mid_a[i1:i2]), DEL_OPEN, DEL_CLOSE))
            right.append(_marked("".join(mid_b[j1:j2]), INS_OPEN, INS_CLOSE))
    left.append(suffix)
    right.append(suffix)
    return "".join(left), "".join(right), cost


def _changed_span(old: str, new: str) -> tuple[int, int, int]:
    """Where the part of two lines that may differ starts, and where it ends in each.

    The common start and end are found on characters (slice comparisons run
    in C), then widened to token boundaries, so a 2 MB line with one changed
    word is tokenized only around that word.
    """
    prefix = _common_length(old, new, from_end=False)
    limit = min(len(old), len(new)) - prefix
    suffix = min(_common_length(old, new, from_end=True), limit)
    start = next((k for k in range(prefix - 1, max(prefix - BOUNDARY_SCAN, 0), -1) if _starts_token(old, k)), 0)
    first = len(old) - suffix + 1  # old[first - 1] is the first character of the common end
    stop = next((q for q in range(first, min(first + BOUNDARY_SCAN, len(old))) if _starts_token(old, q)), len(old))
    return start, stop, stop + len(new) - len(old)


def _common_length(a: str, b: str, from_end: bool) -> int:
    """Length of the longest common prefix (or suffix) of ``a`` and ``b``, by bisection."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        same = a[len(a) - mid:] == b[len(b) - mid:] if from_end else a[:mid] == b[:mid]
        lo, hi = (mid, hi) if same else (lo, mid - 1)
    return lo


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what re's \w matches


def _starts_token(text: str, k: int) -> bool:
    """True only when a token of ``text`` starts at ``k``, judging by text[k-1:k+1] alone.

    When unsure it says False: the caller then looks a character further.
    """
    here, before = text[k], text[k - 1]
    if here.isspace() or before.isspace():
        return here.isspace() != before.isspace()
    if _is_mark(here):
        return False
    if _UNSPACED_CHAR.match(here) or not _is_word(here):
        return True  # nothing before takes it in: it starts its own token
    return not (_is_word(before) or _is_mark(before))  # a word run goes on across words and marks


def _equal_rows(a: list[str], i1: int, i2: int, j1: int, first: bool, last: bool, context: int) -> list[DiffRow]:
    """Context rows around changes; the unchanged lines between fold into one row."""
    count = i2 - i1
    before = 0 if first else context  # lines shown after the change above
    after = 0 if last else context  # lines shown before the change below
    if before + after + 1 >= count:  # folding would hide at most one line: show them
        before, after = count, 0
    rows = [DiffRow(CONTEXT, i1 + k + 1, j1 + k + 1, _escape(a[i1 + k]), _escape(a[i1 + k])) for k in range(before)]
    hidden = count - before - after
    if hidden:
        label = f"… {hidden} unchanged line{'s' if hidden != 1 else ''} …"
        rows.append(DiffRow(FOLD, i1 + before + 1, j1 + before + 1, label, label))
    rows += [DiffRow(CONTEXT, i2 - after + k + 1, j1 + count - after + k + 1, _escape(a[i2 - after + k]),
                     _escape(a[i2 - after + k])) for k in range(after)]
    return rows


def _replace_rows(a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int,
                  budget: list[int]) -> list[DiffRow]:
    """Replaced lines paired in order; lines without a partner are deletions or additions.

    ``budget`` holds the token pairs word marks may still compare in this diff.
    """
    pairs = min(i2 - i1, j2 - j1)
    rows = []
    for k in range(pairs):
        left, right, cost = _word_marks(a[i1 + k], b[j1 + k], min(WORD_PAIRS_MAX, budget[0]))
        budget[0] -= cost
        rows.append(DiffRow(CHANGE, i1 + k + 1, j1 + k + 1, left, right))
    rows += _delete_rows(a, i1 + pairs, i2)
    rows += _add_rows(b, j1 + pairs, j2)
    return rows


def _delete_rows(a: list[str], i1: int, i2: int) -> list[DiffRow]:
    return [DiffRow(DELETE, i + 1, None, _escape(a[i]), "") for i in range(i1, i2)]


def _add_rows(b: list[str], j1: int, j2: int) -> list[DiffRow]:
    return [DiffRow(ADD, None, j + 1, "", _escape(b[j])) for j in range(j1, j2)]


def side_by_side(old: str, new: str, context: int = 2) -> list[DiffRow]:
    """Rows of a side-by-side diff from ``old`` (left) to ``new`` (right).

    ``context`` unchanged lines are kept on each side of a change; longer
    unchanged runs become one "fold" row. Identical texts give no rows at all
    (the page says "no difference" instead of a folded copy of the text).
    Deleted and added lines are escaped but not marked: the row's kind says it.
    """
    if old == new:
        return []
    a, b = split_lines(old), split_lines(new)
    ops = line_opcodes(a, b)
    rows: list[DiffRow] = []
    budget = [WORD_PAIRS_BUDGET]
    for index, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            rows += _equal_rows(a, i1, i2, j1, index == 0, index == len(ops) - 1, max(context, 0))
        elif tag == "replace":
            rows += _replace_rows(a, b, i1, i2, j1, j2, budget)
        elif tag == "delete":
            rows += _delete_rows(a, i1, i2)
        else:
            rows += _add_rows(b, j1, j2)
    return rows


def diff_stats(old: str, new: str) -> tuple[int, int]:
    """(lines added, lines removed) going from ``old`` to ``new``; a changed line counts as both."""
    added = removed = 0
    for tag, i1, i2, j1, j2 in line_opcodes(split_lines(old), split_lines(new)):
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed
