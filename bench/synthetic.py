"""Synthetic wiki histories for benchmarks: pseudo-prose pages edited a little at a time.

Words come from a fixed made-up vocabulary with a Zipf-like frequency, so the
texts compress about as well as real prose does, not better.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import nacl.signing

from wikipeer.authoring import edit_blocks
from wikipeer.model.block import Block
from wikipeer.model.keys import key_to_str
from wikipeer.model.objects import Page

_SYLLABLES = ["ka", "lo", "min", "te", "ra", "su", "vel", "on", "dri", "ma", "pel", "ost", "ur", "ni", "qua", "zen"]


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    return ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(size)]


def prose(rng: random.Random, words: list[str], nbytes: int) -> str:
    """About ``nbytes`` of sentences, with a heading now and then."""
    weights = [1 / (i + 1) for i in range(len(words))]
    out: list[str] = []
    size = 0
    while size < nbytes:
        sentence = " ".join(rng.choices(words, weights, k=rng.randint(6, 18))).capitalize() + ". "
        if rng.random() < 0.05:
            sentence = f"\n\n== {rng.choice(words).capitalize()} ==\n"
        out.append(sentence)
        size += len(sentence)
    return "".join(out)


def small_edit(rng: random.Random, words: list[str], text: str) -> str:
    """Change a sentence's worth of text somewhere in the page."""
    at = rng.randrange(len(text))
    cut = rng.randint(0, 80)
    return text[:at] + prose(rng, words, rng.randint(20, 120)) + text[at + cut:]


def history(pages: int, revisions: int, text_bytes: int = 5000, seed: int = 1) -> Iterator[tuple[str, list[Block]]]:
    """Yield (text, blocks) for every revision, page by page, signed by one author key."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    key = nacl.signing.SigningKey(bytes(rng.randrange(256) for _ in range(32)))
    author = key_to_str(bytes(key.verify_key))
    ts = 1_700_000_000_000
    for p in range(pages):
        page = Page("bench", 0, f"Page {p}")
        text = prose(rng, words, text_bytes)
        parents: tuple[bytes, ...] = ()
        for r in range(revisions):
            if r:
                text = small_edit(rng, words, text)
            ts += 1000
            blocks = edit_blocks(page, text, parents, f"edit {r} of page {p}", key, author, ts)
            parents = (blocks[2].cid,)
            yield text, blocks
