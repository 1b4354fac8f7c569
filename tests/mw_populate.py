"""Fill a real MediaWiki (tests/mediawiki_instance.py) through its own Action API, as people would.

Shared by the pull, push and Action API tests::

    mw = MediaWikiInstance(tmp, uploads=True); mw.install(); mw.serve()
    wiki = populate(mw)            # users, edits, a move, a deletion, an upload, an edit conflict
    alice = login(mw, "Alice")     # a RemoteWiki session logged in as Alice
    edit(alice, "Foo", "text", "summary")

For volume, ``fill(mw, tmp, pages=40, revisions=50)`` writes a generated
full-history dump and loads it with importDump.php (seconds for thousands of
revisions, where the API takes a tenth of a second per edit).

What ``populate`` makes (every title and number is in the returned Populated):

- accounts Alice and Bob (createAndPromote.php), besides the installer's Admin;
- pages edited by Alice, Bob, Admin and one anonymous editor (an IP), in
  namespaces 0 (main), 1 (talk), 10 (template) and 4 (project), one with a
  non-ASCII title, several revisions each, a minor edit among them;
- a page moved by Alice (a redirect left at the old title);
- a page created and then deleted by Admin;
- a tiny PNG uploaded by Bob (its description page File:Tiny dot.png);
- an edit conflict: Alice and Bob edit the same line from the same base
  revision; Alice's edit is saved, Bob's is refused with ``editconflict``.

``upload_media(mw)`` (not part of populate) uploads generated PNG, JPEG, GIF and
SVG files, one of them in three versions (``media_versions``).
"""

from __future__ import annotations

import hashlib
import time
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from mediawiki_instance import MediaWikiInstance
from wikipeer.mediawiki.remote import MediaWikiError, RemoteWiki

USERS = {"Alice": "AlicePassword123!", "Bob": "BobPassword123!"}


@dataclass
class Populated:
    """What populate() made in the wiki."""

    api: str
    passwords: dict[str, str]
    titles: list[str] = field(default_factory=list)
    edits: int = 0
    moved: tuple[str, str] = ("", "")
    deleted: str = ""
    upload: str = ""
    upload_sha1: str = ""            # hex SHA-1 of the uploaded file
    upload_size: int = 0
    conflict: str = ""
    conflict_code: str = ""          # what MediaWiki answered the losing edit


