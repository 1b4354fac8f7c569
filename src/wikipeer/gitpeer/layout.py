"""Where a page lives in a wiki's git tree: ``{NamespaceDir}/{xx}/{yy}/{FileName}.wiki``.

The layout is pure and the same on every node, so two nodes holding the same
revisions build the same trees. NamespaceDir is ``Main`` for namespace 0, the
wiki's namespace name with spaces as ``_`` for a named namespace, ``ns{N}``
for an unnamed one. Every namespace is sharded (the layout must not depend on
the wiki's size, or paths would move as it grows): ``xx/yy`` are the first
four hex digits of the sha256 of the title's UTF-8. FileName is the title with
``%`` written ``%25`` and ``/`` written ``%2F``; a title cannot hold a ``%XX``
escape, so the encoding is unambiguous. A file name over 255 bytes is cut at a
character boundary to 200 bytes, then ``~`` and 16 hex digits of the title's
sha256: its title cannot be read back from the path, only from a tree that
already holds the file.
"""

from __future__ import annotations

import hashlib
import re

from wikipeer.errors import UserError
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title

SUFFIX = ".wiki"
MAIN_DIR = "Main"
MAX_NAME_BYTES = 255
CUT_BYTES = 200
_UNNAMED = re.compile(r"ns(-?[0-9]+)\Z")
_SHARD = re.compile(r"[0-9a-f]{2}\Z")
_LONG_NAME = re.compile(r"~[0-9a-f]{16}\.wiki\Z")
_ESCAPE = re.compile(r"%(25|2F)")


class NotAPagePath(UserError):
    """A path in a tree that does not name a page of the layout."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def title_digest(title: str) -> str:
    """Hex sha256 of the title's UTF-8: its first four digits shard the file."""
    return hashlib.sha256(title.encode("utf-8")).hexdigest()


def namespace_dir(config: WikiConfig, ns: int) -> str:
    """The top directory of a namespace: ``Main``, its name with ``_`` for spaces, or ``ns{N}``."""
    if ns == 0:
        return MAIN_DIR
    name = config.namespaces.get(ns, "")
    return name.replace(" ", "_") if name else f"ns{ns}"


def file_name(title: str) -> str:
    """The file name of a title (with ``.wiki``), cut with a hash when over 255 bytes."""
    name = title.replace("%", "%25").replace("/", "%2F")
    if len(name.encode("utf-8")) + len(SUFFIX) <= MAX_NAME_BYTES:
        return name + SUFFIX
    cut = name.encode("utf-8")[:CUT_BYTES].decode("utf-8", errors="ignore")
    return f"{cut}~{title_digest(title)[:16]}{SUFFIX}"


def page_path(config: WikiConfig, ns: int, title: str) -> str:
    """The path of page ``(ns, title)`` (title normalised, without its namespace prefix)."""
    digest = title_digest(title)
    return f"{namespace_dir(config, ns)}/{digest[:2]}/{digest[2:4]}/{file_name(title)}"


def namespace_of_dir(config: WikiConfig, directory: str) -> int | None:
    """The namespace a top directory names, or None when it names none of this wiki's."""
    if directory == MAIN_DIR:
        return 0
    for number, name in config.namespaces.items():
        if number != 0 and name and name.replace(" ", "_") == directory:
            return number
    match = _UNNAMED.match(directory)
    if match and not config.namespaces.get(int(match.group(1))) and int(match.group(1)) != 0:
        return int(match.group(1))
    return None


def path_title(config: WikiConfig, path: str | bytes) -> tuple[int, str] | None:
    """The ``(ns, title)`` a path names; None for a cut long name (its title is only in a tree).

    ``path`` may be a tree's raw bytes. Raises NotAPagePath, naming the path
    and the reason, for anything else that is not a page file of this layout:
    a name that is not UTF-8, an absolute path, ``..`` or ``.`` parts, a file
    that does not end in ``.wiki``, an unknown namespace directory, a shard
    that is not the title's, or a name that is not a valid (normalised) title.
    """
    if isinstance(path, bytes):
        try:
            path = path.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotAPagePath(path.decode("utf-8", errors="replace"),
                               f"the name is not UTF-8 (byte offset {exc.start})") from None
    if path.startswith("/"):
        raise NotAPagePath(path, "absolute path (page files live under a namespace directory)")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise NotAPagePath(path, "empty, '.' or '..' part in the path (path traversal is refused)")
    if len(parts) != 4:
        raise NotAPagePath(path, f"not NAMESPACE/xx/yy/TITLE{SUFFIX} (a page file is four levels deep)")
    directory, xx, yy, name = parts
    if not name.endswith(SUFFIX) or name == SUFFIX:
        raise NotAPagePath(path, f"not a page file (page files end in {SUFFIX})")
    ns = namespace_of_dir(config, directory)
    if ns is None:
        raise NotAPagePath(path, f"unknown namespace directory {directory!r} (Main, a namespace name "
                                 "with _ for spaces, or nsN)")
    if not _SHARD.match(xx) or not _SHARD.match(yy):
        raise NotAPagePath(path, "the shard directories must be two lower-case hex digits each")
    title = _ESCAPE.sub(lambda m: "%" if m.group(1) == "25" else "/", name[:-len(SUFFIX)])
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise NotAPagePath(path, f"file name longer than {MAX_NAME_BYTES} bytes")
    try:
        normal = normalize_title(config, title, ns).text
    except BadTitle as exc:
        if _LONG_NAME.search(name):
            return None
        raise NotAPagePath(path, f"not a valid title: {exc}") from None
    if page_path(config, ns, normal) != path:
        if _LONG_NAME.search(name) and len(name.encode("utf-8")) <= CUT_BYTES + 1 + 16 + len(SUFFIX):
            return None
        if normal != title:
            raise NotAPagePath(path, f"not a normalised title: {title!r} is written {normal!r}")
        raise NotAPagePath(path, f"the title {title!r} belongs under {page_path(config, ns, normal)}")
    return ns, normal
