#!/usr/bin/env python3
"""Compare SQLite FTS5 layouts for wikipeer's page search.

Loads every complete page (latest revision's text and the title) from the
Wikipedia samples in ../shared/data/wikipedia/, builds each candidate index in
a fresh SQLite file, and reports index size (as a ratio to the raw UTF-8 bytes
of title + text), build time, and correctness and latency of a fixed list of
queries per language.  Ground truth is computed by brute force in Python.

It needs lxml and the project's own script ranges, so run it in the
project's venv (about 8 minutes for all layouts):

    .venv/bin/python bench/fts_tokenizers.py            # all layouts
    .venv/bin/python bench/fts_tokenizers.py --layouts a,f1 --reps 3

Query semantics used for ground truth (and by the recommended layout):
  * a user query is split on whitespace into terms; "double quoted" text is
    one term (spaces included); a page matches when it matches every term;
  * a term of 3+ characters, or any term written in a script without spaces
    (CJK, Thai, ...), matches as a case-insensitive substring of title+text;
  * a 1-2 character term in a spaced script (Latin, Cyrillic, Devanagari...)
    matches as a whole word (substrings that short are not required).

How sizes are measured: after the build, the `dbstat` virtual table (compiled
into Debian's SQLite) gives the bytes of the pages used by each b-tree, so the
FTS shadow tables are attributed exactly: `<t>_data`, `<t>_idx`, `<t>_docsize`
and `<t>_config` are "index", `<t>_content` is the second copy of the text.
As a cross-check the file is VACUUMed and its size minus the size of the same
store without any FTS table (also VACUUMed) is reported too.
"""
from __future__ import annotations

import argparse
import json
import lzma
import re
import shutil
import sqlite3
import statistics
import sys
import time
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wikipedia"
DEFAULT_OUT = ROOT / "bench" / "out"
MW_NS = "{http://www.mediawiki.org/xml/export-0.10/}"

# ---------------------------------------------------------------------------
# Loading the samples
# ---------------------------------------------------------------------------


@dataclass
class Page:
    id: int
    lang: str
    title: str
    text: str


@dataclass
class FileReport:
    name: str
    complete: int
    started: int
    error: str | None


def load_samples(data_dir: Path) -> tuple[list[Page], list[FileReport]]:
    pages: list[Page] = []
    reports: list[FileReport] = []
    files = sorted(p for p in data_dir.iterdir() if p.name.endswith((".xml", ".xml.xz")))
    for path in files:
        lang = path.name.split("-")[0].split(".")[0]
        opener = lzma.open if path.name.endswith(".xz") else open
        started = complete = 0
        error = None
        with opener(path, "rb") as fh:
            events = etree.iterparse(fh, events=("start", "end"), tag=MW_NS + "page", huge_tree=True)
            try:
                for event, el in events:
                    if event == "start":
                        started += 1
                        continue
                    revisions = el.findall(MW_NS + "revision")
                    if revisions:
                        latest = max(revisions, key=lambda r: r.findtext(MW_NS + "timestamp") or "")
                        text = latest.findtext(MW_NS + "text") or ""
                        pages.append(Page(len(pages) + 1, lang, el.findtext(MW_NS + "title") or "", text))
                        complete += 1
                    el.clear()
                    while el.getprevious() is not None:
                        del el.getparent()[0]
            except etree.XMLSyntaxError as exc:  # the truncated samples end mid-page
                error = str(exc).split(",")[0]
        reports.append(FileReport(path.name, complete, started, error))
    return pages, reports


# ---------------------------------------------------------------------------
# Text segmentation (for the word index and the short-term side index)
# ---------------------------------------------------------------------------

# Scripts written without spaces between words: indexed as overlapping bigrams.
# The ranges are the store's own (this script measured the layout it uses).
from wikipeer.store.segment import UNSPACED  # noqa: E402

_UNSPACED_RE = re.compile(f"[{UNSPACED}]")


def _word_char_class() -> str:
    """Regex class body of letters, digits, marks and private use (L*, N*, M*,
    Co) in the BMP, less the unspaced scripts, plus every supplementary-plane
    character outside the unspaced ranges.

    Python's \\w leaves out combining marks, which would cut Devanagari words
    apart (the vowel signs are Mc); FTS5's unicode61 does the same unless told
    `categories 'L* N* M* Co'`.  The class is kept (mostly) in the BMP so that
    `re` compiles it to a bitmap: a long list of astral ranges makes every
    character test linear and segmentation about 10x slower.
    """
    ranges: list[list[int]] = []
    for cp in range(0x10000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if (cat[0] in "LNM" or cat == "Co") and not _UNSPACED_RE.match(ch):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])

    def esc(cp: int) -> str:
        return "\\u%04x" % cp

    bmp = "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)
    return bmp + "\\U00010000-\\U0001ffff\\U00031350-\\U0010ffff"


