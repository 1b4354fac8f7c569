"""Trust and gossip benchmarks (issue 7): shown heads under a large view, gossip reach, enforced blocklists.

1. Shown head: a real store holding 100,000 pages (synthetic short pages,
   signed by 2,000 author keys; some pages edited again, some forked into two
   or three heads, some heads seconded by other keys), all through the ingest
   door. The timed loop is what the web page does for each page:
   ``view.shown(store, page_id)`` (the store chooses the head in one SQL
   query and reads only that head in full), under a View of 1,000 trusted keys
   (the members of a real trust list, through ``policy.trust.members``), and
   the path it replaced, ``view.choose(store.heads(page_id))`` (every head
   read in full, ranked in Python), which must choose the same heads.
   Anchors in the same run: both under a View of one key, every page's head
   id in one query (``Store.shown_head_ids``), and
   ``SELECT rev FROM heads WHERE page = ?`` alone. A cProfile of a slice
   says where the time goes.
2. Gossip: 100 in-process nodes, each with a random Ed25519 node key, run the
   real ``wikipeer.net.gossip.targets`` (with ``position`` and its ring
   ranges) round by round: round 1 is the publisher's messages over the whole
   ring; a node receiving a notice for the first time passes it on in the next
   round with the range it was handed; a duplicate goes no further (as at
   ingest). Variants: every node knows every other; each knows 10-20 random
   others; 5% of the nodes down (a message to them fails, they forward
   nothing). Many seeds; worst and median. For comparison, one *proposed*
   change (not in src: a sender retries another known peer of the same part
   when a message fails) is simulated the same way. (The first version of
   this benchmark also proposed cutting the sender's own place out of its
   part; src/wikipeer/net/gossip.py now does that, in ``parts``.)
3. Blocklist ingest: 5,000 revisions of real Wikipedia text (the articles
   of the Vietnamese and Ukrainian samples, each edited nine times by moving paragraphs in from other
   pages; built in memory, nothing of the text is kept) ingested into a fresh
   store with ``Policy()`` and with ``Policy(guard=BlockGuard(ten lists of
   500 spam patterns))``, none of which matches the text; the two stores take
   the same batches in turn (so both see the same load from other processes),
   three times over; the ratio of rates.

``python -m bench.trust_bench [heads|gossip|blocklist]`` runs one part.
"""

from __future__ import annotations

import cProfile
import functools
import io
import lzma
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nacl.signing
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from bench.synthetic import prose, small_edit, vocabulary
from wikipeer.authoring import edit_blocks
from wikipeer.formats.dump_reader import DumpError, DumpPage, read_dump
from wikipeer.ingest import ingest
from wikipeer.model.block import Block
from wikipeer.model.keys import key_to_str, sign
from wikipeer.model.objects import Blocklist, Page, Signature, Trust, build_signature
from wikipeer.net.gossip import WHOLE, Target, position, targets
from wikipeer.policy.blocklist import BlockGuard, added_text
from wikipeer.policy.rules import Policy
from wikipeer.policy.trust import members
from wikipeer.policy.view import View
from wikipeer.store.records import RevInfo, SigInfo
from wikipeer.store.store import Store

console = Console(stderr=True)
ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [ROOT.parent / "shared" / "data" / "wikipedia" / f"{name}wiki-truncated-100k.xml.xz" for name in ("vi", "uk")]

HEAD_PAGES, AUTHORS, TRUSTED, HEAD_BATCH = 100_000, 2_000, 1_000, 1_000
GOSSIP_NODES, GOSSIP_SEEDS, DOWN = 100, 200, 0.05
HEAD_STORE_VERSION = 1
CACHE = ROOT / "bench" / "out" / "trust"
BL_PAGES, BL_REVISIONS, BL_LISTS, BL_PATTERNS, BL_REPEATS, BL_BATCH = 500, 10, 10, 500, 3, 250


def _progress() -> Progress:
    return Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


def _keys(rng: random.Random, n: int) -> list[tuple[nacl.signing.SigningKey, str]]:
    out = []
    for _ in range(n):
        key = nacl.signing.SigningKey(rng.randbytes(32))
        out.append((key, key_to_str(bytes(key.verify_key))))
    return out


