"""Build the renderer's language data from Debian's MediaWiki package (docs/rendering.md, "The wiki's language").

The project holds only what it wrote, so MediaWiki's language data is not in
the repository: this script generates it on the machine, from
``/usr/share/mediawiki`` (Debian's ``mediawiki`` package), into one SQLite
file that git ignores (``src/wikipeer/render/language_data.sqlite``). ``php``
reads the ``Messages*.php`` files (they are PHP code); the messages come from
the JSON of core, Cite, ParserFunctions and Scribunto, the plural rules from
``languages/data/plurals*.xml`` (CLDR's), the ``{{GRAMMAR:}}`` rules from
``languages/data/grammarTransformations/*.json``. One row per language:
its own data, zstd-compressed JSON; the loader (``wikipeer.render.language_data``)
follows the fallback chain at run time.

Idempotent: when the file exists and was built from the same MediaWiki
version by the same script, it exits at once.

Usage: python scripts/build_langdata.py [--mediawiki DIR] [--out FILE] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import zstandard

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "src" / "wikipeer" / "render" / "language_data.sqlite"
MESSAGE_DIRS = ("languages/i18n", "extensions/Cite/i18n", "extensions/ParserFunctions/i18n",
                "extensions/Scribunto/i18n")


class BuildError(Exception):
    """The language data cannot be built (no MediaWiki, no php)."""


def _stamp(mediawiki: Path) -> str:
    """What the output depends on: MediaWiki's version and this script's and the PHP reader's text."""
    defines = (mediawiki / "includes" / "Defines.php").read_text(encoding="utf-8", errors="replace")
    version = re.search(r"define\(\s*'MW_VERSION',\s*'([^']+)'", defines)
    digest = hashlib.sha256()
    for source in (Path(__file__).resolve(), HERE / "langdata.php"):
        digest.update(source.read_bytes())
    return f"{version.group(1) if version else 'unknown'} {digest.hexdigest()[:16]}"


