"""``--since OLD.zim``: what an earlier ZIM of ours holds, and which of its pages are stale now.

A ZIM we write records what it was made from (``X-Wikipeer-Log``: wiki, view, the store's log
position...) and, per page, what it is in the file and which titles its rendering used
(``X-Wikipeer-Pages``). A page is rendered again when it got a revision since, when it is new to
the ZIM, or when a title it used did: a template or module it transcludes, a file it shows, a red
link it drew (the page now exists), a redirect's target. Every other page's entry is copied from
the old file as it is. When the view trusts other keys, the forked pages (more than one head) are stale too. What changes
every page at once renders every page: a page or revision hidden or shown again, another wikipeer
version (its renderer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from wikipeer.errors import UserError
from wikipeer.formats.zim_meta import LOG_KEY, PAGES_KEY, MadeFrom
from wikipeer.formats.zim_pages import page_path
from wikipeer.model.title import WikiConfig
from wikipeer.store.store import Store

PAGE, REDIRECT, LEFT_OUT = "p", "r", "-"
"""What a page is in a ZIM: an entry, a redirect entry, or nothing (no shown head, a redirect to nowhere)."""


@dataclass(slots=True)
class PageRecords:
    """Per page path: what it is in the ZIM (and a redirect's target title), and who used each title."""

    kinds: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    uses: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, kind: str, target: str | None, uses: set[str]) -> None:
        self.kinds[path] = (kind, target)
        for title in uses:
            self.uses.setdefault(title, []).append(path)

    def by_path(self) -> dict[str, set[str]]:
        """Per page path, the titles it used (what a copied page carries into the next file's records)."""
        used: dict[str, set[str]] = {}
        for title, paths in self.uses.items():
            for path in paths:
                used.setdefault(path, set()).add(title)
        return used

    def to_json(self) -> str:
        paths = list(self.kinds)
        number = {p: i for i, p in enumerate(paths)}
        return json.dumps({"pages": [[p, *self.kinds[p]] for p in paths],
                           "uses": {t: [number[p] for p in ps] for t, ps in self.uses.items()}},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "PageRecords":
        data = json.loads(text)
        paths = [p for p, _, _ in data["pages"]]
        return cls({p: (kind, target) for p, kind, target in data["pages"]},
                   {t: [paths[i] for i in ids] for t, ids in data["uses"].items()})


@dataclass(slots=True)
class OldZim:
    """An earlier ZIM of ours, open for reading its entries."""

    path: Path
    archive: object  # libzim.reader.Archive
    made: MadeFrom
    records: PageRecords
    used: dict[str, set[str]] = field(default_factory=dict)
    """``records.by_path()``: what each page of the old file used."""

    @classmethod
    def open(cls, path: Path, wiki: str) -> "OldZim":
        """Open ``path``; UserError when it is not a ZIM, not made by wikipeer, or of another wiki."""
        from libzim.reader import Archive

        if not path.is_file():
            raise UserError(f"--since {path}: no such file")
        try:
            archive = Archive(path)
        except RuntimeError as exc:
            raise UserError(f"--since {path}: not a ZIM file ({exc})") from None
        try:
            made = MadeFrom.from_json(bytes(archive.get_metadata(LOG_KEY)).decode("utf-8"))
            records = PageRecords.from_json(bytes(archive.get_metadata(PAGES_KEY)).decode("utf-8"))
        except (RuntimeError, KeyError, TypeError, ValueError):
            raise UserError(f"--since {path}: this ZIM was not made by 'wikipeer export --zim' (it has no "
                            f"readable {LOG_KEY} record); make a full export instead") from None
        if made.wiki != wiki:
            raise UserError(f"--since {path}: this ZIM holds the wiki {made.wiki!r}, not {wiki!r}")
        return cls(path, archive, made, records, records.by_path())

    def full_render_reason(self, now: MadeFrom) -> str | None:
        """Why every page must be rendered again (None: only the stale ones); UserError when the old
        file cannot be a base at all (another view, other namespaces, a newer log than the store's)."""
        old = self.made
        if old.view != now.view:
            raise UserError(f"--since {self.path}: made with the view {old.view or '(the default)'!r}, not "
                            f"{now.view or '(the default)'!r}; pass --view {old.view} or make a full export"
                            if old.view else f"--since {self.path}: made with the default view; leave --view out "
                            "or make a full export")
        if old.namespaces != now.namespaces:
            raise UserError(f"--since {self.path}: made of the namespaces {','.join(map(str, old.namespaces))}, "
                            f"not {','.join(map(str, now.namespaces))}; pass the same --namespaces or make a "
                            "full export")
        if old.seq > now.seq:
            raise UserError(f"--since {self.path}: made from a later state of the store (log position "
                            f"{old.seq}, this node's is {now.seq}): it was made on another node")
        if old.hidden != now.hidden:
            return "pages or revisions were hidden or shown again"
        if old.renderer != now.renderer or old.format != now.format:
            return f"it was rendered by wikipeer {old.renderer}"
        return None

    def changed(self, store: Store, config: WikiConfig, now: MadeFrom) -> set[str]:
        """Full titles of the pages whose shown head may differ from the old file's: those with a revision
        or file version since, and, when the view trusts other keys now, every forked page (a page with
        one head shows it whoever is trusted)."""
        pages = store.pages_changed_since(config.name, self.made.seq)
        if now.trusted != self.made.trusted:
            pages += store.forked_pages(config.name)
        return {config.full_title(p.ns, p.title) for p in pages}

    def stale(self, changed: set[str]) -> set[str]:
        """Paths of the pages to render again: changed since the old file, or using a title that did."""
        paths = {page_path(t) for t in changed}
        for title in changed:
            paths.update(self.records.uses.get(title, ()))
        return paths

    def entry_bytes(self, path: str) -> bytes | None:
        """The content of an entry of the old file, None when it has none at ``path``."""
        archive = self.archive
        if not archive.has_entry_by_path(path):  # type: ignore[attr-defined]
            return None
        entry = archive.get_entry_by_path(path)  # type: ignore[attr-defined]
        return None if entry.is_redirect else bytes(entry.get_item().content)
