"""The built-in sample wiki: pages about wikipeer itself, written by us.

Each ``pages/NN-Title.wiki`` file starts with ``title: ...`` and holds the
page's revisions oldest first, each after a ``%%% revision: SUMMARY`` line.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from wikipeer.authoring import edit
from wikipeer.node import Node

SAMPLE_WIKI = "wikipeer"
DEMO_KEY = "demo"
_START = 1_767_225_600_000  # 2026-01-01, so the sample's history reads the same everywhere
_MARK = "%%% revision: "


@dataclass(frozen=True, slots=True)
class SamplePage:
    title: str
    revisions: list[tuple[str, str]]  # (summary, text)


def sample_pages() -> list[SamplePage]:
    """Parse the page files shipped with the package."""
    pages = []
    folder = resources.files(__package__) / "pages"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".wiki"):
            continue
        lines = entry.read_text(encoding="utf-8").splitlines(keepends=True)
        title = lines[0].removeprefix("title:").strip()
        revisions: list[tuple[str, list[str]]] = []
        for line in lines[1:]:
            if line.startswith(_MARK):
                revisions.append((line[len(_MARK):].strip(), []))
            elif revisions:
                revisions[-1][1].append(line)
        pages.append(SamplePage(title, [(s, "".join(t).rstrip("\n") + "\n") for s, t in revisions]))
    return pages


def load_sample(node: Node) -> int:
    """Write the sample wiki into a node as edits signed by a demo key; returns revisions written."""
    if not node.keyring.exists(DEMO_KEY):
        node.keyring.create(DEMO_KEY)
    count = 0
    for p, page in enumerate(sample_pages()):
        for r, (summary, text) in enumerate(page.revisions):
            ts = _START + (r * 86_400 + p * 600) * 1000
            edit(node, SAMPLE_WIKI, page.title, text, summary, ts=ts, key_name=DEMO_KEY)
            count += 1
    return count
