"""Write a wiki as a MediaWiki XML export (schema 0.11) that importDump.php accepts.

Imported revisions are written back with the ids, contributors, comments and
flags they came with (kept in ``origin``); local edits name their author as
``Wikipeer-`` plus the start of their key. Revisions of a page are written
parents before children, oldest first, so the shown head is last.

With ``uploads`` a ``File:`` page also gets an ``<upload>`` per file version,
oldest first, as ``dumpBackup.php --uploads`` writes them; with
``include_files`` each carries its bytes in base 64 (``--include-files``),
streamed chunk by chunk. As MediaWiki writes them, every version but the
newest has an ``<archivename>`` (the time it was replaced, ``!``, the name):
``importDump.php --uploads`` stores those as old versions and the newest as
the current one. (Without it each would be a new upload archiving the one
before under the wall-clock second, and two in one second collide.)
"""

from __future__ import annotations

import base64
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from wikipeer import __version__
from wikipeer.formats.dump_convert import format_timestamp
from wikipeer.formats.dump_reader import sha1_base36
from wikipeer.model.title import WikiConfig
from wikipeer.policy.view import View
from wikipeer.model.media import NS_FILE, sha1_base36 as hex_to_base36
from wikipeer.store.records import FileInfo, PageRow, RevInfo
from wikipeer.store.store import Store

