"""Write a wiki as a MediaWiki XML export (schema 0.11) that importDump.php accepts.

Imported revisions are written back with the ids, contributors, comments and
flags they came with (kept in ``origin``); local edits name their author by
the name this node knows the key by (store/people.py: an account's or the
key's local name, a trusted profile's, else ``Wikipeer-`` and the key's
fingerprint), one MediaWiki user name per key, never one an imported user of the
export has (a clash gets the key's fingerprint in parentheses). Revisions of a page are written
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from wikipeer import __version__
from wikipeer.formats.dump_convert import format_timestamp
from wikipeer.formats.dump_reader import sha1_base36
from wikipeer.model.title import WikiConfig
from wikipeer.policy.view import View
from wikipeer.model.media import NS_FILE, sha1_base36 as hex_to_base36
from wikipeer.store.people import People, UserNames, key_user_name
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


UserName = Callable[[str], str]
"""The MediaWiki user name of an author key."""


def _contributor(rev: RevInfo, user_name: UserName) -> str:
    origin = rev.origin
    if origin.get("user_deleted"):
        return '      <contributor deleted="deleted" />\n'
    if "ip" in origin:
        return "      <contributor>\n" + _leaf("ip", origin["ip"], "        ") + "      </contributor>\n"
    name = origin.get("user") or (user_name(rev.author) if rev.author else "Wikipeer")
    user_id = _leaf("id", str(origin["user_id"]), "        ") if "user_id" in origin else ""
    return "      <contributor>\n" + _leaf("username", name, "        ") + user_id + "      </contributor>\n"


def _revision(store: Store, rev: RevInfo, user_name: UserName) -> str:
    origin = rev.origin
    text = store.revision_text(rev)
    data = text.encode("utf-8")
    parts = ["    <revision>\n"]
    if "rev_id" in origin:
        parts.append(_leaf("id", str(origin["rev_id"]), "      "))
    if "parent_id" in origin:
        parts.append(_leaf("parentid", str(origin["parent_id"]), "      "))
    parts.append(_leaf("timestamp", format_timestamp(rev.ts), "      "))
    parts.append(_contributor(rev, user_name))
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


def _page_head(store: Store, config: WikiConfig, page: PageRow, revisions: list[RevInfo], user_name: UserName) -> str:
    parts = ["  <page>\n", _leaf("title", config.full_title(page.ns, page.title), "    "),
             _leaf("ns", str(page.ns), "    ")]
    page_id = next((r.origin["page_id"] for r in revisions if "page_id" in r.origin), None)
    if page_id is not None:
        parts.append(_leaf("id", str(page_id), "    "))
    redirect = revisions[-1].origin.get("redirect")
    if redirect:
        parts.append(_leaf("redirect", None, "    ", title=redirect))
    parts += [_revision(store, rev, user_name) for rev in revisions]
    return "".join(parts)


def _upload_contributor(info: FileInfo, user_name: UserName) -> str:
    origin = info.origin
    if "ip" in origin:
        return "      <contributor>\n" + _leaf("ip", origin["ip"], "        ") + "      </contributor>\n"
    name = origin.get("user") or (user_name(info.author) if info.author else "Wikipeer")
    user_id = _leaf("id", str(origin["user_id"]), "        ") if "user_id" in origin else ""
    return "      <contributor>\n" + _leaf("username", name, "        ") + user_id + "      </contributor>\n"


def write_upload(store: Store, page: PageRow, info: FileInfo, include_file: bool, out: BinaryIO,
                 replaced_ms: int | None = None, user_name: UserName = key_user_name) -> None:
    """One ``<upload>`` as XmlDumpWriter::writeUpload writes it; its contents streamed chunk by chunk.

    ``replaced_ms`` is when a newer version replaced this one: it is then an archived version.
    """
    name = page.title.replace(" ", "_")
    head = ["    <upload>\n", _leaf("timestamp", format_timestamp(info.ts), "      "), _upload_contributor(info, user_name),
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


Chosen = list[tuple[PageRow, list[RevInfo]]]
"""The pages to write, each with its revisions in order (what ``selected`` yields)."""

Progress = Callable[[int, int], None]
"""``progress(written, of)``: pages written so far, of the pages to write."""


def _user_names(store: Store, chosen: Chosen, view: View, options: ExportOptions, people: People | None) -> UserName:
    """Who local edits are credited to: with ``people``, a name per key that no imported user of the export has."""
    if people is None:
        return key_user_name
    imported = {str(r.origin["user"]) for _, revisions in chosen for r in revisions if r.origin.get("user")}
    if options.uploads or options.include_files:
        imported |= {str(v.origin["user"]) for page, _ in chosen if page.ns == NS_FILE
                     for v in store.file_versions(page.id) if v.origin.get("user")}
    return UserNames(people, view.trusted, imported).name


def export_dump(store: Store, config: WikiConfig, pages: Iterable[PageRow], view: View, options: ExportOptions,
                out: BinaryIO, people: People | None = None, progress: Progress | None = None) -> int:
    """Write the export to ``out``; returns the number of pages written.

    ``people`` names local edits' authors (see the module's docstring); without it they are "Wikipeer-" and
    the start of their key. Each page's revision list is read once, before the first page is written (the
    user names must be chosen knowing every imported name); ``progress`` is told after each page written.
    """
    chosen = list(selected(store, pages, view, options))
    user_name = _user_names(store, chosen, view, options, people)
    out.write(
        f'<mediawiki xmlns="{NS}" xmlns:xsi="{XSI}" xsi:schemaLocation="{NS} http://www.mediawiki.org/xml/export-0.11.xsd" '
        f'version="0.11" xml:lang="{_attr(config.lang)}">\n'.encode())
    out.write(_siteinfo(config).encode("utf-8"))
    for count, (page, revisions) in enumerate(chosen, 1):
        out.write(_page_head(store, config, page, revisions, user_name).encode("utf-8"))
        if (options.uploads or options.include_files) and page.ns == NS_FILE:
            versions = store.file_versions(page.id)[::-1]  # oldest first, as MediaWiki writes them
            for number, info in enumerate(versions):
                replaced = versions[number + 1].ts if number + 1 < len(versions) else None
                write_upload(store, page, info, options.include_files, out, replaced, user_name)
        out.write(b"  </page>\n")
        if progress is not None:
            progress(count, len(chosen))
    out.write(b"</mediawiki>\n")
    return len(chosen)