# -- 1. the shown head of 100,000 pages -------------------------------------------------------


def _authors() -> list[tuple[nacl.signing.SigningKey, str]]:
    return _keys(random.Random(77), AUTHORS)


def _head_store(path: Path, progress: Progress) -> dict[str, float]:
    """100,000 pages: 5% edited again, 8% forked into two heads, 2% into three, 15% of heads seconded."""
    rng = random.Random(7)
    words = vocabulary(rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    authors = _authors()
    store = Store(path)
    task = progress.add_task(f"shown head: building {HEAD_PAGES:,} pages", total=HEAD_PAGES)
    ts = 1_700_000_000_000
    revisions = seconds = 0
    start = time.perf_counter()
    for first in range(0, HEAD_PAGES, HEAD_BATCH):
        blocks: list[Block] = []
        for p in range(first, min(first + HEAD_BATCH, HEAD_PAGES)):
            page = Page("bench", 0, f"Page {p}")
            text = prose(rng, words, rng.randint(60, 240))
            key, author = rng.choice(authors)
            ts += rng.randint(1, 2000)
            base = edit_blocks(page, text, (), "new", key, author, ts)
            blocks += base
            heads = [base[2].cid]
            roll = rng.random()
            extra = 1 if roll < 0.05 else 2 if roll < 0.13 else 3 if roll < 0.15 else 0
            if extra == 1:  # edited again: still one head
                key, author = rng.choice(authors)
                child = edit_blocks(page, small_edit(rng, words, text), (base[2].cid,), "edit", key, author,
                                    ts + rng.randint(1, 10**9))
                blocks += child[1:]
                heads = [child[2].cid]
            elif extra:  # forked: two or three heads on the same parent, by other keys, at other times
                heads = []
                for _ in range(extra):
                    key, author = rng.choice(authors)
                    fork = edit_blocks(page, small_edit(rng, words, text), (base[2].cid,), "fork", key, author,
                                       ts + rng.randint(1, 10**9))
                    blocks += fork[1:]
                    heads.append(fork[2].cid)
            revisions += 1 + (extra or 0)
            for head in heads:
                if rng.random() < 0.15:
                    for key, who in rng.sample(authors, rng.randint(1, 3)):
                        blocks.append(build_signature(Signature(head, "second", who, sign(key, head, "second"), ts)))
                        seconds += 1
        counts = ingest(store, blocks, "bench").counts()
        if counts.get("rejected") or counts.get("held"):
            raise RuntimeError(f"shown head: the synthetic history did not go in cleanly: {dict(counts)}")
        progress.update(task, completed=min(first + HEAD_BATCH, HEAD_PAGES))
    build = time.perf_counter() - start
    progress.remove_task(task)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return {"revisions": revisions, "seconds": seconds, "build s": build}


def _time_heads(store: Store, page_ids: list[int], view: View) -> tuple[float, list[int]]:
    start = time.perf_counter()
    chosen = []
    for page_id in page_ids:
        head = view.choose(store.heads(page_id))
        chosen.append(head.id)
    return time.perf_counter() - start, chosen


def _time_shown(store: Store, page_ids: list[int], view: View) -> tuple[float, list[int]]:
    """What callers do now: ``view.shown(store, page_id)``, one SQL query choosing the head, then its RevInfo."""
    start = time.perf_counter()
    chosen = []
    for page_id in page_ids:
        head = view.shown(store, page_id)
        chosen.append(head.id)
    return time.perf_counter() - start, chosen


def _time_shown_ids(store: Store, page_ids: list[int], view: View) -> tuple[float, list[int]]:
    """The shown head's id of every page in one query (``Store.shown_head_ids``), as search reindexing uses it."""
    start = time.perf_counter()
    shown = store.shown_head_ids(view.trusted)
    chosen = [shown[p] for p in page_ids]
    return time.perf_counter() - start, chosen


def _profile_heads(store: Store, page_ids: list[int], view: View) -> list[tuple[str, float]]:
    """Share of the loop's time spent in each part (cumulative), from cProfile over a slice."""
    profiler = cProfile.Profile()
    profiler.enable()
    for page_id in page_ids:
        view.shown(store, page_id)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = sum(tt for (_, _, tt, _, _) in stats.stats.values())  # type: ignore[attr-defined]
    def sqlite_calls(path: str, name: str) -> bool:  # the statements' steps run in execute and in fetch/iteration
        return path == "~" and ("sqlite3.Connection" in name or "sqlite3.Cursor" in name)

    wanted: dict[str, Callable[[str, str], bool]] = {
        "store.shown.shown_head_row (one query: head, CID, data, stamp)":
            lambda path, name: path.endswith("shown.py") and name == "shown_head_row",
        "Store._rev_info (the chosen head read in full)":
            lambda path, name: path.endswith("store.py") and name == "_rev_info",
        "  Store._revision_fields (CBOR + page/text/parents/author queries)":
            lambda path, name: path.endswith("store.py") and name == "_revision_fields",
        "  Store.signatures (sigs JOIN keys JOIN objects)":
            lambda path, name: path.endswith("store.py") and name == "signatures",
        "  all SQLite calls (execute, fetch)": sqlite_calls,
        "  libipld.decode_dag_cbor": lambda path, name: path == "~" and "decode_dag_cbor" in name,
    }
    out = []
    for label, match in wanted.items():
        # cumulative time for Python functions; own time for built-ins (they call nothing profiled)
        cum = sum(tt if path == "~" else ct
                  for (path, _, name), (_, _, tt, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
                  if match(path, name))
        out.append((label, cum / total if total else 0.0))
    return out


def run_heads() -> dict[str, float]:
    with _progress() as progress:
        # Building the store (~130,000 signed revisions through the ingest door) takes minutes on this
        # host; it is kept under bench/out and built again only when the parameters or the version change.
        path = CACHE / f"heads-v{HEAD_STORE_VERSION}-{HEAD_PAGES}-{AUTHORS}.sqlite"
        if path.exists():
            built = {"build s": float("nan")}
        else:
            for old in CACHE.glob("heads-*.sqlite*"):
                old.unlink()
            partial = path.with_suffix(".partial")
            for leftover in CACHE.glob("heads-*.partial*"):
                leftover.unlink()
            built = _head_store(partial, progress)
            partial.rename(path)
        authors = _authors()
        rng = random.Random(11)
        # The 1,000 trusted keys: half of them sign revisions here, half sign nothing this store holds.
        trusted_keys = [a for _, a in rng.sample(authors, TRUSTED // 2)] + [a for _, a in _keys(rng, TRUSTED - TRUSTED // 2)]
        issuer = _keys(rng, 1)[0][1]
        trust = Trust(issuer, "bench", 1, 0, {k: "member" for k in trusted_keys})
        start = time.perf_counter()
        big = View(members([(issuer, "bench")], lambda i, n: trust if (i, n) == (issuer, "bench") else None).keys)
        view_build = time.perf_counter() - start
        small = View(frozenset([authors[0][1]]))
        assert len(big.trusted) == TRUSTED
        store = Store(path)
        page_ids = [r[0] for r in store.conn.execute("SELECT id FROM pages ORDER BY id")]
        heads_count = store.conn.execute("SELECT count(*) FROM heads").fetchone()[0]
        revisions = store.conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
        seconds = store.conn.execute("SELECT count(*) FROM sigs WHERE role = 'second'").fetchone()[0]
        multi = store.conn.execute("SELECT count(*) FROM (SELECT page FROM heads GROUP BY page HAVING count(*) > 1)").fetchone()[0]
        # warm the page cache once so the first timed loop does not pay for it alone
        store.conn.execute("SELECT count(*), sum(length(data)) FROM objects").fetchone()
        store.conn.execute("SELECT count(*) FROM sigs").fetchone()

        task = progress.add_task("shown head: timing (before and now, 1,000 keys and 1 key, SQL only; twice)", total=12)
        runs = {"before big": (_time_heads, big), "before small": (_time_heads, small),
                "now big": (_time_shown, big), "now small": (_time_shown, small),
                "ids big": (_time_shown_ids, big)}
        times: dict[str, list[float]] = {k: [] for k in (*runs, "sql")}
        chosen: dict[str, list[int]] = {}
        for _ in range(2):  # interleaved, best of two: the host's CPU steal comes and goes
            for label, (fn, view) in runs.items():
                t, chosen[label] = fn(store, page_ids, view)
                times[label].append(t)
                progress.advance(task)
            start = time.perf_counter()
            for page_id in page_ids:
                store.conn.execute("SELECT rev FROM heads WHERE page = ?", (page_id,)).fetchall()
            times["sql"].append(time.perf_counter() - start)
            progress.advance(task)
            if chosen["now big"] != chosen["before big"] or chosen["ids big"] != chosen["before big"] \
                    or chosen["now small"] != chosen["before small"]:
                raise RuntimeError("shown head: the store's query chose other heads than store.heads + View.choose")
        chosen_big, chosen_small = chosen["before big"], chosen["before small"]
        start = time.perf_counter()
        store.conn.execute("SELECT page, rev FROM heads").fetchall()
        scan = time.perf_counter() - start
        progress.remove_task(task)
        task = progress.add_task("shown head: profiling 10,000 pages", total=1)
        shares = _profile_heads(store, page_ids[::10], big)
        progress.remove_task(task)
        differ = sum(a != b for a, b in zip(chosen_big, chosen_small, strict=True))
        trusted_shown = sum(1 for pid in page_ids[::10] if big.is_trusted(big.choose(store.heads(pid))))
        store.close()

    n = len(page_ids)
    rate = {k: n / min(v) for k, v in times.items()}
    console.print("  where the time goes (cProfile, 10,000 pages, 1,000-key view; cumulative shares):")
    for label, share in shares:
        console.print(f"    {share:6.1%}  {label}")
    results: dict[str, float] = {
        "pages": n,
        "revisions": revisions,
        "second signatures": seconds,
        "heads": heads_count,
        "pages with 2-3 heads": multi,
        "build s (ingest door; nan: from bench/out)": built["build s"],
        "view of 1,000 keys built ms": view_build * 1000,
        "pages/s, before: View.choose(store.heads), 1,000 keys": rate["before big"],
        "pages/s, before: View.choose(store.heads), 1 key": rate["before small"],
        "pages/s, now: View.shown (one query + RevInfo), 1,000 keys": rate["now big"],
        "pages/s, now: View.shown, 1 key": rate["now small"],
        "pages/s, Store.shown_head_ids, all pages in one query": rate["ids big"],
        "pages/s, SELECT rev FROM heads": rate["sql"],
        "one scan of all heads ms": scan * 1000,
        "now / before (1,000 keys)": rate["now big"] / rate["before big"],
        "now / before (1 key)": rate["now small"] / rate["before small"],
        "all-pages query / before (1,000 keys)": rate["ids big"] / rate["before big"],
        "now 1,000 keys / 1 key": rate["now big"] / rate["now small"],
        "pages shown differently by the views": differ,
        "shown heads trusted (1 in 10 pages)": trusted_shown,
    }
    for label, share in shares:
        results[f"profile: {label.strip()[:40]}"] = share
    return results


# -- 2. gossip to 100 nodes ----------------------------------------------------------------


Selector = Callable[[int, dict[str, int], int, int, random.Random], list[Target]]


@functools.cache
def _node_positions(seed: int) -> tuple[int, ...]:
    """The ring positions of the nodes' random Ed25519 keys, the same for every variant of a seed."""
    return tuple(position(key) for _, key in _keys(random.Random(10_000 + seed), GOSSIP_NODES))


def _gossip(select: Selector, seed: int, known: tuple[int, int] | None, down_share: float,
            retry: bool = False) -> dict[str, float]:
    """One notice from one publisher through GOSSIP_NODES nodes; rounds, reach and messages.

    ``retry`` (PROPOSED, not in src): a sender whose message fails tries
    another known peer in the same part, as gossip_round could on PeerError.
    """
    rng = random.Random(seed)
    names = [f"http://node{i}.test" for i in range(GOSSIP_NODES)]
    place = dict(zip(names, _node_positions(seed), strict=True))
    books: dict[str, dict[str, int]] = {}
    for name in names:
        others = [n for n in names if n != name]
        chosen = others if known is None else rng.sample(others, rng.randint(*known))
        books[name] = {n: place[n] for n in chosen}
    publisher = names[0]
    down = set(rng.sample(names[1:], round(down_share * GOSSIP_NODES)))
    have = {publisher}
    sent = dict.fromkeys(names, 0)
    received = dict.fromkeys(names, 0)
    wave = [(publisher, *WHOLE)]
    rounds = last = 0
    while wave:
        rounds += 1
        following = []
        for sender, lo, hi in wave:
            for target in select(place[sender], books[sender], lo, hi, rng):
                peer = target.peer
                sent[sender] += 1
                if peer in down and retry:
                    others = sorted(n for n, pos in books[sender].items()
                                    if target.lo <= pos < target.hi and n not in down and pos != place[sender])
                    sent[sender] += bool(others)
                    peer = rng.choice(others) if others else peer
                if peer in down:
                    continue  # the sender sees a connection error; that part waits for the next sync
                received[peer] += 1
                if peer not in have:
                    have.add(peer)
                    last = rounds
                    following.append((peer, target.lo, target.hi))
                # else: a duplicate at ingest, not queued again: its range goes no further
        wave = following
    live = [n for n in names if n not in down]
    return {
        "rounds": last,
        "missed": sum(1 for n in live if n not in have),
        "messages per node": sum(sent.values()) / GOSSIP_NODES,
        "max sent": max(sent.values()),
        "max received": max(received.values()),
        "duplicates": sum(received.values()) - (len(have) - 1),
    }


def run_gossip() -> dict[str, float]:
    variants = [
        ("all known", targets, None, 0.0, False),
        ("10-20 known", targets, (10, 20), 0.0, False),
        ("all known, 5% down", targets, None, DOWN, False),
        ("PROPOSED retry, 5% down", targets, None, DOWN, True),
    ]
    results: dict[str, float] = {"nodes": GOSSIP_NODES, "seeds per variant": GOSSIP_SEEDS}
    with _progress() as progress:
        task = progress.add_task("gossip: simulating", total=len(variants) * GOSSIP_SEEDS)
        for label, select, known, down_share, retry in variants:
            runs = []
            for seed in range(GOSSIP_SEEDS):
                runs.append(_gossip(select, seed, known, down_share, retry))
                progress.advance(task)
            rounds = [r["rounds"] for r in runs]
            missed = [r["missed"] for r in runs]
            per_node = [r["messages per node"] for r in runs]
            results[f"{label}: rounds worst"] = max(rounds)
            results[f"{label}: rounds median"] = statistics.median(rounds)
            results[f"{label}: seeds reaching all live"] = sum(m == 0 for m in missed)
            results[f"{label}: missed worst"] = max(missed)
            results[f"{label}: missed median"] = statistics.median(missed)
            results[f"{label}: msgs/node worst"] = max(per_node)
            results[f"{label}: msgs/node median"] = statistics.median(per_node)
            results[f"{label}: max sent by a node"] = max(r["max sent"] for r in runs)
            results[f"{label}: max received by a node"] = max(r["max received"] for r in runs)
            results[f"{label}: duplicates median"] = statistics.median(r["duplicates"] for r in runs)
    return results


# -- 3. ingest with ten blocklists of 500 patterns -----------------------------------------------

_SPAM_WORDS = ["viagra", "cialis", "levitra", "casino", "poker", "roulette", "payday", "loans", "replica", "rolex",
               "pharmacy", "pills", "xanax", "tramadol", "valium", "bitcoin", "forex", "crypto", "escort", "dating",
               "jackpot", "betting", "slots", "weightloss", "diet", "rayban", "oakley", "outlet", "followers", "likes",
               "essay", "seo", "backlinks", "hack", "cheats", "giftcard", "prize", "winner", "lottery", "mortgage"]
_LEET = {"a": "[aA@4]", "e": "[eE3]", "i": "[iI1!|]", "o": "[oO0]", "s": "[sS5$]", "l": "[lL1|]", "t": "[tT7]"}
_TLDS = ["com", "net", "info", "biz", "ru", "xyz", "top", "club", "online", "site"]
_SYLLABLES = ["qua", "zor", "blix", "vex", "kru", "plo", "dax", "ym", "frob", "gux", "tez", "wox"]


def _spam_patterns(rng: random.Random, n: int) -> list[str]:
    """Spam patterns of the kinds real lists hold: words, leet character classes, URLs with wildcards, phrases."""
    out: list[str] = []
    while len(out) < n:
        word = rng.choice(_SPAM_WORDS)
        word2 = rng.choice(_SPAM_WORDS)
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        kind = rng.randrange(7)
        if kind == 0:
            pattern = rf"\b{word}{name}\b"
        elif kind == 1:
            pattern = r"\b" + "".join(_LEET.get(c, c) for c in word) + rf"[\W_]*{name}"
        elif kind == 2:
            pattern = rf"https?://([a-z0-9-]+\.)*{word}-?{name}\d*\.({'|'.join(rng.sample(_TLDS, 3))})(/\S*)?"
        elif kind == 3:
            pattern = rf"(?i)buy\s+(cheap\s+)?{word}\s+{name}"
        elif kind == 4:
            pattern = rf"{name}\.{rng.choice(_TLDS)}/[a-z0-9_/-]*{word}"
        elif kind == 5:
            pattern = rf"(?i)free\s+{word}.{{0,20}}{name}"
        else:
            pattern = rf"\[https?://[^\s\]]*{name}[^\s\]]*\s+[^\]]*{word2}[^\]]*\]"
        if pattern not in out:
            out.append(pattern)
    return out


def _sample_pages() -> list[str]:
    """The articles (not redirects, 2,000 to 20,000 characters, a few paragraphs) of the Vietnamese and Ukrainian samples."""
    texts = []
    for sample in SAMPLES:
        with lzma.open(sample, "rb") as stream:
            try:
                for item in read_dump(stream):
                    if isinstance(item, DumpPage) and item.ns == 0 and item.revisions and not item.redirect:
                        text = item.revisions[-1].text
                        if 2000 <= len(text) <= 20_000 and text.count("\n\n") >= 3:
                            texts.append(text)
            except DumpError:  # the sample is cut off mid-page: every complete page was read
                pass
    return texts


def _edit_history(texts: list[str]) -> list[tuple[str, str, list[Block]]]:
    """(parent text, text, blocks) of BL_PAGES pages x BL_REVISIONS revisions, signed by one key.

    Each edit moves a paragraph of another page in (somewhere between
    paragraphs) and, half the time, drops one: what edits of real articles add.
    """
    rng = random.Random(3)
    key, author = _keys(rng, 1)[0]
    pages = rng.sample(texts, BL_PAGES)
    paragraphs = [p for t in texts for p in t.split("\n\n") if 40 < len(p) < 1500]
    out = []
    ts = 1_700_000_000_000
    for i, text in enumerate(pages):
        page = Page("bench", 0, f"Page {i}")
        parents: tuple[bytes, ...] = ()
        old = ""
        for r in range(BL_REVISIONS):
            if r:
                parts = text.split("\n\n")
                parts.insert(rng.randrange(len(parts) + 1), rng.choice(paragraphs))
                if rng.random() < 0.5 and len(parts) > 3:
                    del parts[rng.randrange(len(parts))]
                text = "\n\n".join(parts)
            ts += 1000
            blocks = edit_blocks(page, text, parents, f"edit {r}", key, author, ts)
            parents = (blocks[2].cid,)
            out.append((old, text, blocks))
            old = text
    return out


def _ingest_pair(history: list[tuple[str, str, list[Block]]], guard: BlockGuard) -> tuple[float, float]:
    """Seconds to ingest ``history`` into two fresh stores, without and with ``guard``, batch by batch in turn.

    Interleaving batch by batch (and alternating which store goes first)
    puts both sides under the same load from the other processes on this host.
    """
    policies = (Policy(), Policy(guard=guard))
    spent = [0.0, 0.0]
    with tempfile.TemporaryDirectory() as tmp:
        stores = [Store(Path(tmp) / "plain.sqlite"), Store(Path(tmp) / "guarded.sqlite")]
        for n, i in enumerate(range(0, len(history), BL_BATCH)):
            blocks = [b for _, _, bs in history[i:i + BL_BATCH] for b in bs]
            for side in ((0, 1) if n % 2 == 0 else (1, 0)):
                start = time.perf_counter()
                ingest(stores[side], blocks, "bench", policy=policies[side])
                spent[side] += time.perf_counter() - start
        for store in stores:
            revisions = store.conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
            store.close()
            if revisions != len(history):
                raise RuntimeError(f"blocklist: {revisions} revisions accepted of {len(history)}: a pattern matched?")
    return spent[0], spent[1]


def run_blocklist() -> dict[str, float]:
    with _progress() as progress:
        task = progress.add_task("blocklist: reading the vi and uk samples, building 5,000 revisions", total=1)
        texts = _sample_pages()
        history = _edit_history(texts)
        progress.remove_task(task)

        task = progress.add_task("blocklist: ten lists of 500 patterns, none matching the text", total=1)
        rng = random.Random(5)
        issuer = _keys(rng, 1)[0][1]
        pattern_lists = [_spam_patterns(rng, BL_PATTERNS) for _ in range(BL_LISTS)]
        added = [added_text(old, new) for old, new, _ in history]
        replaced = 0
        for lst in pattern_lists:  # a pattern that matches the sample text would refuse real edits: replace it
            while True:
                guard = BlockGuard([Blocklist(issuer, "probe", 1, 0, tuple(lst))])
                hits = {h.pattern for h in (guard.check(t) for t in added) if h is not None}
                if not hits:
                    break
                replaced += len(hits)
                lst[:] = [p for p in lst if p not in hits]
                lst += [p for p in _spam_patterns(rng, BL_PATTERNS) if p not in lst][:BL_PATTERNS - len(lst)]
        start = time.perf_counter()
        guard = BlockGuard([Blocklist(issuer, f"spam-{i}", 1, 0, tuple(lst)) for i, lst in enumerate(pattern_lists)])
        compile_s = time.perf_counter() - start
        progress.remove_task(task)

        # The guard alone, outside ingest: diffing lines, then the ten RE2 sets.
        start = time.perf_counter()
        added = [added_text(old, new) for old, new, _ in history]
        diff_s = time.perf_counter() - start
        start = time.perf_counter()
        for text in added:
            guard.check(text)
        match_s = time.perf_counter() - start

        task = progress.add_task("blocklist: ingest without and with the guard, batch by batch in turn", total=BL_REPEATS)
        plain, guarded = [], []
        for _ in range(BL_REPEATS):
            a, b = _ingest_pair(history, guard)
            plain.append(len(history) / a)
            guarded.append(len(history) / b)
            progress.advance(task)
        progress.remove_task(task)
    ratios = [g / p for p, g in zip(plain, guarded, strict=True)]
    n = len(history)
    return {
        "revisions": n,
        "text MB": sum(len(t.encode()) for _, t, _ in history) / 1e6,
        "added text MB (what the guard reads)": sum(len(t.encode()) for t in added) / 1e6,
        "patterns": sum(len(lst) for lst in pattern_lists),
        "patterns replaced (matched the sample)": replaced,
        "guard compile ms": compile_s * 1000,
        "added_text us/rev": diff_s / n * 1e6,
        "RE2 sets us/rev": match_s / n * 1e6,
        "rev/s, no blocklist (best)": max(plain),
        "rev/s, ten lists (best)": max(guarded),
        f"enforced / none (median of {BL_REPEATS} runs)": statistics.median(ratios),
        "enforced / none (worst run)": min(ratios),
    }


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    for prefix, fn in (("head", run_heads), ("gossip", run_gossip), ("blocklist", run_blocklist)):
        start = time.perf_counter()
        for key, value in fn().items():
            results[f"{prefix}: {key}"] = value
        console.print(f"  {prefix}: {time.perf_counter() - start:.0f} s")
    return results


if __name__ == "__main__":
    parts = {"heads": run_heads, "gossip": run_gossip, "blocklist": run_blocklist}
    chosen = sys.argv[1:] or list(parts)
    for part in chosen:
        for k, v in parts[part]().items():
            print(f"  {k:<56} {v:,.3f}" if isinstance(v, float) else f"  {k:<56} {v:,}")