def tiny_png(rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid 1x1 PNG of one colour (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def api_url(mw: MediaWikiInstance) -> str:
    return mw.serve() + "/api.php"


def create_account(mw: MediaWikiInstance, name: str, password: str, *groups: str) -> None:
    """An account made with maintenance/createAndPromote.php (``--sysop``, ``--bot`` by group name)."""
    flags = [f"--{g}" for g in groups]
    mw.maintenance("createAndPromote", *flags, name, password)


def session(mw: MediaWikiInstance) -> RemoteWiki:
    """An anonymous session (its edits are an IP's)."""
    return RemoteWiki(api_url(mw), rate=0)


def login(mw: MediaWikiInstance, name: str, password: str | None = None) -> RemoteWiki:
    """A session logged in as ``name`` (the installer's admin or one of USERS unless ``password``)."""
    password = password or USERS.get(name) or (mw.password if name == mw.admin else None)
    wiki = session(mw)
    answer = wiki.post(action="login", lgname=name, lgpassword=password, lgtoken=wiki.token("login"))
    if answer.get("login", {}).get("result") != "Success":
        raise MediaWikiError(wiki.url, f"login as {name} failed: {answer.get('login')}")
    wiki.forget_tokens()
    return wiki


def edit(wiki: RemoteWiki, title: str, text: str, summary: str, **extra: object) -> dict:
    """action=edit; the ``edit`` part of the answer (``newrevid``, ``newtimestamp``...)."""
    answer = wiki.post(action="edit", title=title, text=text, summary=summary, token=wiki.token("csrf"), **extra)
    return answer["edit"]


def latest(wiki: RemoteWiki, title: str) -> dict:
    """The newest revision of ``title`` (revid, timestamp, content)."""
    pages = wiki.get(action="query", prop="revisions", titles=title, rvprop="ids|timestamp|content",
                     rvslots="main")["query"]["pages"]
    return pages[0]["revisions"][0]


def next_second() -> None:
    """Wait until the clock's next second. MediaWiki 1.39 tells an edit conflict by the base revision's
    timestamp, to the second: an edit saved in the same second as its base is not seen as a newer one."""
    time.sleep(1.02 - time.time() % 1)


def populate(mw: MediaWikiInstance) -> Populated:
    """Fill ``mw`` as the module docstring says; ``mw`` must have been made with ``uploads=True``."""
    for name, password in USERS.items():
        create_account(mw, name, password)
    out = Populated(api_url(mw), {**USERS, mw.admin: mw.password})
    admin, alice, bob, anon = login(mw, mw.admin), login(mw, "Alice"), login(mw, "Bob"), session(mw)

    def save(wiki: RemoteWiki, title: str, text: str, summary: str, **extra: object) -> dict:
        result = edit(wiki, title, text, summary, **extra)
        out.edits += 1
        if title not in out.titles:
            out.titles.append(title)
        return result

    save(alice, "Alpha", "Alpha is the first letter.\n\n== History ==\nOld.", "new page")
    save(bob, "Alpha", "Alpha is the first letter of the Greek alphabet.\n\n== History ==\nOld.", "more precise")
    save(alice, "Alpha", "Alpha is the first letter of the Greek alphabet.\n\n== History ==\nOlder.", "typo",
         minor=True)
    save(anon, "Talk:Alpha", "Is this right? ~~~~", "question")
    save(admin, "Template:Box", "<div class=\"box\">{{{1}}}</div>", "template")
    save(bob, "Beta", "{{Box|Beta}} is the second letter.", "new page")
    save(alice, "Zürich", "Zürich is a city. [[Alpha]]", "non-ASCII title")
    save(admin, "Wikipedia:About", "About this wiki.", "project page")
    save(bob, "Gamma", "Gamma, before its move.", "new page")
    save(bob, "Gamma", "Gamma, the third letter.", "second revision")
    alice.post(action="move", **{"from": "Gamma", "to": "Gamma letter"}, reason="a clearer title",
               token=alice.token("csrf"))
    out.moved = ("Gamma", "Gamma letter")
    out.titles += ["Gamma letter"]
    save(bob, "Delta", "Delta will be deleted.", "new page")
    admin.post(action="delete", title="Delta", reason="test deletion", token=admin.token("csrf"))
    out.deleted = "Delta"
    out.titles.remove("Delta")
    png = tiny_png()
    bob.post(action="upload", filename="Tiny dot.png", comment="a tiny dot", text="A red dot.",
             ignorewarnings=True, token=bob.token("csrf"), files={"file": ("Tiny dot.png", png, "image/png")})
    out.upload, out.upload_sha1, out.upload_size = "File:Tiny dot.png", hashlib.sha1(png).hexdigest(), len(png)
    out.titles.append(out.upload)
    out.edits += 1
    base = latest(alice, "Alpha")
    next_second()
    save(alice, "Alpha", base["slots"]["main"]["content"].replace("Older.", "Older, by Alice."), "Alice's change",
         baserevid=base["revid"], basetimestamp=base["timestamp"])
    try:
        edit(bob, "Alpha", base["slots"]["main"]["content"].replace("Older.", "Older, by Bob."), "Bob's change",
             baserevid=base["revid"], basetimestamp=base["timestamp"])
        out.conflict_code = "saved"
    except MediaWikiError as exc:
        out.conflict_code = exc.code
    out.conflict = "Alpha"
    for wiki in (admin, alice, bob, anon):
        wiki.close()
    return out


SVG_SETTINGS = "$wgFileExtensions[] = 'svg';"
"""extra_settings for a MediaWikiInstance that upload_media() fills: SVG is not allowed by default."""


def media_versions(size: int = 0) -> dict[str, list[bytes]]:
    """Generated pictures by file name, each name's versions oldest first: a PNG in three versions (the
    second a small change), a JPEG, a GIF and an SVG; with ``size``, a JPEG of about that many bytes too."""
    import io
    import random

    from PIL import Image

    def picture(fmt: str, seed: int, dims: tuple[int, int] = (48, 32)) -> bytes:
        rng = random.Random(seed)
        img = Image.new("RGB", dims)
        img.putdata([((x * 255) // dims[0], (y * 255) // dims[1], rng.randrange(256))
                     for y in range(dims[1]) for x in range(dims[0])])
        out = io.BytesIO()
        img.save(out, fmt)
        return out.getvalue()

    svg = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
           b'<rect width="120" height="80" fill="#36c"/><circle cx="60" cy="40" r="30" fill="#fc3"/></svg>\n')
    files = {"Red square.png": [picture("PNG", 1), picture("PNG", 2), picture("PNG", 3, (64, 40))],
             "Photo.jpg": [picture("JPEG", 4)], "Moving.gif": [picture("GIF", 5)], "Drawing.svg": [svg]}
    if size:
        head = picture("JPEG", 6)
        files["Large photo.jpg"] = [head + random.Random(6).randbytes(size - len(head))]
    return files


def upload_media(mw: MediaWikiInstance, files: dict[str, list[bytes]] | None = None,
                 user: str = "Bob") -> dict[str, list[bytes]]:
    """Upload ``files`` (default media_versions()) through action=upload as ``user``, versions oldest
    first, one second apart (MediaWiki orders versions by their second); returns what was uploaded.
    Needs uploads=True and SVG_SETTINGS; the accounts of populate() or create_account() first."""
    files = files or media_versions()
    wiki = login(mw, user)
    mimes = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml"}
    try:
        for number in range(max(len(v) for v in files.values())):
            for name, versions in files.items():
                if number < len(versions):
                    wiki.post(action="upload", filename=name, comment=f"version {number + 1} of {name}",
                              text=f"{name}, uploaded by {user}.", ignorewarnings=True, token=wiki.token("csrf"),
                              files={"file": (name, versions[number], mimes[name.rsplit(".", 1)[1]])})
            next_second()
    finally:
        wiki.close()
    return files


def write_dump(path: Path, pages: int, revisions: int, prefix: str = "Bulk") -> int:
    """A full-history dump (schema 0.11) of ``pages`` pages with ``revisions`` revisions each by a few
    users; returns how many revisions it holds."""
    users = ["Alice", "Bob", "Carol", "Dave"]
    with open(path, "w", encoding="utf-8") as out:
        out.write('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">\n'
                  "<siteinfo><sitename>Wikipedia</sitename><dbname>my_wiki</dbname><case>first-letter</case>"
                  '<namespaces><namespace key="0" case="first-letter" /></namespaces></siteinfo>\n')
        for p in range(pages):
            out.write(f"<page><title>{prefix} {p}</title><ns>0</ns><id>{p + 1}</id>\n")
            text = ""
            for r in range(revisions):
                text += f"Line {r} of page {p}: " + "lorem ipsum dolor sit amet " * 3 + "\n"
                ts = f"2020-01-{1 + r // 1440 % 28:02d}T{r // 60 % 24:02d}:{r % 60:02d}:{p % 60:02d}Z"
                user = users[(p + r) % len(users)]
                out.write(f"<revision><id>{p * revisions + r + 1}</id><timestamp>{ts}</timestamp>"
                          f"<contributor><username>{user}</username><id>{(p + r) % len(users) + 10}</id></contributor>"
                          f"<comment>edit {r}</comment><model>wikitext</model><format>text/x-wiki</format>"
                          f'<text xml:space="preserve" bytes="{len(text.encode())}">{escape(text)}</text></revision>\n')
            out.write("</page>\n")
        out.write("</mediawiki>\n")
    return pages * revisions


def fill(mw: MediaWikiInstance, directory: Path, pages: int = 40, revisions: int = 50, prefix: str = "Bulk") -> int:
    """Load a generated dump (write_dump) into ``mw`` with importDump.php; returns its revision count."""
    path = Path(directory) / f"{prefix.lower()}-{pages}x{revisions}.xml"
    count = write_dump(path, pages, revisions, prefix)
    mw.import_dump(path, no_updates=True)
    return count
