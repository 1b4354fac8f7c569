"""The byte layer between a dump's decompressed stream and the XML parser.

lxml reads a dump only through ``DumpBytes``, which reads it once, in
constant memory, and:

- guards the whole prolog (everything before the root element, however
  long): a DTD or entity declaration is refused wherever it stands, an
  encoding other than UTF-8 is refused, and the root must be ``<mediawiki>``;
- checks UTF-8: an invalid byte inside a ``<page>`` is replaced by ``?`` (one
  byte for one, so offsets stay true) and that page is marked bad; outside a
  page it ends the read, since the siteinfo cannot be trusted then;
- drops a ``<text>`` whose XML is longer than the limit as it streams by, and
  marks its page, so a 300 MB text costs no more memory than a small one;
- decodes an upload's ``<contents>`` (base 64) into a temporary file as it
  streams by (formats/dump_contents.py), the parser seeing only a reference
  in its place, so a file of many megabytes never becomes a string.

A marked page gets, just before its ``</page>``, an element in the reader's own
namespace (``PROBLEM``) naming the problem: lxml cannot say which bytes an
element came from, so the mark travels inside the page it concerns.

The scan relies on what well-formed XML guarantees: ``<`` in text and in
attribute values is always escaped, so every ``<`` starts markup; comments,
CDATA sections and processing instructions are skipped whole, so a ``</text>``
inside one is not taken for the end of a text.
"""

from __future__ import annotations

import bisect
import codecs
import io
import re
import threading
from collections import deque
from typing import BinaryIO
from xml.sax.saxutils import escape

from wikipeer.formats.dump_contents import SPOOL_PREFIX, SpooledContents
from wikipeer.formats.dump_errors import DumpError

PROBLEM_NS = "urn:x-wikipeer:dump-reader"
PROBLEM = f"{{{PROBLEM_NS}}}problem"
CHUNK = 1 << 16
MAX_TAG = 1 << 16
"""A start tag (the root's, a page's, a text's) longer than this is not a dump's."""
XML_PER_TEXT_BYTE = 6
"""The most XML one byte of text takes as MediaWiki escapes it (``"`` is ``&quot;``)."""

_NAME = re.compile(rb"<([A-Za-z_][-A-Za-z0-9_.:]*)")
_VERSION = re.compile(rb"\bversion\s*=\s*[\"']([^\"']*)[\"']")
_LANG = re.compile(rb"\bxml:lang\s*=\s*[\"']([^\"']*)[\"']")
_ENCODING = re.compile(rb"\bencoding\s*=\s*[\"']([^\"']*)[\"']")
_BOM = b"\xef\xbb\xbf"
PROLOG, BODY, TEXT, SKIP, CONTENTS = "prolog", "body", "text", "skip", "contents"

_marks = threading.local()


