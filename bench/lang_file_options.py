"""File links with the wiki language's option words: how many render as the images they ask for.

A generated page per language (hy, bn) with file links written as those
wikis write them (localized thumb/position words and size suffix), rendered
with MediaWiki's language data and without it (``WIKIPEER_LANGDATA`` at a
missing file: English words only, what the renderer did before). Counts the
file links that come out as thumbnails or positioned images, and those whose
option word leaked into the page as visible text.

Usage: python -m bench.lang_file_options [--without-data]
"""

from __future__ import annotations

import argparse
import re

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    for lang in SAMPLES:
        total, placed, leaked = measure(lang)
        print(f"{lang}: {total} file links, {placed} thumbnails/positioned images, {leaked} option words shown as text")


if __name__ == "__main__":
    main()
