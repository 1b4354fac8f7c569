"""File links with the wiki language's option words: how many render as the images they ask for.

A generated page per language (hy, bn) with file links written as those
wikis write them (localized thumb/position words and size suffix), rendered
with MediaWiki's language data and without it (``WIKIPEER_LANGDATA`` at a
missing file: English words only, what the renderer did before). Counts the
file links that come out as thumbnails or positioned images, and those whose
option word leaked into the page as visible text.

Usage: python -m bench.lang_file_options [--without-data] [--json]; ``make bench`` runs both
(``python -m bench.run langfiles``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from wikipeer.model.title import DEFAULT_NAMESPACES, WikiConfig
from wikipeer.render import RenderContext, render

SAMPLES = {
    "hy": ("Պատկեր", [("մինի", "աջից", "200px"), ("մինի", "ձախից", "150փքս"), ("մինի",), ("աջից", "120px"),
                      ("կենտրոն", "մինի"), ("thumb", "right")]),
    "bn": ("চিত্র", [("থাম্ব", "ডানে", "200px"), ("থাম্ব", "বামে", "150পিক্সেল"), ("থাম্ব",), ("ডানে", "120px"),
                     ("কেন্দ্রে", "থাম্ব"), ("thumb", "right")]),
}
LINKS_PER_FORM = 100


def measure(lang: str) -> tuple[int, int, int]:
    """(file links, rendered as thumbnail or positioned image, with an option word shown as text)."""
    prefix, forms = SAMPLES[lang]
    # half with a caption after the options, half without (there the last option word would be the caption)
    lines = [f"[[{prefix}:Sample {k} {n}.jpg|{'|'.join(form)}{f'|Caption {k}' if n % 2 else ''}]]"
             for k, form in enumerate(forms) for n in range(LINKS_PER_FORM)]
    config = WikiConfig(f"{lang}wiki", sitename="Wiki", lang=lang, namespaces={**DEFAULT_NAMESPACES, 6: prefix})
    ctx = RenderContext(config=config, title="Bench", href=lambda t: "/wiki/" + t, exists=lambda t: set(),
                        template=lambda t: None)
    page = render("\n\n".join(lines), ctx).html
    placed = len(re.findall(r"<figure[^>]*(?:mw:File/Thumb|mw-halign-)", page))
    text = re.sub(r"<[^>]+>", " ", page)
    words = {word for form in forms for word in form if word not in ("thumb", "right") and not word[0].isdigit()}
    leaked = sum(text.count(f" {word} ") for word in words)
    return len(lines), placed, leaked


def measure_all() -> dict[str, tuple[int, int, int]]:
    """``measure`` for every sample language."""
    return {lang: measure(lang) for lang in SAMPLES}


def run() -> dict[str, object]:
    """For ``make bench``: the counts with the language data, and without it (in a process of its own)."""
    without = subprocess.run([sys.executable, "-m", "bench.lang_file_options", "--without-data", "--json"],
                             capture_output=True, text=True, check=True, timeout=600)
    results: dict[str, object] = {}
    for label, counts in (("with data", measure_all()), ("without data", json.loads(without.stdout))):
        for lang, (total, placed, leaked) in counts.items():
            results[f"{lang} file links"] = total
            results[f"{lang} images, {label}"] = placed
            results[f"{lang} words as text, {label}"] = leaked
    return results


def main() -> None:
    """Command line: print the counts (as JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--without-data", action="store_true", help="English option words only (no language data)")
    parser.add_argument("--json", action="store_true", help="print {lang: [links, images, words as text]}")
    args = parser.parse_args()
    if args.without_data:
        # read by the loader on first use, so set before any page is rendered
        os.environ["WIKIPEER_LANGDATA"] = str(Path(tempfile.gettempdir()) / "no-such-language-data.sqlite")
    counts = measure_all()
    if args.json:
        print(json.dumps(counts))
        return
    for lang, (total, placed, leaked) in counts.items():
        print(f"{lang}: {total} file links, {placed} thumbnails/positioned images, {leaked} option words shown as text")


if __name__ == "__main__":
    main()
