"""The soak of `make bench`, shortened: a busy half minute on a real `wikipeer serve` process.

40 readers (articles, old revisions' raw texts, histories, diffs, search), 5
writers through the web form and 4 peers pulling the change log, each from its
own loopback address. Nothing may fail or come back different from the answer
the same request got alone, no acknowledged edit may be missing, the store
must pass fsck afterwards, and the server's memory must stay bounded. The full
run (200 readers, 10 minutes) is `python -m bench.soak` / `make bench`.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ lives beside tests/, not in the package

from bench.soak import Load, run  # noqa: E402

SHORT = Load(seconds=30, readers=40, writers=5, peers=4, pages=60, revisions=16)
RSS_GROWTH_MB = 150  # caches warming up (render, article, text) in the first seconds, not a leak
RSS_MAX_MB = 600

pytestmark = pytest.mark.serial  # it counts the requests served in 30 s: another test beside it halves them


def test_short_soak_has_no_errors_no_missing_edits_a_clean_store_and_bounded_memory():
    lines: list[str] = []
    # A thread of its own: the soak runs its own event loop, and a browser test's Playwright may
    # hold one in the main thread.
    with ThreadPoolExecutor(1) as pool:
        figures = pool.submit(run, SHORT, lines.append).result()
    summary = "\n".join(lines + [f"{k}: {v}" for k, v in figures.items()])
    assert figures["server alive after"] == 1, summary
    assert figures["errors"] == 0, summary
    assert figures["edits acknowledged"] >= SHORT.writers, summary  # the writers really wrote
    assert figures["edits missing"] == 0, summary
    assert figures["blocks pulled"] >= SHORT.pages * SHORT.revisions * 3, summary  # the peers pulled the whole log
    assert figures["requests"] >= 1000, summary
    assert figures["fsck clean after"] == 1, summary
    assert figures["RSS MB last minute"] <= figures["RSS MB first minute"] + RSS_GROWTH_MB, summary
    assert figures["RSS MB max"] <= RSS_MAX_MB, summary
