"""A revision commit's message and identity: the edit summary, then trailers that carry the revision.

The message is the edit summary (``(no summary)`` when it has none), a blank
line, then one trailer per line::

    Wikipeer-Revision: <revision CID>
    Wikipeer-Page: <wiki> <ns> <title>
    Wikipeer-Author: <author key as 64 hex digits, or the imported user>
    Wikipeer-Block: <base64 of the revision block's DAG-CBOR>
    Wikipeer-Signature: <base64 of one sig block>      (one per signature, by sig CID)

The block makes a commit verifiable from the repository alone: its CID is
recomputed, and the page, author and summary lines must agree with it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block
from wikipeer.model.cid import DAG_CBOR, compute_cid, cid_from_str, cid_to_str
from wikipeer.model.keys import key_from_str
from wikipeer.model.objects import Page, Revision, Signature, build_page, parse

NO_SUMMARY = "(no summary)"
REVISION, PAGE, AUTHOR, BLOCK, SIGNATURE = (
    "Wikipeer-Revision", "Wikipeer-Page", "Wikipeer-Author", "Wikipeer-Block", "Wikipeer-Signature")
NODE_IDENTITY = b"wikipeer <node@wikipeer>"
_ONCE = (REVISION, PAGE, AUTHOR, BLOCK)
_MAX_BLOCK_TEXT = 1  # parse() limits raw text blocks only; revision and sig blocks are DAG-CBOR


class BadTrailers(InvalidObject):
    """A commit message whose trailers are missing, malformed or disagree with the revision they carry."""


@dataclass(frozen=True, slots=True)
class CommitTrailers:
    """What a revision commit's message carries, decoded and checked against itself."""

    summary: str
    revision: bytes
    """The revision's CID."""
    page: Page
    author: str
    """64 hex digits of the author key, or the imported user as the revision names it."""
    block: bytes
    """The revision block's DAG-CBOR."""
    signatures: tuple[bytes, ...]
    """The sig blocks' DAG-CBOR, in sig CID order."""

    def record(self) -> Revision:
        """The revision the block holds (checked when the trailers were parsed)."""
        rec = parse(Block(self.revision, self.block), _MAX_BLOCK_TEXT)
        assert isinstance(rec, Revision)
        return rec

    def signature_records(self) -> list[tuple[bytes, Signature]]:
        """Each signature's CID and record."""
        out = []
        for data in self.signatures:
            cid = compute_cid(data, DAG_CBOR)
            rec = parse(Block(cid, data), _MAX_BLOCK_TEXT)
            assert isinstance(rec, Signature)
            out.append((cid, rec))
        return out


def author_label(rev: Revision) -> str:
    """The Wikipeer-Author value: the author key's 64 hex digits, else the imported user or address."""
    if rev.author:
        return key_from_str(rev.author).hex()
    for field in ("user", "ip"):
        value = rev.origin.get(field)
        if isinstance(value, str) and value.strip():
            return _one_line(value)
    return "anonymous"


def git_identity(rev: Revision) -> bytes:
    """The commit's author and committer (without the date): ``<keyhex@wikipeer>`` or the imported user."""
    label = author_label(rev)
    if rev.author:
        return f"{label[:16]} <{label}@wikipeer>".encode("utf-8")
    name = "".join(ch for ch in label if ch not in "<>") or "anonymous"
    return f"{name} <imported@wikipeer>".encode("utf-8")


def build_message(page: Page, revision: Block, signatures: list[Block]) -> bytes:
    """The commit message of a revision commit (UTF-8), deterministic for the same blocks."""
    rec = parse(revision, _MAX_BLOCK_TEXT)
    if not isinstance(rec, Revision):
        raise InvalidObject(f"{revision}: not a revision")
    lines = [
        f"{REVISION}: {cid_to_str(revision.cid)}",
        f"{PAGE}: {page.wiki} {page.ns} {page.title}",
        f"{AUTHOR}: {author_label(rec)}",
        f"{BLOCK}: {base64.b64encode(revision.data).decode('ascii')}",
    ]
    lines += [f"{SIGNATURE}: {base64.b64encode(sig.data).decode('ascii')}"
              for sig in sorted(signatures, key=lambda s: s.cid)]
    return (summary_of(rec) + "\n\n" + "\n".join(lines) + "\n").encode("utf-8")


