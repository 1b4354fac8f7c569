"""Page names as links and transclusions see them: namespaces and normalisation.

The wiki's own namespace names and aliases come from its configuration (its
siteinfo, when pulled from a MediaWiki); MediaWiki also accepts the canonical
English names everywhere (``Template:``, ``File:``, ``Image:``,
``Category:``), so a localised wiki's pages that use them work. Last come the
names and aliases MediaWiki's language data gives the wiki's language
(``Պատկեր:`` on an Armenian wiki whose configuration holds only the English
names): the configuration always wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from wikipeer.model.title import DEFAULT_NAMESPACES, BadTitle, WikiConfig, normalize_title
from wikipeer.render import language_data

CANONICAL: dict[str, int] = {
    "media": -2, "special": -1, "talk": 1, "user": 2, "user talk": 3, "project": 4,
    "project talk": 5, "file": 6, "image": 6, "file talk": 7, "image talk": 7,
    "mediawiki": 8, "mediawiki talk": 9, "template": 10, "template talk": 11, "help": 12,
    "help talk": 13, "category": 14, "category talk": 15,
}
NS_SPECIAL, NS_MEDIA, NS_FILE, NS_TEMPLATE, NS_CATEGORY = -1, -2, 6, 10, 14

# Namespace aliases MediaWiki's language files add on top of the names a dump
# declares (Vietnamese pages write [[Hình:...]] for files, for instance).
ALIASES: dict[str, dict[str, int]] = {
    "vi": {"hình": 6, "tập tin": 6, "thể loại": 14, "bản mẫu": 10, "tiêu bản": 10},
    "uk": {"файл": 6, "зображення": 6, "категорія": 14, "шаблон": 10},
    "ru": {"файл": 6, "изображение": 6, "категория": 14, "шаблон": 10},
    "ja": {"ファイル": 6, "画像": 6, "カテゴリ": 14, "テンプレート": 10},
    "mr": {"चित्र": 6, "संचिका": 6, "वर्ग": 14, "साचा": 10},
    "de": {"datei": 6, "bild": 6, "kategorie": 14, "vorlage": 10},
    "fr": {"fichier": 6, "catégorie": 14, "modèle": 10},
    "es": {"archivo": 6, "imagen": 6, "categoría": 14, "plantilla": 10},
}


@dataclass(frozen=True, slots=True)
class PageName:
    """A normalised page name: namespace number, full title, and fragment."""

    ns: int
    full: str
    text: str
    fragment: str = ""


def _fold(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


def namespace_of(config: WikiConfig, prefix: str) -> int | None:
    """The namespace a ``prefix:`` names on this wiki, or None."""
    folded = _fold(prefix)
    if not folded:
        return None
    for number, name in config.namespaces.items():
        if number != 0 and _fold(name) == folded:
            return number
    for alias, number in config.namespace_aliases.items():
        if _fold(alias) == folded:
            return number
    found = CANONICAL.get(folded)
    if found is None:
        found = ALIASES.get(config.lang, {}).get(folded)
    return found if found is not None else language_prefixes(config.lang, config.sitename or config.name).get(folded)


@lru_cache(maxsize=64)
def language_prefixes(lang: str, sitename: str) -> dict[str, int]:
    """Folded namespace name or alias -> number, from MediaWiki's data for ``lang`` (``$1`` is the site name)."""
    language = language_data.language(lang)
    names = {_fold(name.replace("$1", sitename)): number
             for number, name in language.namespace_names.items() if number != 0 and name}
    for alias, number in language.namespace_aliases.items():
        names.setdefault(_fold(alias.replace("$1", sitename)), number)
    return names


def page_name(config: WikiConfig, raw: str, default_ns: int = 0) -> PageName | None:
    """``raw`` as a page of this wiki (None when MediaWiki would refuse the title)."""
    text, _, fragment = raw.partition("#")
    text = text.replace("_", " ").strip()
    ns = default_ns
    if text.startswith(":"):
        text, ns = text[1:].strip(), 0
    head, sep, rest = text.partition(":")
    if sep:
        found = namespace_of(config, head)
        if found is not None:
            ns, text = found, rest.strip()
    if not text and ns == 0 and fragment:
        return PageName(0, "", "", fragment.strip())
    try:
        title = normalize_title(config, text, ns=ns)
    except (BadTitle, ValueError):
        return None
    full = title.full
    if ns != 0 and not config.namespace_prefix(ns) and ns in DEFAULT_NAMESPACES:
        # A dump may declare only some namespaces (enwiki's modules dump has no Category, Special or File);
        # MediaWiki has every core one all the same, under its canonical name: keep the prefix.
        full = f"{DEFAULT_NAMESPACES[ns]}:{title.text}"
    return PageName(ns, full, title.text, fragment.strip())
