"""Stream MediaWiki XML export files (schema 0.3 to 0.11) page by page.

Memory stays constant: each ``<page>`` is turned into a record and its
elements are cleared, and a text over the limit is dropped before the
parser sees it (formats/dump_bytes.py). DTDs and entities are refused
outright wherever they stand in the prolog (a dump never needs them;
billion-laughs and external-entity files use them). A page with a problem
(a revision without text, a ``bytes`` attribute that disagrees with the
text, a bad namespace, invalid UTF-8, an oversize text) comes back with
``problem`` set, so the importer can skip it and go on; a damaged or cut-off
file ends the stream with an exception that names the byte offset.
"""

from __future__ import annotations

import hashlib
import lzma
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree

from wikipeer.formats.compressed import CountingReader
from wikipeer.formats.dump_bytes import PROBLEM, DumpBytes
from wikipeer.formats.dump_contents import SpooledContents
from wikipeer.formats.dump_errors import DumpError, TruncatedDump, compressed_problem, xml_problem
from wikipeer.model import media
from wikipeer.policy.rules import MAX_TEXT

__all__ = ["DumpError", "DumpPage", "DumpUpload", "DumpRevision", "SiteInfo", "TruncatedDump", "read_dump", "sha1_base36"]

SUPPORTED = re.compile(r"^0\.(3|4|5|6|7|8|9|10|11)\Z")


@dataclass(slots=True)
class SiteInfo:
    """What ``<siteinfo>`` says of the wiki."""

    dbname: str = ""
    sitename: str = ""
    base: str = ""
    generator: str = ""
    case: str = "first-letter"
    lang: str = "en"
    namespaces: dict[int, tuple[str, str]] = field(default_factory=dict)
    interwiki: dict[str, str] = field(default_factory=dict)
    namespace_aliases: dict[str, int] = field(default_factory=dict)  # from the API's siteinfo; dumps have none
    timezone: str = ""  # the wiki's $wgLocaltimezone, from the API's siteinfo; dumps have none


@dataclass(slots=True)
class DumpRevision:
    """One ``<revision>`` as the dump gives it."""

    id: int | None
    parentid: int | None
    timestamp: str
    user: str | None = None
    user_id: int | None = None
    ip: str | None = None
    user_deleted: bool = False
    minor: bool = False
    comment: str = ""
    comment_deleted: bool = False
    model: str = "wikitext"
    format: str = "text/x-wiki"
    text: str = ""
    text_deleted: bool = False
    sha1: str | None = None


@dataclass(slots=True)
class DumpUpload:
    """One ``<upload>`` that carries its file (``--include-files``): a file version, oldest first."""

    filename: str
    timestamp: str
    contents: SpooledContents
    sha1_base36: str = ""
    size: int | None = None
    user: str | None = None
    user_id: int | None = None
    ip: str | None = None
    comment: str = ""
    src: str = ""
    archivename: str = ""


@dataclass(slots=True)
class DumpPage:
    """One ``<page>`` and its revisions, oldest first as the dump lists them."""

    title: str
    ns: int
    id: int | None
    redirect: str | None
    revisions: list[DumpRevision]
    offset: int
    line: int = 0
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    uploads: list[dict[str, str]] = field(default_factory=list)
    """``<upload>`` records without their files (``--uploads`` alone): kept as facts."""
    files: list[DumpUpload] = field(default_factory=list)
    """``<upload>`` records with their files' bytes, oldest first."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(elem: etree._Element, name: str) -> str | None:
    for child in elem:
        if _local(child.tag) == name:
            return child.text or ""
    return None


def _siteinfo(elem: etree._Element, lang: str) -> SiteInfo:
    info = SiteInfo(lang=lang)
    for child in elem:
        name = _local(child.tag)
        if name in ("dbname", "sitename", "base", "generator", "case"):
            setattr(info, name, child.text or "")
        elif name == "namespaces":
            for ns in child:
                key = ns.get("key", "")
                if not key.lstrip("-").isdigit():
                    raise ValueError(f"<namespace> with key {key!r} in <siteinfo>")
                info.namespaces[int(key)] = (ns.text or "", ns.get("case", info.case))
    return info


def sha1_base36(data: bytes) -> str:
    """MediaWiki's text checksum (SHA-1 in base 36): a format to match, not an identity."""
    return media.sha1_base36(hashlib.sha1(data).hexdigest())


