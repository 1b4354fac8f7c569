"""Compare two Action APIs page by page and revision by revision: a real MediaWiki and a node.

Reusable: ``differences(mediawiki_api, node_api)`` reads both (format=json,
formatversion=2) and returns every difference it finds, as readable lines:
the namespaces and their aliases, the interwiki map, the titles of every namespace (``list=allpages``), and for
each page every revision, oldest first, with its timestamp, user, comment,
size, SHA-1 and minor flag, whether it is a redirect, and the current text;
and every revision ``list=allrevisions`` gives, by the title it lists it under. Revision and page ids are
not compared: a node numbers its own. An empty list means no difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

REVISION_FIELDS = ("timestamp", "user", "comment", "size", "sha1", "minor", "anon")


def api_get(client: httpx.Client, url: str, **params: Any) -> dict:
    """One GET of api.php in JSON, format version 2; an API error raises."""
    answer = client.get(url, params={"format": "json", "formatversion": "2", **params}).json()
    if "error" in answer:
        raise AssertionError(f"{url} {params}: {answer['error']}")
    return answer


def continued(client: httpx.Client, url: str, **params: Any) -> Iterator[dict]:
    """Every batch of a query, following ``continue``."""
    cont: dict = {"continue": ""}
    while True:
        answer = api_get(client, url, action="query", **params, **cont)
        yield answer
        if "continue" not in answer:
            return
        cont = answer["continue"]


def namespaces(client: httpx.Client, url: str) -> dict[int, str]:
    info = api_get(client, url, action="query", meta="siteinfo", siprop="namespaces")
    return {int(k): v["name"] for k, v in info["query"]["namespaces"].items()}


def namespace_aliases(client: httpx.Client, url: str) -> list[tuple[int, str]]:
    info = api_get(client, url, action="query", meta="siteinfo", siprop="namespacealiases")
    return sorted((a["id"], a["alias"]) for a in info["query"]["namespacealiases"])


def interwiki_map(client: httpx.Client, url: str) -> dict[str, str]:
    """Prefix -> URL of ``siprop=interwikimap`` (the other fields, ``api``, ``local``..., a node does not keep)."""
    info = api_get(client, url, action="query", meta="siteinfo", siprop="interwikimap")
    return {entry["prefix"]: entry["url"] for entry in info["query"]["interwikimap"]}


def titles(client: httpx.Client, url: str, ns: int) -> list[str]:
    return [p["title"] for batch in continued(client, url, list="allpages", apnamespace=ns, aplimit="max")
            for p in batch.get("query", {}).get("allpages", [])]


def history(client: httpx.Client, url: str, title: str) -> list[dict]:
    """A page's revisions, oldest first, with the compared fields."""
    out = []
    for batch in continued(client, url, prop="revisions", titles=title, rvdir="newer", rvlimit="max",
                           rvprop="ids|timestamp|user|comment|size|sha1|flags"):
        for page in batch["query"]["pages"]:
            out += [{k: rev.get(k, False if k in ("minor", "anon") else None) for k in REVISION_FIELDS}
                    for rev in page.get("revisions", [])]
    return out


def all_revisions(client: httpx.Client, url: str) -> list[tuple]:
    """Every revision ``list=allrevisions`` gives, by title, as (title, timestamp, user, comment, SHA-1), sorted."""
    return sorted((entry["title"], rev["timestamp"], rev["user"], rev["comment"], rev["sha1"])
                  for batch in continued(client, url, list="allrevisions", arvlimit="max",
                                         arvprop="timestamp|user|comment|sha1")
                  for entry in batch["query"]["allrevisions"] for rev in entry["revisions"])


def is_redirect(client: httpx.Client, url: str, title: str) -> bool:
    """Whether ``prop=info`` calls the page a redirect."""
    return bool(api_get(client, url, action="query", prop="info", titles=title)["query"]["pages"][0].get("redirect"))


def current_text(client: httpx.Client, url: str, title: str) -> str | None:
    answer = api_get(client, url, action="query", prop="revisions", titles=title, rvprop="content|sha1",
                     rvslots="main")
    page = answer["query"]["pages"][0]
    return page["revisions"][0]["slots"]["main"]["content"] if "revisions" in page else None


def differences(mediawiki_api: str, node_api: str, timeout: float = 60, interwiki: bool = True) -> list[str]:
    """Every difference between what the two APIs say of the same wiki (empty: none).

    ``interwiki``: compare the interwiki maps too (a pulled wiki has MediaWiki's; a dump carries none).
    """
    found: list[str] = []
    with httpx.Client(timeout=timeout) as client:
        theirs, ours = namespaces(client, mediawiki_api), namespaces(client, node_api)
        if theirs != ours:
            found.append(f"namespaces differ: MediaWiki {theirs}, node {ours}")
        their_aliases, our_aliases = namespace_aliases(client, mediawiki_api), namespace_aliases(client, node_api)
        if their_aliases != our_aliases:
            found.append(f"namespace aliases differ: MediaWiki {their_aliases}, node {our_aliases}")
        if interwiki:
            their_map, our_map = interwiki_map(client, mediawiki_api), interwiki_map(client, node_api)
            if their_map != our_map:
                found.append(f"interwiki maps differ: MediaWiki {their_map}, node {our_map}")
        for ns in sorted(n for n in theirs if n >= 0):
            their_titles, our_titles = titles(client, mediawiki_api, ns), titles(client, node_api, ns)
            if their_titles != our_titles:
                found.append(f"namespace {ns}: titles differ: MediaWiki {their_titles}, node {our_titles}")
            for title in sorted(set(their_titles) & set(our_titles)):
                found += _page_differences(client, mediawiki_api, node_api, title)
        theirs, ours = all_revisions(client, mediawiki_api), all_revisions(client, node_api)
        found += [f"allrevisions: {r} on MediaWiki only" for r in sorted(set(theirs) - set(ours))]
        found += [f"allrevisions: {r} on the node only" for r in sorted(set(ours) - set(theirs))]
        if not found and theirs != ours:
            found.append("allrevisions: the same revisions, some listed more often on one side")
    return found


def _page_differences(client: httpx.Client, mediawiki_api: str, node_api: str, title: str) -> list[str]:
    found = []
    theirs, ours = history(client, mediawiki_api, title), history(client, node_api, title)
    if len(theirs) != len(ours):
        found.append(f"{title!r}: MediaWiki has {len(theirs)} revisions, the node {len(ours)}")
    for number, (their_rev, our_rev) in enumerate(zip(theirs, ours), 1):
        for field in REVISION_FIELDS:
            if their_rev[field] != our_rev[field]:
                found.append(f"{title!r} revision {number}: {field} is {their_rev[field]!r} on MediaWiki, "
                             f"{our_rev[field]!r} on the node")
    their_redirect, our_redirect = is_redirect(client, mediawiki_api, title), is_redirect(client, node_api, title)
    if their_redirect != our_redirect:
        found.append(f"{title!r}: a redirect on {'MediaWiki' if their_redirect else 'the node'} only")
    their_text, our_text = current_text(client, mediawiki_api, title), current_text(client, node_api, title)
    if their_text != our_text:
        found.append(f"{title!r}: current texts differ ({their_text!r:.80} / {our_text!r:.80})")
    return found