NS = "http://www.mediawiki.org/xml/export-0.11/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """Which revisions to write: the shown head only (current) or every one, optionally since a time."""

    current: bool = False
    since_ms: int | None = None
    uploads: bool = False
    """``<upload>`` records for File: pages (dumpBackup's ``--uploads``)."""
    include_files: bool = False
    """The files' bytes inside them (``--include-files``); implies ``uploads``."""


def ordered_revisions(history: list[RevInfo]) -> list[RevInfo]:
    """Parents before children; among those ready, oldest first."""
    by_cid = {r.cid: r for r in history}
    waiting = {r.cid: sum(1 for p in r.parents if p in by_cid) for r in history}
    children: dict[bytes, list[RevInfo]] = {}
    for r in history:
        for p in r.parents:
            children.setdefault(p, []).append(r)
    ready = [(r.ts, r.cid) for r in history if waiting[r.cid] == 0]
    heapq.heapify(ready)
    out: list[RevInfo] = []
    while ready:
        _, cid = heapq.heappop(ready)
        out.append(by_cid[cid])
        for child in children.get(cid, []):
            waiting[child.cid] -= 1
            if waiting[child.cid] == 0:
                heapq.heappush(ready, (child.ts, child.cid))
    return out


def _esc(text: str) -> str:
    # \r would come back as \n from any XML parser; a character reference keeps it.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attr(text: str) -> str:
    return _esc(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _leaf(name: str, text: str | None, indent: str, **attrs: str) -> str:
    extra = "".join(f' {k}="{_attr(v)}"' for k, v in attrs.items())
    if text is None or text == "":
        return f"{indent}<{name}{extra} />\n"
    return f"{indent}<{name}{extra}>{_esc(text)}</{name}>\n"


def _siteinfo(config: WikiConfig) -> str:
    parts = ["  <siteinfo>\n"]
    for name, value in (("sitename", config.sitename or config.name), ("dbname", config.name), ("base", config.base),
                        ("generator", f"wikipeer {__version__}"), ("case", config.case)):
        parts.append(_leaf(name, value, "    "))
    parts.append("    <namespaces>\n")
    for key in sorted(config.namespaces):
        parts.append(_leaf("namespace", config.namespaces[key], "      ", key=str(key), case=config.case_rule(key)))
    parts.append("    </namespaces>\n  </siteinfo>\n")
    return "".join(parts)


def _contributor(rev: RevInfo) -> str:
    origin = rev.origin
    if origin.get("user_deleted"):
        return '      <contributor deleted="deleted" />\n'
    if "ip" in origin:
        return "      <contributor>\n" + _leaf("ip", origin["ip"], "        ") + "      </contributor>\n"
    name = origin.get("user") or ("Wikipeer-" + rev.author[8:16] if rev.author else "Wikipeer")
    user_id = _leaf("id", str(origin["user_id"]), "        ") if "user_id" in origin else ""
    return "      <contributor>\n" + _leaf("username", name, "        ") + user_id + "      </contributor>\n"


def _revision(store: Store, rev: RevInfo) -> str:
    origin = rev.origin
    text = store.revision_text(rev)
    data = text.encode("utf-8")
    parts = ["    <revision>\n"]
    if "rev_id" in origin:
        parts.append(_leaf("id", str(origin["rev_id"]), "      "))
    if "parent_id" in origin:
        parts.append(_leaf("parentid", str(origin["parent_id"]), "      "))
    parts.append(_leaf("timestamp", format_timestamp(rev.ts), "      "))
    parts.append(_contributor(rev))
    if rev.minor:
        parts.append("      <minor />\n")
    if origin.get("comment_deleted"):
        parts.append('      <comment deleted="deleted" />\n')
    elif rev.comment:
        parts.append(_leaf("comment", rev.comment, "      "))
    parts.append(_leaf("model", rev.model, "      "))
    parts.append(_leaf("format", rev.format or "text/x-wiki", "      "))
    if origin.get("text_deleted"):
        parts.append('      <text bytes="0" deleted="deleted" />\n')
    else:
        parts.append(f'      <text bytes="{len(data)}" xml:space="preserve">{_esc(text)}</text>\n')
    parts.append(_leaf("sha1", origin.get("sha1") or sha1_base36(data), "      "))
    parts.append("    </revision>\n")
    return "".join(parts)


def _page_head(store: Store, config: WikiConfig, page: PageRow, revisions: list[RevInfo]) -> str:
    parts = ["  <page>\n", _leaf("title", config.full_title(page.ns, page.title), "    "),
             _leaf("ns", str(page.ns), "    ")]
    page_id = next((r.origin["page_id"] for r in revisions if "page_id" in r.origin), None)
    if page_id is not None:
        parts.append(_leaf("id", str(page_id), "    "))
    redirect = revisions[-1].origin.get("redirect")
    if redirect:
        parts.append(_leaf("redirect", None, "    ", title=redirect))
    parts += [_revision(store, rev) for rev in revisions]
    return "".join(parts)


def _upload_contributor(info: FileInfo) -> str:
    origin = info.origin
    if "ip" in origin:
        return "      <contributor>\n" + _leaf("ip", origin["ip"], "        ") + "      </contributor>\n"
    name = origin.get("user") or ("Wikipeer-" + info.author[8:16] if info.author else "Wikipeer")
    user_id = _leaf("id", str(origin["user_id"]), "        ") if "user_id" in origin else ""
    return "      <contributor>\n" + _leaf("username", name, "        ") + user_id + "      </contributor>\n"


def write_upload(store: Store, page: PageRow, info: FileInfo, include_file: bool, out: BinaryIO,
                 replaced_ms: int | None = None) -> None:
    """One ``<upload>`` as XmlDumpWriter::writeUpload writes it; its contents streamed chunk by chunk.

    ``replaced_ms`` is when a newer version replaced this one: it is then an archived version.
    """
    name = page.title.replace(" ", "_")
    head = ["    <upload>\n", _leaf("timestamp", format_timestamp(info.ts), "      "), _upload_contributor(info),
            _leaf("comment", info.comment, "      "), _leaf("filename", name, "      ")]
    if replaced_ms is not None:
        digits = format_timestamp(replaced_ms).translate(str.maketrans("", "", "-:TZ"))
        head.append(_leaf("archivename", f"{digits}!{name}", "      "))
    head += [_leaf("src", info.origin.get("src", ""), "      "), _leaf("size", str(info.size), "      "),
             _leaf("sha1base36", hex_to_base36(info.sha1), "      ")]
    out.write("".join(head).encode("utf-8"))
    if include_file:
        out.write(b'      <contents encoding="base64">')
        carry = b""
        for chunk in store.file_chunks(info):
            data = carry + chunk
            whole = len(data) - len(data) % 57  # 57 bytes make one line of 76 characters
            out.write(base64.encodebytes(data[:whole]))
            carry = data[whole:]
        out.write(base64.encodebytes(carry) + b"      </contents>\n")
    out.write(b"    </upload>\n")


def selected(store: Store, pages: Iterable[PageRow], view: View, options: ExportOptions) -> Iterator[tuple[PageRow, list[RevInfo]]]:
    """Each page with the revisions to write, in order; pages with none are left out."""
    for page in pages:
        if options.current:
            head = view.shown(store, page.id)
            revisions = [head] if head else []
        else:
            revisions = ordered_revisions(store.history(page.id))
        if options.since_ms is not None:
            revisions = [r for r in revisions if r.ts >= options.since_ms]
        if revisions:
            yield page, revisions


def export_dump(store: Store, config: WikiConfig, pages: Iterable[PageRow], view: View, options: ExportOptions,
                out: BinaryIO) -> int:
    """Write the export to ``out``; returns the number of pages written."""
    out.write(
        f'<mediawiki xmlns="{NS}" xmlns:xsi="{XSI}" xsi:schemaLocation="{NS} http://www.mediawiki.org/xml/export-0.11.xsd" '
        f'version="0.11" xml:lang="{_attr(config.lang)}">\n'.encode())
    out.write(_siteinfo(config).encode("utf-8"))
    count = 0
    for page, revisions in selected(store, pages, view, options):
        out.write(_page_head(store, config, page, revisions).encode("utf-8"))
        if (options.uploads or options.include_files) and page.ns == NS_FILE:
            versions = store.file_versions(page.id)[::-1]  # oldest first, as MediaWiki writes them
            for number, info in enumerate(versions):
                replaced = versions[number + 1].ts if number + 1 < len(versions) else None
                write_upload(store, page, info, options.include_files, out, replaced)
        out.write(b"  </page>\n")
        count += 1
    out.write(b"</mediawiki>\n")
    return count