WORD_CLASS = _word_char_class()
# Unspaced runs first, then ordinary words (ZWJ/ZWNJ kept inside words).
TOKEN_RE = re.compile(f"([{UNSPACED}]+)|((?:[{WORD_CLASS}]|\u200c|\u200d)+)")


def is_unspaced(term: str) -> bool:
    return bool(term) and all(_UNSPACED_RE.match(ch) for ch in term)


def segment(text: str, *, short_only: bool) -> str:
    """Return space-separated tokens for a unicode61 table.

    Unspaced runs become overlapping bigrams plus the run's last character as
    a unigram (so "X"* finds every occurrence of a single character).
    Other words are kept whole (short_only: only words of 1-2 characters).
    Input must already be lower-cased.
    """
    out: list[str] = []
    for m in TOKEN_RE.finditer(text):
        run = m.group(1)
        if run is not None:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            out.append(run[-1])
        else:
            word = m.group(2).replace("\u200c", "").replace("\u200d", "")
            if word and (not short_only or len(word) <= 2):
                out.append(word)
    return " ".join(out)


# ---------------------------------------------------------------------------
# Queries and ground truth
# ---------------------------------------------------------------------------


@dataclass
class Term:
    text: str  # NFC, lower-cased
    kind: str  # "long" (>= 3 chars, substring), "cjk" (1-2 unspaced chars), "word" (1-2 chars, whole word)
    _word_re: re.Pattern | None = None

    def word_re(self) -> re.Pattern:
        if self._word_re is None:
            self._word_re = re.compile(
                f"(?<![{WORD_CLASS}]){re.escape(self.text)}(?![{WORD_CLASS}])"
            )
        return self._word_re

    def matches(self, folded_doc: str) -> bool:
        if self.kind == "word":
            return self.text in folded_doc and self.word_re().search(folded_doc) is not None
        return self.text in folded_doc


def parse_query(q: str) -> list[Term]:
    q = unicodedata.normalize("NFC", q).lower()
    raw = [a or b for a, b in re.findall(r'"([^"]+)"|(\S+)', q)]
    terms = []
    for t in raw:
        t = t.strip()
        if not t:
            continue
        if len(t) >= 3:
            terms.append(Term(t, "long"))
        elif is_unspaced(t):
            terms.append(Term(t, "cjk"))
        else:
            terms.append(Term(t, "word"))
    return terms


def fold(title: str, text: str) -> str:
    return (title + "\n" + text).lower()


# (language, what it tests, query).  The words were picked because they occur
# in the samples; the text of the samples is not copied anywhere else.
QUERIES: list[tuple[str, str, str]] = [
    ("en", "word", "typeface"),
    ("en", "3-char substring", "kto"),
    ("en", "multi-word", "Stockton Airport"),
    ("en", "quoted phrase", '"united states"'),
    ("en", "common word", "the"),
    ("en", "2-char word", "Mr"),
    ("uk", "word, lower-case query", "київ"),
    ("uk", "3-char substring", "ядр"),
    ("uk", "multi-word", "священна римська імперія"),
    ("uk", "2-char word + word", "та україна"),
    ("vi", "word", "trưởng"),
    ("vi", "3-char substring", "ưởn"),
    ("vi", "multi-word (2-char syllables)", "thành phố Hồ Chí Minh"),
    ("vi", "2-char word", "là"),
    ("ja", "3-kanji word", "日本語"),
    ("ja", "4-kanji word", "国定公園"),
    ("ja", "3-char substring", "テレビ"),
    ("ja", "2-char word", "言語"),
    ("ja", "2-char word", "大学"),
    ("ja", "1-char word", "猫"),
    ("ja", "multi-word", "放送大学 通信制"),
    ("ja", "2-char + 3-char", "東京 フジテレビ"),
    ("mr", "word", "महाराष्ट्र"),
    ("mr", "3-char substring", "राष"),
    ("mr", "multi-word", "शिवाजी महाराज"),
    ("mr", "1-char word", "व"),
]


def ground_truth(folded: dict[int, str], terms: list[Term]) -> set[int]:
    return {pid for pid, d in folded.items() if all(t.matches(d) for t in terms)}


# ---------------------------------------------------------------------------
# Index layouts
# ---------------------------------------------------------------------------


