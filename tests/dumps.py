"""Helpers for dump tests: the real samples, and a reader that compares dumps by content."""

from __future__ import annotations

import lzma
from pathlib import Path

from wikipeer.formats.dump_reader import DumpError, DumpPage, SiteInfo, read_dump

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wikipedia"
TRUNCATED = ["ukwiki", "viwiki", "jawiki", "mrwiki"]


def sample(name: str) -> Path:
    for candidate in (SAMPLES / f"{name}-truncated-100k.xml.xz", SAMPLES / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no sample {name} in {SAMPLES}")


def load(path: Path) -> tuple[SiteInfo | None, dict[str, DumpPage]]:
    """Siteinfo and complete pages by title, whatever the schema's formatting."""
    opener = lzma.open if path.suffix == ".xz" else open
    site, pages = None, {}
    with opener(path, "rb") as stream:
        try:
            for item in read_dump(stream):
                if isinstance(item, SiteInfo):
                    site = item
                else:
                    pages[item.title] = item
        except DumpError:
            pass
    return site, pages


def content(page: DumpPage) -> tuple:
    """Everything the schema carries for a page, except where in the file it was."""
    return (page.title, page.ns, page.id, page.redirect, page.revisions)