def _mark_invalid(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: note where the bad bytes are and stand one ``?`` for each."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _marks.offsets.append(exc.start)
    return "?" * (exc.end - exc.start), exc.end


codecs.register_error("wikipeer-dump-mark", _mark_invalid)


def _incomplete_tail(data: bytes) -> int:
    """How many bytes at the end of ``data`` start a UTF-8 sequence the next read completes."""
    for back in range(1, min(4, len(data) + 1)):
        byte = data[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:  # a lead byte: does its sequence fit?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if back < need else 0
    return 0


class DumpBytes(io.RawIOBase):
    """``inner`` as lxml should see it; ``version`` and ``lang`` come from the root once it was read."""

    def __init__(self, inner: BinaryIO, max_text: int, spool_dir: str | None = None,
                 max_file: int | None = None) -> None:
        self.inner = inner
        self.spool_dir = spool_dir
        self.max_file = max_file
        self.max_text_xml = max_text * XML_PER_TEXT_BYTE
        self.max_text = max_text
        self.out = bytearray()
        self.eof = False
        self.read_bytes = 0          # bytes taken from ``inner`` and checked as UTF-8
        self.utf8_carry = b""
        self.bad: deque[int] = deque()  # offsets of invalid UTF-8 not yet given to a page
        self.carry = b""             # scanned bytes not yet decided (a tag cut by a read)
        self.base = 0                # offset of ``carry``'s first byte
        self.state = PROLOG
        self.inside: bytes | None = None  # the terminator of a comment, CDATA section or PI
        self.in_page = False
        self.problem: str | None = None
        self.held: list[bytes] = []
        self.held_len = 0
        self.version: str | None = None
        self.lang = "en"
        self.out_lines = 0           # newlines handed on, so lines of the parser's input are known
        self.dropped_lines = 0       # newlines not handed on: in the prolog and in skipped texts
        self.line_map: list[tuple[int, int]] = [(1, 0)]  # (parser line, lines dropped before it), ascending
        self.served = 0              # bytes handed to the parser so far
        self.page_ends: deque[int] = deque()  # where in the output pages end, counted as ``served``
        self.spool: SpooledContents | None = None  # the upload contents being decoded
        self.spools: dict[int, SpooledContents] = {}  # decoded, waiting for the reader to take them
        self.spooled = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """At most up to the next page's end: lxml loses the events of a read that fails, so a page
        whose ``</page>`` came in one read survives a syntax error in the next."""
        while not self.out and not self.eof:
            self._fill()
        limit = self.page_ends[0] - self.served if self.page_ends else len(self.out)
        n = min(len(buffer), len(self.out), limit)
        buffer[:n] = self.out[:n]
        del self.out[:n]
        self.served += n
        while self.page_ends and self.page_ends[0] <= self.served:
            self.page_ends.popleft()
        return n

    def prime(self) -> None:
        """Read up to the root element's start tag, so ``version`` and ``lang`` are known (or DumpError)."""
        while self.state == PROLOG and not self.eof:
            self._fill()

    def _fill(self) -> None:
        raw = self.inner.read(CHUNK)
        self._scan(self._checked(raw, final=not raw), final=not raw)
        self.eof = not raw

    # -- UTF-8 ----------------------------------------------------------------------------

    def _checked(self, raw: bytes, final: bool) -> bytes:
        """``raw`` as valid UTF-8 of the same length, noting where bytes were invalid."""
        data = self.utf8_carry + raw
        keep = 0 if final else _incomplete_tail(data)
        data, self.utf8_carry = (data[:-keep], data[-keep:]) if keep else (data, b"")
        start = self.read_bytes
        self.read_bytes += len(data)
        try:
            data.decode("utf-8")
            return data
        except UnicodeDecodeError:
            _marks.offsets = []
            fixed = data.decode("utf-8", "wikipeer-dump-mark").encode("utf-8")
            self.bad.extend(start + offset for offset in _marks.offsets)
            return fixed

    def _settle_bad(self, upto: int) -> None:
        """Give the invalid bytes before offset ``upto`` to the page they are in."""
        while self.bad and self.bad[0] < upto:
            offset = self.bad.popleft()
            if not self.in_page:
                raise DumpError("the dump is not valid UTF-8 outside any page (in its prolog or siteinfo); "
                                "refusing it", offset)
            self.problem = self.problem or f"invalid UTF-8 at byte offset {offset} of the XML"

    # -- markup ---------------------------------------------------------------------------

    def _scan(self, data: bytes, final: bool) -> None:
        buf = self.carry + data
        pos = 0
        while pos < len(buf):
            if self.inside is not None:
                pos = self._skip_inside(buf, pos)
                if self.inside is not None:
                    break
                continue
            lt = buf.find(b"<", pos)
            end = len(buf) if lt < 0 else lt
            self._settle_bad(self.base + end)
            self._content(buf, pos, end)
            pos = end
            if lt < 0:
                break
            after = self._markup(buf, lt, final)
            if after is None:  # the markup continues in the next read
                break
            pos = after
        self._settle_bad(self.base + pos)
        self.carry, self.base = buf[pos:], self.base + pos
        if final:
            if self.state == PROLOG:
                raise DumpError("not a MediaWiki XML export: no <mediawiki> element", self.base)
            if self.state == TEXT:  # cut off inside a text: the parser sees as much as there is, and says so
                self._emit(b"".join(self.held))
                self.held, self.held_len, self.state = [], 0, BODY
            if self.state == CONTENTS:
                self._end_contents()
            self._put(self.carry)  # or cut off mid-tag
            self.carry = b""

    def _skip_inside(self, buf: bytes, pos: int) -> int:
        """Through a comment, CDATA section or PI: pass it on, up to its terminator if here."""
        end = buf.find(self.inside, pos)
        if end < 0:
            cut = max(pos, len(buf) - len(self.inside) + 1)  # a terminator may straddle two reads
            self._put(buf[pos:cut], content=True)
            return cut
        after = end + len(self.inside)
        self._put(buf[pos:after], content=True)
        self.inside = None
        return after

    def _content(self, buf: bytes, start: int, end: int) -> None:
        if start == end:
            return
        if self.state == PROLOG:
            text = buf[start:end]
            if self.base + start == 0:
                text = text.removeprefix(_BOM)
            if text.strip():
                raise DumpError("not a MediaWiki XML export: text before the root element", self.base + start)
        self._put(buf[start:end], content=True)

    def _put(self, data: bytes, content: bool = False) -> None:
        """Pass bytes on; hold a text's content while it may still grow too long, drop it once it has.

        The prolog is not passed on at all, only its lines counted: a comment
        there may be any length, and the parser needs none of it (the encoding
        is UTF-8, checked here).
        """
        if self.state == PROLOG:
            self.dropped_lines += data.count(b"\n")
            self.line_map[0] = (1, self.dropped_lines)
        elif self.state == TEXT and content:
            self.held.append(data)
            self.held_len += len(data)
            if self.held_len > self.max_text_xml:
                self.dropped_lines += sum(part.count(b"\n") for part in self.held)
                self.held, self.held_len, self.state = [], 0, SKIP
                self.problem = self.problem or (f"a revision's text is longer than the limit of {self.max_text} "
                                                "bytes; skipped while reading")
        elif self.state == SKIP and content:
            self.dropped_lines += data.count(b"\n")
        elif self.state == CONTENTS and content:
            self.dropped_lines += data.count(b"\n")
            self.spool.feed(data)
        else:
            self._emit(data)

    def _emit(self, data: bytes) -> None:
        if self.dropped_lines != self.line_map[-1][1]:  # lines were dropped since the last mark
            self.line_map.append((self.out_lines + 1, self.dropped_lines))
        self.out += data
        self.out_lines += data.count(b"\n")

    def file_line(self, parser_line: int) -> int:
        """The line of the file that is line ``parser_line`` of what the parser read."""
        at = bisect.bisect_right(self.line_map, (parser_line, float("inf"))) - 1
        return parser_line + self.line_map[max(at, 0)][1]

    def _markup(self, buf: bytes, lt: int, final: bool) -> int | None:
        """Handle the markup at ``lt``; the offset after what was handled, or None to wait for more bytes."""
        head = buf[lt:lt + 9]
        if len(head) < 9 and not final and b">" not in head:
            return None
        for opening, terminator in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>")):
            if head.startswith(opening):
                if opening == b"<?" and self.state == PROLOG:
                    return self._declaration(buf, lt, final)
                self._put(opening, content=True)
                self.inside = terminator
                return lt + len(opening)
        if head.startswith(b"<!"):
            raise DumpError("the file declares a DTD or entities, which dumps never do; refusing it", self.base + lt)
        if head.startswith(b"</"):
            return self._end_tag(buf, lt, final)
        name = _NAME.match(buf, lt)
        if name is None or self.state != PROLOG and name.group(1) not in (b"page", b"text", b"contents"):
            self._put(b"<", content=True)  # any other markup: its bytes flow on as they are
            return lt + 1
        return self._start_tag(buf, lt, name.group(1), final)

    def _tag_end(self, buf: bytes, lt: int, final: bool) -> int | None:
        gt = buf.find(b">", lt)
        if gt >= 0:
            return gt + 1
        if len(buf) - lt > MAX_TAG:
            raise DumpError(f"a tag longer than {MAX_TAG} bytes; not a MediaWiki dump", self.base + lt)
        return len(buf) if final else None

    def _declaration(self, buf: bytes, lt: int, final: bool) -> int | None:
        end = buf.find(b"?>", lt)
        if end < 0:
            if len(buf) - lt > MAX_TAG:
                raise DumpError(f"a processing instruction longer than {MAX_TAG} bytes before the root element",
                                self.base + lt)
            if not final:
                return None
            end = len(buf)
        after = end + 2
        encoding = _ENCODING.search(buf, lt, end) if buf.startswith(b"<?xml", lt) else None
        if encoding and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            raise DumpError(f"the file declares the encoding {encoding.group(1).decode('ascii', 'replace')!r}; "
                            "MediaWiki dumps are UTF-8", self.base + lt)
        self._put(buf[lt:after])
        return after

    def _start_tag(self, buf: bytes, lt: int, name: bytes, final: bool) -> int | None:
        after = self._tag_end(buf, lt, final)
        if after is None:
            return None
        tag = buf[lt:after]
        empty = tag.endswith(b"/>")
        if self.state == PROLOG:
            self._root(tag, name, lt)
        elif self.state in (TEXT, SKIP, CONTENTS):
            self._put(b"<", content=True)
            return lt + 1
        elif name == b"contents" and self.in_page and not empty:
            self._put(tag)
            self.state, self.spool = CONTENTS, SpooledContents(self.base + lt, self.spool_dir, self.max_file)
            return after
        elif name == b"page" and not empty:
            self.in_page, self.problem = True, None
        elif name == b"text" and self.in_page and not empty:
            self._put(tag)
            self.state, self.held, self.held_len = TEXT, [], 0
            return after
        self._put(tag)
        return after

    def _root(self, tag: bytes, name: bytes, lt: int) -> None:
        if name != b"mediawiki":
            raise DumpError(f"not a MediaWiki XML export: the root element is <{name.decode('ascii', 'replace')}>, "
                            "not <mediawiki>", self.base + lt)
        version = _VERSION.search(tag)
        lang = _LANG.search(tag)
        self.version = version.group(1).decode("ascii", "replace") if version else "?"
        self.lang = lang.group(1).decode("ascii", "replace") if lang else "en"
        self.state = BODY

    def _end_contents(self) -> None:
        """Hand the decoded contents to the reader: the parser sees their number in their place."""
        self.spool.finish()
        self.spooled += 1
        self.spools[self.spooled] = self.spool
        self._emit(f"{SPOOL_PREFIX}{self.spooled}".encode())
        self.spool, self.state = None, BODY

    def take_spool(self, reference: str) -> SpooledContents | None:
        """The contents a reference in the parser's text stands for (once), or None."""
        number = reference.strip().removeprefix(SPOOL_PREFIX)
        return self.spools.pop(int(number), None) if number.isdigit() else None

    def _end_tag(self, buf: bytes, lt: int, final: bool) -> int | None:
        after = self._tag_end(buf, lt, final)
        if after is None:
            return None
        name = buf[lt + 2:after - 1].strip()
        if self.state == CONTENTS:
            if name != b"contents":
                self._put(b"<", content=True)
                return lt + 1
            self._end_contents()
        elif self.state in (TEXT, SKIP):
            if name != b"text":
                self._put(b"<", content=True)
                return lt + 1
            if self.state == TEXT:
                self._emit(b"".join(self.held))
            self.held, self.held_len, self.state = [], 0, BODY
        elif name == b"page" and self.in_page:
            if self.problem:
                self._put(f'<wp:problem xmlns:wp="{PROBLEM_NS}">{escape(self.problem)}</wp:problem>'.encode())
            self.in_page, self.problem = False, None
            self._put(buf[lt:after])
            self.page_ends.append(self.served + len(self.out))
            return after
        self._put(buf[lt:after])
        return after