def summary_of(rev: Revision) -> str:
    """The first paragraph of the message: the edit summary with its line ends kept, or ``(no summary)``."""
    text = rev.comment.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    # A blank line inside the summary would end the paragraph git shows as the subject; one newline keeps it whole.
    while "\n\n" in text:
        text = text.replace("\n\n", "\n")
    return text if text.strip() else NO_SUMMARY


def parse_trailers(message: bytes | str) -> CommitTrailers:
    """Decode and check a revision commit's message; BadTrailers says what is wrong.

    Checked: every trailer present once (signatures any number), the block's
    CID is the Wikipeer-Revision, the block is a valid revision, and the page,
    author and summary lines are the block's. Signatures are decoded and must
    target the revision; whether they verify is verify.py's question.
    """
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadTrailers(f"the message is not UTF-8 (byte offset {exc.start})") from None
    summary, sep, tail = message.rstrip("\n").rpartition("\n\n")
    if not sep:
        raise BadTrailers("no trailers: a revision commit's message ends with a paragraph of Wikipeer-* lines")
    values: dict[str, list[str]] = {}
    for line in tail.split("\n"):
        name, colon, value = line.partition(": ")
        if not colon or not name.startswith("Wikipeer-"):
            raise BadTrailers(f"malformed trailer line {line[:60]!r}")
        values.setdefault(name, []).append(value)
    for name in _ONCE:
        if len(values.get(name, [])) != 1:
            raise BadTrailers(f"{name} must appear once, found {len(values.get(name, []))}")
    unknown = set(values) - set(_ONCE) - {SIGNATURE}
    if unknown:
        raise BadTrailers(f"unknown trailer {sorted(unknown)[0]}")
    try:
        revision = cid_from_str(values[REVISION][0])
    except InvalidObject as exc:
        raise BadTrailers(f"{REVISION}: {exc}") from None
    data = _unbase64(BLOCK, values[BLOCK][0])
    if compute_cid(data, DAG_CBOR) != revision:
        raise BadTrailers(f"{BLOCK} does not hash to {REVISION} {values[REVISION][0]} (forged or altered)")
    try:
        rec = parse(Block(revision, data), _MAX_BLOCK_TEXT)
    except InvalidObject as exc:
        raise BadTrailers(f"{BLOCK}: {exc}") from None
    if not isinstance(rec, Revision):
        raise BadTrailers(f"{BLOCK} holds no revision")
    page = _page(values[PAGE][0], rec)
    if values[AUTHOR][0] != author_label(rec):
        raise BadTrailers(f"{AUTHOR} {values[AUTHOR][0][:70]!r} is not the revision's author {author_label(rec)!r}")
    if summary != summary_of(rec):
        raise BadTrailers(f"the summary {summary[:60]!r} is not the revision's edit summary {summary_of(rec)[:60]!r}")
    signatures = [_unbase64(SIGNATURE, v) for v in values.get(SIGNATURE, [])]
    trailers = CommitTrailers(summary, revision, page, values[AUTHOR][0], data, tuple(signatures))
    try:
        records = trailers.signature_records()
    except InvalidObject as exc:
        raise BadTrailers(f"{SIGNATURE}: {exc}") from None
    cids = [cid for cid, _ in records]
    if cids != sorted(cids):
        raise BadTrailers(f"{SIGNATURE} lines are not in CID order (the message is not the one a node builds)")
    for cid, sig in records:
        if sig.target != revision:
            raise BadTrailers(f"signature {cid_to_str(cid)} signs {cid_to_str(sig.target)}, not this revision")
    return trailers


def _page(value: str, rev: Revision) -> Page:
    wiki, _, rest = value.partition(" ")
    ns_text, _, title = rest.partition(" ")
    try:
        page = Page(wiki, int(ns_text), title)
    except ValueError:
        raise BadTrailers(f"{PAGE} {value[:60]!r} is not 'WIKI NS TITLE'") from None
    if build_page(page).cid != rev.page:
        raise BadTrailers(f"{PAGE} {value[:60]!r} is not the page the revision names")
    return page


def _unbase64(name: str, value: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise BadTrailers(f"{name} is not base64") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())