def _current_stamp(out: Path) -> str | None:
    if not out.exists():
        return None
    try:
        with sqlite3.connect(f"file:{out}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _php_data(mediawiki: Path) -> dict:
    try:
        done = subprocess.run(["php", str(HERE / "langdata.php"), str(mediawiki)], capture_output=True,
                              check=False, timeout=300)
    except FileNotFoundError:
        raise BuildError("php is not installed: run `bash scripts/system-deps.sh langdata`") from None
    if done.returncode != 0:
        raise BuildError(f"php could not read MediaWiki's language files: {done.stderr.decode()[-500:]}")
    return json.loads(done.stdout)


def _by_index(value) -> dict:
    """A PHP array that json_encode wrote as a list (keys 0..n) as the mapping it is."""
    return {str(k): v for k, v in enumerate(value)} if isinstance(value, list) else dict(value or {})


def _messages(mediawiki: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for folder in MESSAGE_DIRS:
        for path in sorted((mediawiki / folder).glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            data.pop("@metadata", None)
            out.setdefault(path.stem.lower(), {}).update(
                {key: text for key, text in data.items() if isinstance(text, str)})
    return out


def _plural_rules(mediawiki: Path) -> dict[str, list[str]]:
    """Code -> CLDR's cardinal plural conditions in order, "other" left out (MediaWiki's own file overrides)."""
    rules: dict[str, list[str]] = {}
    for name in ("plurals.xml", "plurals-mediawiki.xml"):
        path = mediawiki / "languages" / "data" / name
        if not path.exists():
            continue
        for group in ElementTree.parse(path).iter("pluralRules"):
            conditions = [rule.text.split("@")[0].strip() for rule in group.iter("pluralRule")
                          if rule.get("count") != "other" and rule.text]
            for code in group.get("locales", "").split():
                rules[code.lower().replace("_", "-")] = conditions
    return rules


def _grammar(mediawiki: Path) -> dict[str, dict]:
    """Code -> case -> [(PCRE pattern, replacement)...] or the name of the case it is an alias of.

    MediaWiki reads only the language's own file (no fallback), and so does the loader.
    """
    rules: dict[str, dict] = {}
    for path in sorted((mediawiki / "languages" / "data" / "grammarTransformations").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        data.pop("@metadata", None)
        rules[path.stem.lower()] = {
            case: forms if isinstance(forms, str) else [rule for rule in forms if rule and rule[0] != "@metadata"]
            for case, forms in data.items()}
    return rules


def _language(code: str, raw: dict, messages: dict[str, str], autonym: str) -> dict:
    raw = raw if isinstance(raw, dict) else {}  # php writes a file that sets nothing as []
    fallback = raw.get("fallback") or ""
    chain = [c.strip().lower() for c in fallback.split(",") if c.strip()] if isinstance(fallback, str) else []
    aliases = {name: int(ns) for name, ns in _by_index(raw.get("namespaceAliases")).items()
               if isinstance(ns, int) or str(ns).lstrip("-").isdigit()}  # a few files quote a constant's name
    return {
        "fallback": chain,
        "rtl": raw.get("rtl"),  # None: not set here, the fallback chain decides
        "digits": _by_index(raw["digitTransformTable"]) if "digitTransformTable" in raw else None,
        "separators": _by_index(raw["separatorTransformTable"]) if "separatorTransformTable" in raw else None,
        "minimumGroupingDigits": raw.get("minimumGroupingDigits"),
        "digitGroupingPattern": raw.get("digitGroupingPattern"),
        "namespaces": {str(k): v for k, v in _by_index(raw.get("namespaceNames")).items()},
        "namespaceAliases": aliases,
        "genderAliases": {str(k): v for k, v in _by_index(raw.get("namespaceGenderAliases")).items()},
        "magicWords": {k: list(v) for k, v in _by_index(raw.get("magicWords")).items()},
        "dateFormats": _by_index(raw.get("dateFormats")) or None,
        "defaultDateFormat": raw.get("defaultDateFormat"),
        "autonym": autonym,
        "messages": messages,
    }


def build(mediawiki: Path, out: Path, force: bool = False) -> bool:
    """Write the data file; False when it was already up to date."""
    if not (mediawiki / "languages" / "messages" / "MessagesEn.php").exists():
        raise BuildError(f"no MediaWiki at {mediawiki}: run `bash scripts/system-deps.sh langdata`")
    stamp = _stamp(mediawiki)
    if not force and _current_stamp(out) == stamp:
        return False
    php = _php_data(mediawiki)
    messages = _messages(mediawiki)
    plurals = _plural_rules(mediawiki)
    grammar = _grammar(mediawiki)
    names = php.get("names") or {}
    codes = set(php["languages"]) | set(messages) | set(names)
    compressor = zstandard.ZstdCompressor(level=10)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out.parent, prefix=".langdata-", suffix=".tmp", delete=False) as tmp:
        partial = Path(tmp.name)
    try:
        with sqlite3.connect(partial) as db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE language (code TEXT PRIMARY KEY, data BLOB NOT NULL)")
            for code in sorted(codes):
                record = _language(code, php["languages"].get(code, {}), messages.get(code, {}), names.get(code, ""))
                record["plural"] = plurals.get(code)
                record["grammar"] = grammar.get(code)
                blob = compressor.compress(json.dumps(record, ensure_ascii=False).encode())
                db.execute("INSERT INTO language VALUES (?, ?)", (code, blob))
            db.execute("INSERT INTO meta VALUES ('names', ?)", (json.dumps(names, ensure_ascii=False),))
            db.execute("INSERT INTO meta VALUES ('stamp', ?)", (stamp,))
        db.close()
        partial.chmod(0o644)
        partial.replace(out)  # readers see the old file or the whole new one
    finally:
        partial.unlink(missing_ok=True)
    return True


def main(argv: list[str] | None = None) -> int:
    """Command line: build unless up to date; a clear message and exit 1 when it cannot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mediawiki", type=Path, default=Path("/usr/share/mediawiki"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    try:
        built = build(args.mediawiki, args.out, args.force)
    except BuildError as exc:
        print(f"build_langdata: {exc}", file=sys.stderr)
        return 1
    print(f"language data {'built' if built else 'up to date'}: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