def _check_text(rev: DumpRevision, declared: str | None) -> str | None:
    """Why a ``bytes`` attribute and the text disagree, unless the dump itself explains it.

    An XML parser turns every CR LF into LF, so a text saved with Windows line
    endings arrives shorter; when the dump's sha1 matches the text with CR LF
    restored, the original text is restored. Old revisions also carry stale
    sizes; when the sha1 matches the text as read, the text is right. Any
    other difference cannot be explained: the text is kept as read (MediaWiki's
    own importer does the same) and the caller warns about it.
    """
    if declared is None or rev.text_deleted:
        return None
    actual = len(rev.text.encode("utf-8"))
    if declared.isdigit() and int(declared) == actual:
        return None
    if rev.sha1:
        if sha1_base36(rev.text.encode("utf-8")) == rev.sha1:
            return None
        crlf = rev.text.replace("\n", "\r\n")
        if sha1_base36(crlf.encode("utf-8")) == rev.sha1:
            rev.text = crlf
            return None
    return (f"revision {rev.id}: <text bytes=\"{declared}\"> and its sha1 do not match the text "
            f"({actual} bytes); imported as read")


def _revision(elem: etree._Element) -> tuple[DumpRevision, str | None, str | None]:
    """The revision, a problem that makes its page unusable, and a note worth a warning."""
    rev = DumpRevision(id=None, parentid=None, timestamp="")
    has_text = False
    declared = None
    problem = None
    for child in elem:
        name = _local(child.tag)
        if name == "id":
            rev.id = int(child.text)
        elif name == "parentid":
            rev.parentid = int(child.text)
        elif name == "timestamp":
            rev.timestamp = child.text or ""
        elif name == "contributor":
            rev.user_deleted = child.get("deleted") == "deleted"
            rev.user = _child_text(child, "username")
            uid = _child_text(child, "id")
            rev.user_id = int(uid) if uid else None
            rev.ip = _child_text(child, "ip")
        elif name == "minor":
            rev.minor = True
        elif name == "comment":
            rev.comment_deleted = child.get("deleted") == "deleted"
            rev.comment = child.text or ""
        elif name in ("model", "format", "sha1"):
            setattr(rev, name, child.text or "")
        elif name == "text":
            has_text = True
            rev.text_deleted = child.get("deleted") == "deleted"
            rev.text = child.text or ""
            declared = child.get("bytes")
    note = _check_text(rev, declared) if has_text else None
    if not has_text:
        problem = f"revision {rev.id} has no <text>"
    elif not rev.timestamp:
        problem = f"revision {rev.id} has no <timestamp>"
    return rev, problem, note


def _upload(elem: etree._Element, source: DumpBytes) -> DumpUpload | dict[str, str] | str:
    """An ``<upload>``: with its contents a DumpUpload, without them its leaf fields; a string is a problem."""
    fields = {_local(c.tag): c.text or "" for c in elem if len(c) == 0}
    contents = fields.pop("contents", None)
    if contents is None:
        return fields
    spool = source.take_spool(contents)
    name = fields.get("filename", "")
    if spool is None:
        return f"the <upload> of {name!r} has <contents> that are not base 64 as dumpBackup.php writes them"
    if spool.problem:
        spool.close()
        return f"the <upload> of {name!r} (at byte offset {spool.offset} of the XML): {spool.problem}"
    upload = DumpUpload(filename=name, timestamp=fields.get("timestamp", ""), contents=spool,
                        sha1_base36=fields.get("sha1base36", ""), comment=fields.get("comment", ""),
                        src=fields.get("src", ""), archivename=fields.get("archivename", ""))
    size = fields.get("size", "")
    upload.size = int(size) if size.isdigit() else None
    for child in elem:
        if _local(child.tag) == "contributor":
            upload.user = _child_text(child, "username")
            uid = _child_text(child, "id")
            upload.user_id = int(uid) if uid and uid.isdigit() else None
            upload.ip = _child_text(child, "ip")
    return upload


