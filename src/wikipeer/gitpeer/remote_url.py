"""The address a ``wikipeer::`` remote names: a node and one of its wikis.

``git clone wikipeer::http://HOST:PORT/WIKI`` names the node's base URL and a
wiki; the node's own git URL ``http://HOST:PORT/git/WIKI.git`` is taken too,
so a remote copied from a plain clone works after ``wikipeer::``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from wikipeer.errors import UserError

GIT_DIR = "git"
GIT_SUFFIX = ".git"


@dataclass(frozen=True, slots=True)
class RemoteUrl:
    """A node's base URL (no trailing slash) and the name of one of its wikis."""

    node: str
    wiki: str

    @property
    def git(self) -> str:
        """Where the node serves the wiki's repository over smart HTTP."""
        return f"{self.node}/{GIT_DIR}/{quote(self.wiki, safe='')}{GIT_SUFFIX}"


class BadRemoteUrl(UserError):
    """A ``wikipeer::`` address that names no node and wiki."""


def parse_remote_url(url: str) -> RemoteUrl:
    """``http(s)://HOST[:PORT][/PREFIX]/WIKI`` or ``.../git/WIKI.git``, as a RemoteUrl."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRemoteUrl(f"{url!r} is not a node's address: use wikipeer::http://HOST:PORT/WIKI")
    if parts.query or parts.fragment:
        raise BadRemoteUrl(f"{url!r}: a wikipeer remote takes no query or fragment (wikipeer::http://HOST:PORT/WIKI)")
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        raise BadRemoteUrl(f"{url!r} names no wiki: use wikipeer::http://HOST:PORT/WIKI")
    last = segments.pop()
    if last.endswith(GIT_SUFFIX) and segments and segments[-1] == GIT_DIR:
        segments.pop()
        last = last[:-len(GIT_SUFFIX)]
    wiki = unquote(last)
    if not wiki:
        raise BadRemoteUrl(f"{url!r} names no wiki: use wikipeer::http://HOST:PORT/WIKI")
    base = urlunsplit((parts.scheme, parts.netloc, "/".join(["", *segments]) if segments else "", "", ""))
    return RemoteUrl(base, wiki)
