"""Importing a dump with files (``--uploads --include-files``) against the same dump without them.

Generated: PAGES ``File:`` pages, each with one description revision and one
upload of FILE_MB of JPEG-typed bytes (a small JPEG then random bytes, so
nothing compresses and the chunker sees realistic data). The same dump with
the ``<upload>`` elements left out is the floor: the difference is what the
files cost (base-64 decoding to disk, hashing, chunking, packs).
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from wikipeer.model.media import sha1_base36

PAGES = 40
FILE_MB = 0.5


def _jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (seed % 256, 90, 10)).save(out, "JPEG")
    return out.getvalue() + random.Random(seed).randbytes(int(FILE_MB * (1 << 20)))


def write_dump(path: Path, with_files: bool) -> int:
    """The dump; returns the bytes of files it carries."""
    total = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">\n'
                  "<siteinfo><sitename>B</sitename><dbname>bench</dbname><case>first-letter</case><namespaces>"
                  '<namespace key="6" case="first-letter">File</namespace></namespaces></siteinfo>\n')
        for n in range(PAGES):
            name = f"Picture {n}.jpg"
            out.write(f"<page><title>File:{name}</title><ns>6</ns><id>{n + 1}</id><revision><id>{n + 1}</id>"
                      "<timestamp>2020-01-01T00:00:00Z</timestamp><contributor><username>B</username><id>2</id>"
                      "</contributor><model>wikitext</model><format>text/x-wiki</format>"
                      '<text bytes="4" xml:space="preserve">desc</text></revision>\n')
            if with_files:
                data = _jpeg(n)
                total += len(data)
                out.write(f"<upload><timestamp>2020-01-02T00:00:00Z</timestamp><contributor><username>B</username>"
                          f"<id>2</id></contributor><comment>up</comment><filename>{name}</filename><src/>"
                          f"<size>{len(data)}</size><sha1base36>{sha1_base36(hashlib.sha1(data).hexdigest())}"
                          f'</sha1base36>\n<contents encoding="base64">{base64.encodebytes(data).decode()}'
                          "</contents></upload>\n")
            out.write("</page>\n")
        out.write("</mediawiki>\n")
    return total


def _import(dump: Path, node: Path) -> float:
    cli = [sys.executable, "-m", "wikipeer.cli.main", "--node", str(node)]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run([*cli, "import", str(dump), "--quiet"], check=True, capture_output=True)
    return time.perf_counter() - start


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        plain, files = tmp / "plain.xml", tmp / "files.xml"
        write_dump(plain, False)
        carried = write_dump(files, True)
        plain_s = _import(plain, tmp / "n1")
        files_s = _import(files, tmp / "n2")
        xml_mb = files.stat().st_size / 1e6
    return {"pages (one file each)": PAGES, "file MB carried": carried / 1e6, "dump MB (base 64)": xml_mb,
            "import without files s": plain_s, "import with files s": files_s,
            "files cost s": files_s - plain_s, "file MB/s (over the floor)": carried / 1e6 / (files_s - plain_s)}


if __name__ == "__main__":
    for key, value in run().items():
        print(f"  {key:<32} {value:,.3f}" if isinstance(value, float) else f"  {key:<32} {value:,}")