def q_phrase(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def trigrams(s: str) -> list[str]:
    seen: dict[str, None] = {}
    for i in range(len(s) - 2):
        seen.setdefault(s[i : i + 3], None)
    return list(seen)


def like_pattern(s: str) -> str | None:
    """A LIKE pattern for substring s, or None if s contains LIKE wildcards.

    LIKE ... ESCAPE is a three-argument like(), which SQLite does not pass to
    FTS5 (full scan), so terms with % or _ cannot use this path.
    """
    if "%" in s or "_" in s:
        return None
    return f"%{s}%"


@dataclass
class Layout:
    key: str
    name: str
    tri: str | None  # DDL options of the trigram table, or None
    tri_content: str  # "fts" | "none" | "view"
    detail: str | None
    query: str  # "phrase" | "trigrams+verify" | "like" | "words"
    side: bool = False  # short-term side index
    words: bool = False  # unicode61 word index (layout d)
    notes: str = ""


LAYOUTS = [
    Layout("a", "trigram, detail=full, text stored in FTS",
           "tokenize='trigram'", "fts", "full", "phrase",
           notes="MATCH of quoted phrases; exact; 1-2 char terms: scan of FTS content"),
    Layout("b", "trigram, detail=none, text stored in FTS, LIKE",
           "tokenize='trigram', detail=none", "fts", "none", "like",
           notes="built-in LIKE per term (title UNION text); 1-2 char terms: scan"),
    Layout("b2", "same index as b, MATCH of trigrams + verify",
           "tokenize='trigram', detail=none", "fts", "none", "trigrams+verify",
           notes="reuses b's file; AND of the term's trigrams, then exact check in Python"),
    Layout("c", "trigram, detail=column, text stored in FTS",
           "tokenize='trigram', detail=column", "fts", "column", "trigrams+verify",
           notes="AND of trigrams + verify in Python"),
    Layout("d", "unicode61 rd2 + CJK bigrams (own segmentation), contentless",
           None, "none", "full", "words", words=True,
           notes="word/phrase MATCH; a substring inside a word is not found"),
    Layout("e1", "trigram, detail=none, external content = view decompressing the store",
           "tokenize='trigram', detail=none, content='page_v', content_rowid='id'", "view", "none", "like",
           notes="LIKE works (it reads the view); each candidate row is decompressed"),
    Layout("e2", "trigram, detail=none, contentless, verify against compressed store",
           "tokenize='trigram', detail=none, content=''", "none", "none", "trigrams+verify",
           notes="1-2 char terms: scan (decompress every page)"),
    Layout("e3", "trigram, detail=full, contentless",
           "tokenize='trigram', content=''", "none", "full", "phrase",
           notes="exact MATCH; 1-2 char terms: scan (decompress every page)"),
    Layout("f1", "e2 + short-term side index (CJK bigrams, 1-2 char words)",
           "tokenize='trigram', detail=none, content=''", "none", "none", "trigrams+verify", side=True,
           notes="reuses e2's trigram table"),
    Layout("f2", "e3 + short-term side index",
           "tokenize='trigram', content=''", "none", "full", "phrase", side=True,
           notes="reuses e3's trigram table"),
    Layout("f3", "trigram detail=column contentless + side index",
           "tokenize='trigram', detail=column, content=''", "none", "column", "trigrams+verify", side=True,
           notes="column info allows title weighting in bm25"),
]
# Layouts that reuse another layout's file (same trigram table).
SHARES_FILE = {"b2": "b", "f1": "e2", "f2": "e3"}

SIDE_DDL = ("CREATE VIRTUAL TABLE short USING fts5(title, text, content='', detail=none, "
            "tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* M* Co'\")")
WORDS_DDL = ("CREATE VIRTUAL TABLE words USING fts5(title, text, content='', "
             "tokenize=\"unicode61 remove_diacritics 2 categories 'L* N* M* Co'\")")


def zdec(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("zdec", 1, zdec, deterministic=True)
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB, same for every layout
    return conn


def build_store(path: Path, pages: list[Page]) -> None:
    """The stand-in for wikipeer's store: each text compressed on its own
    (zlib level 6, as the standard library has no zstd), titles plain."""
    if path.exists():
        path.unlink()
    conn = connect(path)
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE page_z(id INTEGER PRIMARY KEY, title TEXT NOT NULL, ztext BLOB NOT NULL)")
    conn.executemany("INSERT INTO page_z VALUES(?,?,?)",
                     ((p.id, p.title, zlib.compress(p.text.encode(), 6)) for p in pages))
    # for layout e1: an external-content FTS5 table can read from a view
    conn.execute("CREATE VIEW page_v AS SELECT id, title, zdec(ztext) AS text FROM page_z")
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()


def table_bytes(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))


def fts_bytes(sizes: dict[str, int], table: str) -> tuple[int, int]:
    """(index bytes, stored-content bytes) of FTS5 table `table`."""
    index = sum(v for k, v in sizes.items()
                if k.startswith(table + "_") and not k.endswith("_content"))
    return index, sizes.get(table + "_content", 0)


def build_layout(lay: Layout, path: Path, pages: list[Page], lowered: dict[int, tuple[str, str]]) -> dict:
    conn = connect(path)
    info: dict = {}
    if lay.tri:
        conn.execute(f"CREATE VIRTUAL TABLE tri USING fts5(title, text, {lay.tri})")
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        if lay.tri_content == "view":
            conn.execute("INSERT INTO tri(tri) VALUES('rebuild')")
        else:
            conn.executemany("INSERT INTO tri(rowid, title, text) VALUES(?,?,?)",
                             ((p.id, p.title, p.text) for p in pages))
        conn.execute("COMMIT")
        info["tri_build_s"] = time.perf_counter() - t0
        info["tri_built"] = fts_bytes(table_bytes(conn), "tri")
        t0 = time.perf_counter()
        conn.execute("INSERT INTO tri(tri) VALUES('optimize')")
        info["tri_optimize_s"] = time.perf_counter() - t0
    for flag, ddl, table, short_only in ((lay.side, SIDE_DDL, "short", True),
                                         (lay.words, WORDS_DDL, "words", False)):
        if not flag:
            continue
        conn.execute(ddl)
        t0 = time.perf_counter()
        rows = [(pid, segment(t, short_only=short_only), segment(x, short_only=short_only))
                for pid, (t, x) in lowered.items()]
        info[f"{table}_segment_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO {table}(rowid, title, text) VALUES(?,?,?)", rows)
        conn.execute("COMMIT")
        conn.execute(f"INSERT INTO {table}({table}) VALUES('optimize')")
        info[f"{table}_build_s"] = time.perf_counter() - t0
        del rows
    sizes = table_bytes(conn)
    info["sizes"] = sizes
    conn.execute("VACUUM")
    conn.close()
    info["file_bytes"] = path.stat().st_size
    return info


# ---------------------------------------------------------------------------
# Query execution per layout
# ---------------------------------------------------------------------------


class Searcher:
    def __init__(self, lay: Layout, conn: sqlite3.Connection):
        self.lay = lay
        self.conn = conn

    # -- fetching text for verification / scans --------------------------
    def docs(self, ids: list[int] | None):
        """Yield (id, folded title+text) for ids (None: every page)."""
        conn = self.conn
        if self.lay.tri_content == "fts":
            sql = "SELECT rowid, title, text FROM tri"
            conv = lambda r: (r[0], fold(r[1], r[2]))  # noqa: E731
        else:
            sql = "SELECT id, title, ztext FROM page_z"
            conv = lambda r: (r[0], fold(r[1], zdec(r[2])))  # noqa: E731
        if ids is None:
            for r in conn.execute(sql):
                yield conv(r)
            return
        col = "rowid" if self.lay.tri_content == "fts" else "id"
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for r in conn.execute(f"{sql} WHERE {col} IN ({marks})", chunk):
                yield conv(r)

    # -- candidate generation ----------------------------------------------
    def tri_match(self, terms: list[Term]) -> str | None:
        parts = []
        for t in terms:
            if t.kind != "long":
                continue
            if self.lay.query == "phrase":
                parts.append(q_phrase(t.text))
            else:
                parts.append(" AND ".join(q_phrase(g) for g in trigrams(t.text)))
        return " AND ".join(parts) if parts else None

    def side_match(self, terms: list[Term]) -> str | None:
        parts = []
        for t in terms:
            if t.kind == "cjk":
                parts.append(q_phrase(t.text) + ("*" if len(t.text) == 1 else ""))
            elif t.kind == "word":
                parts.append(q_phrase(t.text))
        return " AND ".join(parts) if parts else None

    def needs_verify(self, terms: list[Term], used_side: bool) -> list[Term]:
        out = []
        for t in terms:
            if t.kind == "long":
                # detail=full phrases are exact; a single trigram is exact too
                if self.lay.query == "trigrams+verify" and len(t.text) > 3:
                    out.append(t)
            elif not used_side:
                out.append(t)
        return out

    def search(self, q: str) -> set[int]:
        terms = parse_query(q)
        if self.lay.words:
            return self._search_words(terms)
        if self.lay.query == "like":
            return self._search_like(terms)
        tri_q = self.tri_match(terms)
        side_q = self.side_match(terms) if self.lay.side else None
        if tri_q and side_q:
            # "+rowid": without the plus SQLite pushes rowid IN (...) into FTS5
            # as rowid=? and re-runs the MATCH once per side-index hit.
            ids = [r[0] for r in self.conn.execute(
                "SELECT rowid FROM tri WHERE tri MATCH ? AND +rowid IN "
                "(SELECT rowid FROM short WHERE short MATCH ?)", (tri_q, side_q))]
        elif tri_q:
            ids = [r[0] for r in self.conn.execute("SELECT rowid FROM tri WHERE tri MATCH ?", (tri_q,))]
        elif side_q:
            ids = [r[0] for r in self.conn.execute("SELECT rowid FROM short WHERE short MATCH ?", (side_q,))]
        else:
            ids = None  # only short terms and no side index: full scan
        self.candidates = None if ids is None else len(ids)
        check = self.needs_verify(terms, used_side=bool(side_q))
        if ids is None:
            return {pid for pid, d in self.docs(None) if all(t.matches(d) for t in terms)}
        if not check:
            return set(ids)
        return {pid for pid, d in self.docs(ids) if all(t.matches(d) for t in check)}

    def _search_like(self, terms: list[Term]) -> set[int]:
        result: set[int] | None = None
        rest = []
        for t in terms:
            pat = like_pattern(t.text) if t.kind == "long" else None
            if pat is None:
                rest.append(t)
                continue
            ids = {r[0] for r in self.conn.execute(
                "SELECT rowid FROM tri WHERE title LIKE ?1 UNION SELECT rowid FROM tri WHERE text LIKE ?1",
                (pat,))}
            result = ids if result is None else result & ids
        if rest:
            pool = None if result is None else sorted(result)
            if self.lay.tri_content == "view":
                # read through the FTS table (external content): same as LIKE's path
                rows = self.conn.execute("SELECT rowid, title, text FROM tri") if pool is None else (
                    r for i in range(0, len(pool), 500) for r in self.conn.execute(
                        f"SELECT rowid, title, text FROM tri WHERE rowid IN ({','.join('?' * len(pool[i:i+500]))})",
                        pool[i : i + 500]))
                docs = ((r[0], fold(r[1], r[2])) for r in rows)
            else:
                docs = self.docs(pool)
            result = {pid for pid, d in docs if all(t.matches(d) for t in rest)}
        return result or set()

    def _search_words(self, terms: list[Term]) -> set[int]:
        parts = []
        for t in terms:
            toks = segment(t.text, short_only=False).split()
            if not toks:
                continue
            if t.kind == "cjk" and len(t.text) == 1:
                parts.append(q_phrase(t.text) + "*")
            else:
                parts.append(q_phrase(" ".join(toks)))
        if not parts:
            return set()
        return {r[0] for r in self.conn.execute("SELECT rowid FROM words WHERE words MATCH ?", (" AND ".join(parts),))}

    # -- ranked top-k (recommended layouts only) ---------------------------
    def top(self, q: str, k: int = 20) -> list[int]:
        """Ranked top-k: pages whose title matches first, then bm25."""
        terms = parse_query(q)
        tri_q = self.tri_match(terms)
        side_q = self.side_match(terms) if self.lay.side else None
        weights = "" if self.lay.detail == "none" else ", 10.0, 1.0"
        if tri_q and side_q:
            sql = (f"SELECT rowid FROM tri WHERE tri MATCH ?1 AND +rowid IN "
                   f"(SELECT rowid FROM short WHERE short MATCH ?2) ORDER BY bm25(tri{weights})")
            args = (tri_q, side_q)
        elif tri_q:
            sql, args = f"SELECT rowid FROM tri WHERE tri MATCH ? ORDER BY bm25(tri{weights})", (tri_q,)
        elif side_q:
            sql, args = f"SELECT rowid FROM short WHERE short MATCH ? ORDER BY bm25(short{weights})", (side_q,)
        else:
            sql = None  # only short terms and no side index: scan, unranked
        ids = sorted(self.search(q)) if sql is None else [r[0] for r in self.conn.execute(sql, args)]
        # title boost: titles are small and stored uncompressed
        titles = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            titles.update(self.conn.execute(
                f"SELECT id, title FROM page_z WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        in_title = [i for i in ids if all(t.matches(titles[i].lower()) for t in terms)]
        seen = set(in_title)
        order = in_title + [i for i in ids if i not in seen]
        check = [] if sql is None else self.needs_verify(terms, used_side=bool(side_q))
        # Every shown result needs its text for the snippet, so the text is
        # fetched and decompressed for each of them in every layout; the
        # detail=none/column layouts also check the terms on it.
        out: list[tuple[int, str]] = []
        for i in range(0, len(order), k):
            batch = order[i : i + k]
            docs = dict(self.docs(batch))
            for pid in batch:
                d = docs[pid]
                if check and not all(t.matches(d) for t in check):
                    continue
                out.append((pid, snippet(d, terms)))
            if len(out) >= k:
                break
        return out[:k]


def snippet(folded_doc: str, terms: list[Term], width: int = 60) -> str:
    pos = -1
    for t in terms:
        pos = folded_doc.find(t.text)
        if pos >= 0:
            break
    pos = max(pos, 0)
    return folded_doc[max(0, pos - width) : pos + width]


def timed(fn, reps: int):
    times = []
    result = None
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
        if times[0] > 1500:  # slow scans: one run is enough
            break
    return result, statistics.median(times), max(times)



# ---------------------------------------------------------------------------
# Behaviour probes (tiny in-memory tables; made-up text)
# ---------------------------------------------------------------------------


def probes() -> list[tuple[str, str]]:
    """Check, on this SQLite, the FTS5 behaviours the design relies on."""
    c = sqlite3.connect(":memory:")
    docs = [(1, "Київ", "Київ є столицею. Kyiv is a city."),
            (2, "東京", "東京都は日本の首都。テレビ局がある。"),
            (3, "Hà Nội", "Hà Nội là thủ đô"),
            (4, "मराठी", "महाराष्ट्र राज्य"),
            (5, "x", "100% ab_cd")]
    out: list[tuple[str, str]] = []

    def run(label: str, sql: str, *a) -> None:
        try:
            res = c.execute(sql, a).fetchall()
        except sqlite3.Error as exc:
            res = f"error: {exc}"
        out.append((label, str(res)))

    for det in ("full", "none"):
        c.execute(f"CREATE VIRTUAL TABLE t_{det} USING fts5(title, text, tokenize='trigram', detail={det})")
        c.executemany(f"INSERT INTO t_{det}(rowid, title, text) VALUES(?,?,?)", docs)
    c.execute("CREATE VIRTUAL TABLE t_cl USING fts5(title, text, tokenize='trigram', detail=none, content='')")
    c.executemany("INSERT INTO t_cl(rowid, title, text) VALUES(?,?,?)", docs)
    run("detail=full MATCH '\"київ\"' (Unicode case folding)", "SELECT rowid FROM t_full WHERE t_full MATCH ?", '"київ"')
    run("detail=none MATCH '\"київ\"' (4 chars = phrase of 2 trigrams)", "SELECT rowid FROM t_none WHERE t_none MATCH ?", '"київ"')
    run("detail=none MATCH '\"киї\" AND \"иїв\"'", "SELECT rowid FROM t_none WHERE t_none MATCH ?", '"киї" AND "иїв"')
    run("detail=none MATCH 'title:\"київ\"' (column filter)", "SELECT rowid FROM t_none WHERE t_none MATCH ?", 'title:"киї"')
    run("LIKE '%київ%' (built-in LIKE folds ASCII only)", "SELECT rowid FROM t_none WHERE text LIKE ?", "%київ%")
    run("LIKE '%Київ%'", "SELECT rowid FROM t_none WHERE text LIKE ?", "%Київ%")
    run("query plan of text LIKE '%Київ%'", "EXPLAIN QUERY PLAN SELECT rowid FROM t_none WHERE text LIKE ?", "%Київ%")
    run("query plan of title LIKE ? OR text LIKE ?",
        "EXPLAIN QUERY PLAN SELECT rowid FROM t_none WHERE title LIKE ?1 OR text LIKE ?1", "%Київ%")
    run("LIKE '%日本%' (2 CJK chars) through the trigram index", "SELECT rowid FROM t_full WHERE text LIKE ?", "%日本%")
    run("+text LIKE '%日本%' (index bypassed: full scan)", "SELECT rowid FROM t_full WHERE +text LIKE ?", "%日本%")
    run("LIKE '%ab%' (2 ASCII chars)", "SELECT rowid FROM t_full WHERE text LIKE ?", "%ab%")
    run("MATCH '\"日本\"' (2 chars)", "SELECT rowid FROM t_full WHERE t_full MATCH ?", '"日本"')
    run("MATCH '\"日本\" AND \"テレビ\"' (short term inside AND)", "SELECT rowid FROM t_full WHERE t_full MATCH ?", '"日本" AND "テレビ"')
    run("MATCH '\"ab\" AND \"100\"'", "SELECT rowid FROM t_full WHERE t_full MATCH ?", '"ab" AND "100"')
    run("MATCH '\"日本\"*' (prefix on a trigram table)", "SELECT rowid FROM t_full WHERE t_full MATCH ?", '"日本"*')
    run("query plan of LIKE ... ESCAPE", "EXPLAIN QUERY PLAN SELECT rowid FROM t_none WHERE text LIKE ? ESCAPE '\\'", "%0\\%%")
    run("contentless: LIKE '%Київ%'", "SELECT rowid FROM t_cl WHERE text LIKE ?", "%Київ%")
    run("contentless: MATCH, column values", "SELECT rowid, title FROM t_cl WHERE t_cl MATCH ?", '"киї"')
    run("detail=none bm25()", "SELECT rowid, round(bm25(t_none), 3) FROM t_none WHERE t_none MATCH ?", '"ity"')
    for cats in ("", " categories 'L* N* M* Co'"):
        c.execute("DROP TABLE IF EXISTS u")
        c.execute("DROP TABLE IF EXISTS uv")
        c.execute(f"CREATE VIRTUAL TABLE u USING fts5(x, tokenize=\"unicode61 remove_diacritics 2{cats}\")")
        c.execute("INSERT INTO u VALUES('महाराष्ट्र Việt 東京都')")
        c.execute("CREATE VIRTUAL TABLE uv USING fts5vocab(u, 'row')")
        run(f"unicode61{cats or ' (default categories)'} tokens", "SELECT group_concat(term, ' | ') FROM uv")
    c.close()
    return out


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--layouts", default=",".join(l.key for l in LAYOUTS))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the database files")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = set(args.layouts.split(","))
    unknown = wanted - {l.key for l in LAYOUTS}
    if unknown:
        ap.error(f"unknown layouts: {', '.join(sorted(unknown))}")
    # a layout that shares a file needs its owner built (LAYOUTS lists owners first)
    wanted |= {SHARES_FILE[k] for k in wanted if k in SHARES_FILE}
    layouts = [l for l in LAYOUTS if l.key in wanted]

    print(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    print("behaviour probes:")
    probe_results = probes()
    for label, res in probe_results:
        print(f"  {label}: {res}")
    t0 = time.perf_counter()
    pages, reports = load_samples(args.data)
    print(f"loaded {len(pages)} pages in {time.perf_counter() - t0:.1f}s")
    for r in reports:
        cut = f"; input cut off inside page {r.started} ({r.error}) - that page is skipped" if r.error else ""
        print(f"  {r.name}: {r.complete} complete pages{cut}")
    raw_bytes = sum(len(p.title.encode()) + len(p.text.encode()) for p in pages)
    print(f"raw text bytes (UTF-8 title + text): {raw_bytes:,}")

    lowered = {p.id: (p.title.lower(), p.text.lower()) for p in pages}
    folded = {p.id: fold(p.title, p.text) for p in pages}
    truths = {q: ground_truth(folded, parse_query(q)) for _, _, q in QUERIES}

    store_path = args.out / "store_z.sqlite"
    build_store(store_path, pages)
    store_size = store_path.stat().st_size
    c = connect(store_path)
    ztext = sum(v for k, v in table_bytes(c).items() if k == "page_z")
    c.close()
    print(f"baseline store (zlib-6 text + title), vacuumed: {store_size:,} bytes "
          f"({store_size / raw_bytes:.2f}x raw)")

    summary = []
    files: dict[str, Path] = {}
    builds: dict[str, dict] = {}
    for lay in layouts:
        owner = SHARES_FILE.get(lay.key)
        if owner and owner in files:
            path = files[owner]
            if lay.side and not builds[owner].get("short_done"):
                # add the side index to the owner's file
                conn = connect(path)
                conn.execute(SIDE_DDL)
                t0 = time.perf_counter()
                rows = [(pid, segment(t, short_only=True), segment(x, short_only=True))
                        for pid, (t, x) in lowered.items()]
                seg_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO short(rowid, title, text) VALUES(?,?,?)", rows)
                conn.execute("COMMIT")
                conn.execute("INSERT INTO short(short) VALUES('optimize')")
                build_s = time.perf_counter() - t0
                sizes = table_bytes(conn)
                conn.execute("VACUUM")
                conn.close()
                info = dict(builds[owner])
                info.update(short_segment_s=seg_s, short_build_s=build_s, sizes=sizes,
                            file_bytes=path.stat().st_size, short_done=True)
                builds[owner] = info
            info = builds[owner]
        else:
            path = args.out / f"fts_{lay.key}.sqlite"
            shutil.copyfile(store_path, path)
            print(f"building {lay.key}: {lay.name} ...", flush=True)
            info = build_layout(lay, path, pages, lowered)
            files[lay.key] = path
            builds[lay.key] = info
        sizes = info["sizes"]
        tri_idx, tri_content = fts_bytes(sizes, "tri")
        side_idx, _ = fts_bytes(sizes, "short") if lay.side else (0, 0)
        words_idx, _ = fts_bytes(sizes, "words") if lay.words else (0, 0)
        index = tri_idx + side_idx + words_idx
        row = {
            "key": lay.key, "name": lay.name, "notes": lay.notes,
            "index_x": index / raw_bytes,
            "tri_index_x": tri_idx / raw_bytes,
            "tri_index_unoptimized_x": info["tri_built"][0] / raw_bytes if "tri_built" in info else None,
            "side_index_x": side_idx / raw_bytes,
            "words_index_x": words_idx / raw_bytes,
            "content_x": tri_content / raw_bytes,
            "extra_x": (index + tri_content) / raw_bytes,
            "file_minus_store_x": (info["file_bytes"] - store_size) / raw_bytes,
            "build_s": info.get("tri_build_s", 0) + info.get("tri_optimize_s", 0)
                       + (info.get("short_build_s", 0) if lay.side else 0)
                       + (info.get("words_build_s", 0) if lay.words else 0),
            "segment_s": (info.get("short_segment_s", 0) if lay.side else 0)
                         + (info.get("words_segment_s", 0) if lay.words else 0),
            "queries": [],
        }
        # cross-check for the shared files: file size covers both tables
        conn = connect(path)
        s = Searcher(lay, conn)
        for lang, what, q in QUERIES:
            truth = truths[q]
            s.candidates = None
            got, med, mx = timed(lambda: s.search(q), args.reps)
            qrow = {"lang": lang, "what": what, "q": q, "truth": len(truth), "got": len(got),
                    "unverified_candidates": getattr(s, "candidates", None),
                    "missed": len(truth - got), "extra": len(got - truth),
                    "ms_median": med, "ms_max": mx}
            if lay.key.startswith("f") or lay.key in ("a", "e3"):
                top, tmed, _ = timed(lambda: s.top(q), args.reps)
                qrow["top20_ms"] = tmed
                qrow["top20_ok"] = {pid for pid, _ in top} <= truth and len(top) == min(20, len(truth))
            row["queries"].append(qrow)
        conn.close()
        exact = sum(1 for qr in row["queries"] if qr["missed"] == 0 and qr["extra"] == 0)
        row["exact"] = f"{exact}/{len(QUERIES)}"
        lat = [qr["ms_median"] for qr in row["queries"]]
        row["ms_median_of_medians"] = statistics.median(lat)
        row["ms_worst"] = max(lat)
        summary.append(row)
        print(f"  {lay.key}: index {row['index_x']:.2f}x + content {row['content_x']:.2f}x "
              f"(file-store {row['file_minus_store_x']:.2f}x), build {row['build_s']:.1f}s "
              f"+ segment {row['segment_s']:.1f}s, exact {row['exact']}, "
              f"median {row['ms_median_of_medians']:.1f} ms, worst {row['ms_worst']:.0f} ms", flush=True)

    if not args.keep:
        for p in list(files.values()) + [store_path]:
            p.unlink(missing_ok=True)

    # ---- report -----------------------------------------------------------
    print()
    print(f"pages {len(pages)}, raw {raw_bytes / 1e6:.1f} MB; ratios are to raw bytes")
    print("| layout | index | stored copy | index+copy | file-store | build s | segment s | exact | median ms | worst ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in summary:
        print(f"| {r['key']} {r['name']} | {r['index_x']:.2f} | {r['content_x']:.2f} | {r['extra_x']:.2f} | "
              f"{r['file_minus_store_x']:.2f} | {r['build_s']:.1f} | {r['segment_s']:.1f} | {r['exact']} | "
              f"{r['ms_median_of_medians']:.1f} | {r['ms_worst']:.0f} |")
    print()
    print("per query: hits/truth (missed, extra) median ms; [top-20 ms]")
    header = "| lang | test | query | truth | " + " | ".join(r["key"] for r in summary) + " |"
    print(header)
    print("|" + "---|" * (4 + len(summary)))
    for i, (lang, what, q) in enumerate(QUERIES):
        cells = []
        for r in summary:
            qr = r["queries"][i]
            mark = "ok" if qr["missed"] == 0 and qr["extra"] == 0 else f"-{qr['missed']}/+{qr['extra']}"
            cell = f"{mark} {qr['ms_median']:.1f}"
            if "top20_ms" in qr:
                cell += f" [{qr['top20_ms']:.1f}{'' if qr['top20_ok'] else ' !'}]"
            cells.append(cell)
        print(f"| {lang} | {what} | {q} | {len(truths[q])} | " + " | ".join(cells) + " |")
    verifying = [r for r in summary if any(qr["unverified_candidates"] is not None for qr in r["queries"])
                 and r["key"] in ("b2", "c", "e2", "f1", "f3")]
    if verifying:
        print()
        print("candidates from the trigram AND (before the exact check) vs truth")
        print("| query | truth | " + " | ".join(r["key"] for r in verifying) + " |")
        print("|" + "---|" * (2 + len(verifying)))
        for i, (_, _, q) in enumerate(QUERIES):
            cells = [str(r["queries"][i]["unverified_candidates"]) for r in verifying]
            print(f"| {q} | {len(truths[q])} | " + " | ".join(cells) + " |")
    out_json = args.out / "fts_tokenizers.json"
    with open(out_json, "w") as fh:
        json.dump({"sqlite": sqlite3.sqlite_version, "pages": len(pages), "raw_bytes": raw_bytes,
                   "store_bytes": store_size, "store_table_bytes": ztext,
                   "probes": probe_results,
                   "files": [r.__dict__ for r in reports], "layouts": summary}, fh, indent=1, ensure_ascii=False)
    print(f"\nJSON: {out_json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
