"""The store's side of git as a peer: which commit each revision became, and how far each wiki's repository is built.

Commits are derived data (docs/git.md): built once from the store, kept in
``git_commits`` (revision CID -> commit id), never rebuilt for the whole
history. ``git_state`` holds, per wiki, the log position built up to, the
newest view commit and the fingerprint of the view it follows; ``git_shown``
the head each page's file in that view commit holds. All three change in one
transaction, after the objects they name are on disk in the repository.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wikipeer.store.store import Store, rows_in


@dataclass(frozen=True, slots=True)
class GitState:
    """How far one wiki's repository is built."""

    built_to: int
    """Log position (objects.id) of the newest object looked at."""
    main: str | None
    """The newest view commit (what refs/heads/main names), or None before the first."""
    view: str
    """Fingerprint of the view that commit follows."""


@dataclass(frozen=True, slots=True)
class NewRevision:
    """A revision of the wiki that arrived after the built position."""

    id: int
    cid: bytes
    page: int


@dataclass(frozen=True, slots=True)
class Shown:
    """The head a page's file in the newest view commit holds, and whether the page had other heads."""

    rev: int
    forks: bool


def state(store: Store, wiki: str) -> GitState:
    """Where ``wiki``'s repository is built up to (nothing yet: position 0)."""
    row = store.conn.execute("SELECT built_to, main, view FROM git_state WHERE wiki = ?", (wiki,)).fetchone()
    return GitState(*row) if row else GitState(0, None, "")


def new_revisions(store: Store, wiki: str, since: int, limit: int) -> list[NewRevision]:
    """At most ``limit`` revisions of ``wiki`` after log position ``since``, in log order."""
    rows = store.conn.execute(
        "SELECT r.id, o.cid, r.page FROM revisions r JOIN objects o ON o.id = r.id JOIN pages p ON p.id = r.page "
        "WHERE r.id > ? AND p.wiki = ? ORDER BY r.id LIMIT ?", (since, wiki, limit)).fetchall()
    return [NewRevision(*row) for row in rows]


def signed_pages(store: Store, wiki: str, since: int, upto: int) -> set[int]:
    """Pages of ``wiki`` with a signature that arrived in (since, upto]: a second may change a shown head."""
    rows = store.conn.execute(
        "SELECT DISTINCT r.page FROM sigs s JOIN revisions r ON r.id = s.target JOIN pages p ON p.id = r.page "
        "WHERE s.sig > ? AND s.sig <= ? AND p.wiki = ?", (since, upto, wiki))
    return {row[0] for row in rows}


def commit_ids(store: Store, cids: Iterable[bytes]) -> dict[bytes, str]:
    """The commit of each of these revisions that has one."""
    sql = "SELECT rev_cid, commit_id FROM git_commits WHERE rev_cid IN ({marks})"
    return dict(rows_in(store.conn, sql, list(set(cids))))


def commit_of_revisions(store: Store, rev_ids: Iterable[int]) -> dict[int, str]:
    """The commit of each of these revisions (by object id) that has one."""
    sql = ("SELECT o.id, g.commit_id FROM objects o JOIN git_commits g ON g.rev_cid = o.cid "
           "WHERE o.id IN ({marks})")
    return dict(rows_in(store.conn, sql, list(set(rev_ids))))


def shown(store: Store, pages: Iterable[int]) -> dict[int, Shown]:
    """What the newest view commit holds for each of these pages that it holds."""
    sql = "SELECT page, rev, forks FROM git_shown WHERE page IN ({marks})"
    return {page: Shown(rev, bool(forks)) for page, rev, forks in rows_in(store.conn, sql, list(set(pages)))}


def wiki_pages(store: Store, wiki: str) -> list[int]:
    """Every page id of ``wiki`` (a view change looks at each once)."""
    return [r[0] for r in store.conn.execute("SELECT id FROM pages WHERE wiki = ?", (wiki,))]


def page_head_ids(store: Store, pages: Iterable[int]) -> dict[int, list[int]]:
    """Every head (revision id) of each of these pages."""
    out: dict[int, list[int]] = {}
    for page, rev in rows_in(store.conn, "SELECT page, rev FROM heads WHERE page IN ({marks})", list(set(pages))):
        out.setdefault(page, []).append(rev)
    return out


def record(store: Store, wiki: str, commits: list[tuple[bytes, str]], new_state: GitState,
           shown_now: dict[int, Shown]) -> None:
    """Keep a batch's commits, the new position and view commit, and the pages' shown heads, in one transaction."""
    with store.write() as writer:
        writer.conn.executemany("INSERT OR REPLACE INTO git_commits VALUES (?, ?)", commits)
        writer.conn.execute("INSERT OR REPLACE INTO git_state VALUES (?, ?, ?, ?)",
                            (wiki, new_state.built_to, new_state.main, new_state.view))
        writer.conn.executemany("INSERT OR REPLACE INTO git_shown VALUES (?, ?, ?)",
                                [(page, s.rev, int(s.forks)) for page, s in shown_now.items()])


def forget(store: Store, wiki: str) -> None:
    """Forget how far ``wiki``'s repository was built (it is gone): the next catch-up starts from the log's start.

    The revision -> commit rows stay: the commits are built again to the same ids."""
    with store.write() as writer:
        writer.conn.execute("DELETE FROM git_state WHERE wiki = ?", (wiki,))
        writer.conn.execute("DELETE FROM git_shown WHERE page IN (SELECT id FROM pages WHERE wiki = ?)", (wiki,))
