"""The names nearest a mistyped one: the wikis a node holds, and the titles of one namespace of a wiki.

Asked only when a name was not found, so the answer to "no such wiki" or
"no such page" can say what was probably meant. Bounded: the wikis are few;
the titles are read whole only from a namespace of at most ``ALL_TITLES``
pages, and otherwise only those next to the name on the (wiki, ns, title)
index, which finds a mistake late in a title or in its letter case.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from wikipeer.store.revlists import holds_wiki
from wikipeer.store.store import Store

ALL_TITLES = 5000  # a namespace this small is compared whole (a few milliseconds)
NEIGHBOURS = 40  # titles read on each side of the name, and of its case variants, in a larger one
SUGGESTED = 3
CUTOFF = 0.6
TYPO = 0.85  # closer than this is taken for a typo (wikipeeer/wikipeer 0.94), not a sibling (dewiki/enwiki 0.67)
LISTED_WIKIS = 10  # "no such wiki" names the node's wikis when it holds no more than this


@dataclass(frozen=True, slots=True)
class UnknownWiki:
    """A wiki the node does not hold: the sentence that says so (CLI, web page and api.php alike), and the
    nearest wikis it does hold, for links."""

    sentence: str
    near: list[str]
    held: int


def nearest(name: str, candidates: list[str]) -> list[str]:
    """Up to three of ``candidates`` closest to ``name`` (letter case aside), closest first."""
    folded: dict[str, str] = {}
    for candidate in candidates:
        folded.setdefault(candidate.casefold(), candidate)
    found = difflib.get_close_matches(name.casefold(), list(folded), n=SUGGESTED, cutoff=CUTOFF)
    return [folded[f] for f in found if folded[f] != name]


def typos_of(name: str, near: list[str]) -> list[str]:
    """Those of ``near`` that ``name`` is most likely a mistyping of (letter case aside)."""
    return [n for n in near if difflib.SequenceMatcher(None, name.casefold(), n.casefold()).ratio() >= TYPO]


def unknown_wiki(store: Store, wiki: str) -> UnknownWiki | None:
    """None when the node holds ``wiki``; else "no wiki 'x' on this node (did you mean 'y'?); its wikis: ..."."""
    if holds_wiki(store, wiki):
        return None
    wikis = store.wikis()
    near = nearest(wiki, wikis)
    if not wikis:
        held = "it holds none yet"
    elif len(wikis) > LISTED_WIKIS:
        held = f"it holds {len(wikis)} wikis"
    else:
        held = f"its wikis: {', '.join(wikis)}"
    return UnknownWiki(f"no wiki {wiki!r} on this node{did_you_mean(near)}; {held}", near, len(wikis))


def nearest_titles(store: Store, wiki: str, ns: int, title: str) -> list[str]:
    """The titles (without namespace prefix) of namespace ``ns`` of ``wiki`` nearest ``title``."""
    conn = store.conn
    rows = conn.execute("SELECT title FROM pages WHERE wiki = ? AND ns = ? LIMIT ?", (wiki, ns, ALL_TITLES + 1))
    titles = [r[0] for r in rows]
    if len(titles) > ALL_TITLES:
        titles = []
        for probe in {title, title.lower(), title.upper(), title[:1] + title[1:].lower()}:
            for op, order in ((">=", "ASC"), ("<", "DESC")):
                titles += [r[0] for r in conn.execute(
                    f"SELECT title FROM pages WHERE wiki = ? AND ns = ? AND title {op} ? ORDER BY title {order} "
                    "LIMIT ?", (wiki, ns, probe, NEIGHBOURS))]
    return nearest(title, titles)


def did_you_mean(names: list[str]) -> str:
    """`` (did you mean 'a' or 'b'?)``, or "" when there is nothing to suggest."""
    if not names:
        return ""
    quoted = [repr(n) for n in names]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f" (did you mean {listed}?)"
