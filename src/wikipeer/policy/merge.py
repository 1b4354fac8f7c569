"""Three-way merge of two heads of a page, and the line matcher it rests on.

``merge3`` is line-based diff3: the lines where base, ours and theirs all
agree are stable; between them, a chunk changed on one side only takes that
side, a chunk changed the same way on both sides is taken once, and anything
else is a conflict, marked in the text the way git marks it so the user can
resolve it in the editor. ``merge_base`` finds the revision to merge against.

Texts are split on LF and joined back with LF, so a text's final newline (or
its absence, usual for wiki texts) is just a last empty line, kept like any
other: texts without one merge into a text without one.

``line_opcodes``/``matching_blocks`` are difflib's, made affordable on big
pages; the diff page uses them too.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Protocol

from wikipeer.errors import NotFound
from wikipeer.store.records import RevInfo

# Up to this many line pairs (len(a) * len(b)) difflib compares exactly, with
# autojunk off: autojunk ignores lines repeated often (blank lines, "|-" in
# tables), which would then never match and turn into needless conflicts.
# Beyond it, exact matching can go quadratic, so lines unique to both sides
# anchor the match first (as in patience diff) and only the gaps between
# anchors go to difflib.
LINE_PAIRS_EXACT = 4_000_000

Block = tuple[int, int, int]  # (start in a, start in b, length) of equal lines
Opcode = tuple[str, int, int, int, int]  # difflib's (tag, i1, i2, j1, j2)


@dataclass(slots=True)
class MergeResult:
    """A merged text and how many conflicts are marked in it."""

    text: str
    conflicts: int

    @property
    def clean(self) -> bool:
        return self.conflicts == 0


class RevisionSource(Protocol):
    """What merge_base needs of a store."""

    def revision(self, cid: bytes) -> RevInfo: ...


# --- line matching ---------------------------------------------------------


def matching_blocks(a: list[str], b: list[str]) -> list[Block]:
    """Runs of equal lines of ``a`` and ``b``, in order, adjacent runs joined (no sentinel)."""
    return _coalesce(_blocks(a, b, anchored=True))


def line_opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """difflib-style opcodes turning ``a`` into ``b``."""
    ops: list[Opcode] = []
    i = j = 0
    for ai, bj, size in [*matching_blocks(a, b), (len(a), len(b), 0)]:
        if i < ai or j < bj:
            tag = "replace" if i < ai and j < bj else "delete" if i < ai else "insert"
            ops.append((tag, i, ai, j, bj))
        if size:
            ops.append(("equal", ai, ai + size, bj, bj + size))
        i, j = ai + size, bj + size
    return ops


def common_ends(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """How many items ``a`` and ``b`` share at their start, and then (not overlapping) at their end."""
    n, m = len(a), len(b)
    head = 0
    while head < n and head < m and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < n - head and tail < m - head and a[n - 1 - tail] == b[m - 1 - tail]:
        tail += 1
    return head, tail


def _shift(blocks: list[Block], di: int, dj: int) -> list[Block]:
    return [(i + di, j + dj, size) for i, j, size in blocks]


def _blocks(a: list[str], b: list[str], anchored: bool) -> list[Block]:
    # An edit usually touches a few lines of a long page: the common ends
    # cost one pass, and difflib only sees what lies between them.
    head, tail = common_ends(a, b)
    mid_a, mid_b = a[head:len(a) - tail], b[head:len(b) - tail]
    out: list[Block] = [(0, 0, head)] if head else []
    if mid_a and mid_b:
        out += _shift(_middle_blocks(mid_a, mid_b, anchored), head, head)
    if tail:
        out.append((len(a) - tail, len(b) - tail, tail))
    return out


def _middle_blocks(a: list[str], b: list[str], anchored: bool) -> list[Block]:
    if len(a) * len(b) <= LINE_PAIRS_EXACT:
        return SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()[:-1]
    anchors = _unique_anchors(a, b) if anchored else []
    if not anchors:
        # Huge and nothing to anchor on: autojunk keeps it fast; the result
        # is still a correct diff, only a less tidy one.
        return SequenceMatcher(None, a, b, autojunk=True).get_matching_blocks()[:-1]
    out: list[Block] = []
    pi = pj = 0
    for i, j in [*anchors, (len(a), len(b))]:
        # Gaps are not anchored again, so this recursion is one level deep.
        out += _shift(_blocks(a[pi:i], b[pj:j], anchored=False), pi, pj)
        if i < len(a):
            out.append((i, j, 1))
        pi, pj = i + 1, j + 1
    return out


def _unique_anchors(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) of lines found once in each side, the longest run in the same order."""
    count_a, count_b = Counter(a), Counter(b)
    where_b = {line: j for j, line in enumerate(b) if count_b[line] == 1}
    pairs = [(i, where_b[line]) for i, line in enumerate(a) if count_a[line] == 1 and line in where_b]
    return _longest_increasing(pairs)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by i) whose j increase too."""
    tops: list[int] = []  # smallest j ending an increasing run of each length
    top_index: list[int] = []
    before: list[int] = []  # index of the previous pair in the best run through each pair
    for index, (_, j) in enumerate(pairs):
        k = bisect_left(tops, j)
        before.append(top_index[k - 1] if k else -1)
        if k == len(tops):
            tops.append(j)
            top_index.append(index)
        else:
            tops[k], top_index[k] = j, index
    out = []
    index = top_index[-1] if top_index else -1
    while index >= 0:
        out.append(pairs[index])
        index = before[index]
    return out[::-1]


def _coalesce(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    for i, j, size in blocks:
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + size)
        elif size:
            out.append((i, j, size))
    return out


# --- three-way merge -------------------------------------------------------


def _stable_regions(base: list[str], ours: list[str], theirs: list[str]) -> list[tuple[int, int, int, int]]:
    """Runs of base lines kept by both sides: (base start, ours start, theirs start, length).

    A last empty run at the three ends closes the walk.
    """
    regions = []
    to_ours, to_theirs = matching_blocks(base, ours), matching_blocks(base, theirs)
    x = y = 0
    while x < len(to_ours) and y < len(to_theirs):
        bo, o, lo = to_ours[x]
        bt, t, lt = to_theirs[y]
        start, end = max(bo, bt), min(bo + lo, bt + lt)
        if start < end:
            regions.append((start, o + start - bo, t + start - bt, end - start))
        # Move past the run that ends first; the other may overlap the next one.
        if bo + lo < bt + lt:
            x += 1
        else:
            y += 1
    regions.append((len(base), len(ours), len(theirs), 0))
    return regions


def _conflict(ours: list[str], theirs: list[str], ours_label: str, theirs_label: str) -> list[str]:
    """Conflict lines, with lines both sides share at the start and end kept outside the markers."""
    head, tail = common_ends(ours, theirs)
    return [
        *ours[:head],
        f"<<<<<<< {ours_label}", *ours[head:len(ours) - tail],
        "=======", *theirs[head:len(theirs) - tail],
        f">>>>>>> {theirs_label}",
        *ours[len(ours) - tail:],
    ]


def merge3(base: str, ours: str, theirs: str, ours_label: str = "ours", theirs_label: str = "theirs") -> MergeResult:
    """Merge the changes ``ours`` and ``theirs`` each made to ``base``.

    Conflicting chunks appear git style: ``<<<<<<< ours_label``, our lines,
    ``=======``, their lines, ``>>>>>>> theirs_label``, each on its own line.
    A conflict at the very end of texts without a final newline ends the
    merged text with the ``>>>>>>>`` line, without a newline either.
    """
    b, o, t = base.split("\n"), ours.split("\n"), theirs.split("\n")
    out: list[str] = []
    conflicts = 0
    zb = zo = zt = 0  # where the last stable region ended in each text
    for sb, so, st, length in _stable_regions(b, o, t):
        chunk_b, chunk_o, chunk_t = b[zb:sb], o[zo:so], t[zt:st]
        if chunk_o == chunk_t:  # same change on both sides, or none
            out += chunk_o
        elif chunk_o == chunk_b:
            out += chunk_t
        elif chunk_t == chunk_b:
            out += chunk_o
        else:
            out += _conflict(chunk_o, chunk_t, ours_label, theirs_label)
            conflicts += 1
        out += b[sb:sb + length]
        zb, zo, zt = sb + length, so + length, st + length
    return MergeResult("\n".join(out), conflicts)


# --- merge base ------------------------------------------------------------


def merge_base(store: RevisionSource, a: bytes, b: bytes) -> RevInfo | None:
    """The nearest common ancestor of revisions ``a`` and ``b`` (CIDs) of one page.

    Both histories are walked breadth first, one generation of each side in
    turn, without recursion. When a round reaches revisions both sides hold,
    the newest of them (then the smallest CID) is the base. None when the
    histories share nothing this store holds (a shallow copy may lack the
    older revisions): merge against an empty text then.
    """
    if a == b:
        return _load(store, a)
    revs: dict[bytes, RevInfo | None] = {}
    seen: dict[bytes, int] = {a: 1, b: 2}  # bit 1: reached from a, bit 2: from b
    frontiers = (deque([a]), deque([b]))
    while frontiers[0] or frontiers[1]:
        common: list[bytes] = []
        for side, frontier in enumerate(frontiers):
            common += _step(store, revs, seen, frontier, 1 << side)
        found = [rev for cid in common if (rev := revs[cid] if cid in revs else _load(store, cid)) is not None]
        if found:
            return min(found, key=lambda rev: (-rev.ts, rev.cid))
    return None


def _load(store: RevisionSource, cid: bytes) -> RevInfo | None:
    try:
        return store.revision(cid)
    except NotFound:  # a parent a shallow copy of the history does not hold
        return None


def _step(store: RevisionSource, revs: dict[bytes, RevInfo | None], seen: dict[bytes, int], frontier: deque[bytes],
          bit: int) -> list[bytes]:
    """Replace ``frontier`` by the parents of its revisions; return those the other side reached too."""
    common = []
    for _ in range(len(frontier)):
        cid = frontier.popleft()
        if seen[cid] == 3:  # a common ancestor: what lies beyond it is older still
            continue
        rev = revs[cid] = _load(store, cid)
        for parent in rev.parents if rev is not None else ():
            mark = seen.get(parent, 0)
            if mark & bit:
                continue
            seen[parent] = mark | bit
            if mark:
                common.append(parent)
            else:
                frontier.append(parent)
    return common
