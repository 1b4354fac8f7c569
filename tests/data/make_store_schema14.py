"""Make store_schema14.sqlite.xz: a store written by the code before schema 15 (issue 15), for the migration test.

Run from a checkout of commit 25389fe (schema 14), with its source first on the path:

    PYTHONPATH=src:. python tests/data/make_store_schema14.py OUT_DIR

It imports a small XML dump (contributors, an IP edit, a minor edit, SHA-1s, parent ids) and ingests a
synthetic author-signed history (one revision kept whole, as before schema 9), then keeps the store file, VACUUMed with 1 KiB pages and xz'd.
"""

import lzma
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench.synthetic import history
from wikipeer.formats.dump_reader import sha1_base36
from wikipeer.ingest import ingest
from wikipeer.store.store import Store

REVISIONS = [("Alpha", "Ann", None, "first [[Beta]]", False), ("Alpha", None, "192.0.2.7", "first [[Beta]] more", True),
             ("Alpha", "Bo", None, "first [[Beta]] more and more", False), ("Beta", "Ann", None, "beta text", False)]


def dump(path: Path) -> None:
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">'
           "<siteinfo><sitename>T</sitename><dbname>testwiki</dbname><base>https://test.example.org/wiki/Main</base>"
           '<case>first-letter</case><namespaces><namespace key="0" case="first-letter" /></namespaces></siteinfo>']
    last = None
    for n, (title, user, ip, text, minor) in enumerate(REVISIONS, 1):
        if title != last:
            out.append(("</page>" if last else "") + f"<page><title>{title}</title><ns>0</ns><id>{n}</id>")
            last = title
        who = f"<username>{user}</username><id>{len(user)}</id>" if user else f"<ip>{ip}</ip>"
        out.append(f"<revision><id>{100 + n}</id>" + (f"<parentid>{99 + n}</parentid>" if n in (2, 3) else "")
                   + f"<timestamp>2020-01-0{n}T00:00:00Z</timestamp><contributor>{who}</contributor>"
                   + ("<minor/>" if minor else "") + f"<comment>edit {n}</comment><model>wikitext</model>"
                   + f'<format>text/x-wiki</format><text bytes="{len(text)}" xml:space="preserve">{text}</text>'
                   + f"<sha1>{sha1_base36(text.encode())}</sha1></revision>")
    out.append("</page></mediawiki>\n")
    path.write_text("".join(out))


def main(out_dir: Path) -> None:
    node = out_dir / "node"
    cli = [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node)]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    dump(out_dir / "t.xml")
    subprocess.run([*cli, "import", "--quiet", str(out_dir / "t.xml")], check=True, capture_output=True)
    store = Store(node / "store.sqlite")
    ingest(store, [b for _, blocks in history(3, 3, 400) for b in blocks], "fixture")
    # One revision as the stores before schema 9 kept them: its whole block.
    oid, cid = store.conn.execute("SELECT id, cid FROM objects WHERE kind = 2 ORDER BY id DESC LIMIT 1").fetchone()
    whole = store.get_block(cid).data
    with store.conn:
        store.conn.execute("UPDATE objects SET data = ? WHERE id = ?", (whole, oid))
    store.close()
    conn = sqlite3.connect(node / "store.sqlite")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA page_size=1024")
    conn.execute("VACUUM")
    conn.close()
    (out_dir / "store_schema14.sqlite.xz").write_bytes(lzma.compress((node / "store.sqlite").read_bytes(), preset=9))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