def _page(elem: etree._Element, offset: int, namespaces: dict[int, tuple[str, str]], source: DumpBytes) -> DumpPage:
    title = _child_text(elem, "title") or ""
    ns_text = _child_text(elem, "ns")
    pid = _child_text(elem, "id")
    page = DumpPage(title, 0, int(pid) if pid and pid.isdigit() else None, None, [], offset, elem.sourceline or 0)
    try:
        page.ns = int(ns_text) if ns_text is not None else 0
    except ValueError:
        page.problem = f"invalid namespace {ns_text!r}"
        return page
    if namespaces and page.ns not in namespaces:
        page.problem = f"namespace {page.ns} is not declared in <siteinfo>"
    for child in elem:
        name = _local(child.tag)
        if name == "redirect":
            page.redirect = child.get("title", "")
        elif name == "revision":
            try:
                rev, problem, note = _revision(child)
            except ValueError as exc:  # a number that is not one: <id>, <parentid>, a contributor's id
                page.problem = page.problem or f"a revision holds a malformed number ({exc})"
                continue
            page.revisions.append(rev)
            page.problem = page.problem or problem
            if note:
                page.notes.append(note)
        elif name == "upload":
            upload = _upload(child, source)
            if isinstance(upload, str):
                page.problem = page.problem or upload
            elif isinstance(upload, DumpUpload):
                page.files.append(upload)
            else:
                page.uploads.append(upload)
        elif child.tag == PROBLEM:  # put there by the byte layer: it overrides whatever else was found
            page.problem = child.text or "unreadable"
    return page


def read_dump(stream: BinaryIO, max_text: int = MAX_TEXT, spool_dir: str | None = None,
              max_file: int | None = None) -> Iterator[SiteInfo | DumpPage]:
    """Yield the SiteInfo (if any), then each page; raise DumpError or TruncatedDump at the end.

    A page whose revision has a text over ``max_text`` bytes comes back with
    ``problem`` set and that text left out, never having been held whole.
    Uploads' contents are decoded into temporary files in ``spool_dir``
    (the system's temporary directory by default); one whose decoded size
    passes ``max_file`` stops being decoded there and leaves its page a problem.
    """
    counting = CountingReader(stream)
    source = DumpBytes(counting, max_text, spool_dir, max_file)
    try:
        source.prime()
    except EOFError:
        raise TruncatedDump(0, None, "its compressed data ends before the first block is complete") from None
    except (OSError, lzma.LZMAError, zlib.error) as exc:
        raise DumpError(f"the file cannot be read from its start: {compressed_problem(exc)}", 0) from None
    if not SUPPORTED.match(source.version or ""):
        raise DumpError(f"unknown export schema version {source.version!r} (this reads 0.3 to 0.11)", source.base)
    events = etree.iterparse(
        source, events=("end",), resolve_entities=False, no_network=True,
        load_dtd=False, huge_tree=True, remove_comments=True)
    namespaces: dict[int, tuple[str, str]] = {}
    last_title = None
    try:
        for _, elem in events:
            name = _local(elem.tag)
            if name == "siteinfo":
                try:
                    info = _siteinfo(elem, source.lang)
                except ValueError as exc:
                    raise DumpError(f"the dump's siteinfo is malformed: {exc}", counting.count) from None
                namespaces = info.namespaces
                yield info
            elif name == "page":
                page = _page(elem, counting.count, namespaces, source)
                page.line = source.file_line(page.line)
                yield page
                last_title = page.title
            else:
                continue
            elem.clear()
            parent = elem.getparent()
            while parent is not None and elem.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        if _cut_off(stream, counting, source, exc):
            raise TruncatedDump(counting.count, last_title) from None
        where = f"after page {last_title!r}" if last_title else "before the first page"
        line = f" on line {source.file_line(exc.lineno)} of the file" if exc.lineno else ""
        raise DumpError(f"malformed XML {where}: {xml_problem(str(exc))}{line}", counting.count,
                        last_title, near=True) from None
    except EOFError as exc:  # bz2, gzip and xz say so when their stream stops short
        raise TruncatedDump(counting.count, last_title, compressed_problem(exc)) from None
    except (OSError, lzma.LZMAError, zlib.error) as exc:
        where = f"after page {last_title!r}" if last_title else "before the first page"
        raise DumpError(f"the file cannot be read on {where}: {compressed_problem(exc)}", counting.count,
                        last_title, near=True) from None


def _cut_off(stream: BinaryIO, counting: CountingReader, source: DumpBytes, exc: etree.XMLSyntaxError) -> bool:
    """True when the XML error sits on the input's last line: the file ends there, mid-page.

    The parser's message cannot tell (a cut can land anywhere in a tag), but
    where the error is can: bad XML earlier in the file is malformed.
    """
    try:
        at_end = not counting.head and not stream.read(1)
    except (EOFError, OSError):
        return True
    return at_end and source.file_line(exc.lineno or 0) >= counting.lines
