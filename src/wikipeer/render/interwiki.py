"""Interwiki prefixes: sister projects (``wikt:``) and other languages (``fr:``).

A wiki's own map (``WikiConfig.interwiki``, from its siteinfo) when it has
one, else a small built-in map, enough for what Wikipedia pages link to.
Language prefixes on a plain link are the page's language links (shown by the
page around it, not inline); with a leading colon (``[[:fr:Paris]]``) they
are an ordinary link to that Wikipedia. A prefix whose URL is the wiki's own
(MediaWiki's ``$wgLocalInterwikis``) names this wiki: ``[[local:Foo]]`` is
``[[Foo]]``, as MediaWiki's title parser strips it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from wikipeer.model.languages import LANGUAGES
from wikipeer.model.title import WikiConfig
from wikipeer.render import messages

# Project prefixes -> URL pattern; {lang} is the wiki's language, $1 the page.
PROJECTS: dict[str, str] = {
    "w": "https://en.wikipedia.org/wiki/$1", "wikipedia": "https://{lang}.wikipedia.org/wiki/$1",
    "wikt": "https://{lang}.wiktionary.org/wiki/$1", "wiktionary": "https://{lang}.wiktionary.org/wiki/$1",
    "commons": "https://commons.wikimedia.org/wiki/$1", "c": "https://commons.wikimedia.org/wiki/$1",
    "m": "https://meta.wikimedia.org/wiki/$1", "meta": "https://meta.wikimedia.org/wiki/$1",
    "mw": "https://www.mediawiki.org/wiki/$1", "mediawikiwiki": "https://www.mediawiki.org/wiki/$1",
    "d": "https://www.wikidata.org/wiki/$1", "wikidata": "https://www.wikidata.org/wiki/$1",
    "species": "https://species.wikimedia.org/wiki/$1", "wikispecies": "https://species.wikimedia.org/wiki/$1",
    "s": "https://{lang}.wikisource.org/wiki/$1", "wikisource": "https://{lang}.wikisource.org/wiki/$1",
    "q": "https://{lang}.wikiquote.org/wiki/$1", "wikiquote": "https://{lang}.wikiquote.org/wiki/$1",
    "b": "https://{lang}.wikibooks.org/wiki/$1", "wikibooks": "https://{lang}.wikibooks.org/wiki/$1",
    "n": "https://{lang}.wikinews.org/wiki/$1", "wikinews": "https://{lang}.wikinews.org/wiki/$1",
    "v": "https://{lang}.wikiversity.org/wiki/$1", "wikiversity": "https://{lang}.wikiversity.org/wiki/$1",
    "voy": "https://{lang}.wikivoyage.org/wiki/$1", "wikivoyage": "https://{lang}.wikivoyage.org/wiki/$1",
    "foundation": "https://foundation.wikimedia.org/wiki/$1", "wmf": "https://foundation.wikimedia.org/wiki/$1",
    "phab": "https://phabricator.wikimedia.org/$1", "incubator": "https://incubator.wikimedia.org/wiki/$1",
    "oldwikisource": "https://wikisource.org/wiki/$1", "metawikimedia": "https://meta.wikimedia.org/wiki/$1",
}


def project_url(prefix: str, rest: str, lang: str) -> str | None:
    """The URL of ``prefix:rest`` on a sister project, or None for no such prefix."""
    pattern = PROJECTS.get(prefix.lower())
    if pattern is None:
        return None
    head, sep, tail = rest.partition(":")
    if sep and head.lower() in LANGUAGES and "{lang}" in pattern:
        lang, rest = head.lower(), tail
    elif sep and head.lower() in LANGUAGES and pattern.startswith("https://en.wikipedia"):
        return language_url(head.lower(), tail)
    return pattern.replace("{lang}", lang).replace("$1", encode_page(rest))


def language_url(lang: str, page: str) -> str:
    """The URL of ``page`` on the Wikipedia in ``lang``."""
    return f"https://{lang}.wikipedia.org/wiki/{encode_page(page)}"


def encode_page(page: str) -> str:
    """A page name as MediaWiki puts it in a URL (``_`` for spaces)."""
    name, sep, fragment = page.strip().partition("#")
    url = quote(name.replace(" ", "_"), safe="/:;@$!*(),~")
    return url + ("#" + quote(fragment.strip().replace(" ", "_"), safe="/:;@$!*(),~.") if sep else "")


@dataclass(frozen=True, slots=True)
class InterwikiTarget:
    """``[[prefix:page#fragment]]`` on another wiki, as a link needs it.

    ``language``: the prefix names a language edition (a language link unless
    forced inline); ``via_local``: reached through a prefix of this wiki
    (``[[local:es:X]]``), which MediaWiki always shows inline.
    """

    prefix: str
    page: str
    fragment: str
    url: str
    language: bool
    via_local: bool

    @property
    def title(self) -> str:
        """The link's tooltip, MediaWiki's prefixed text: ``meatball:Soft Security``."""
        return f"{self.prefix}:{self.page.replace('_', ' ')}"


def _own_pattern(config: WikiConfig) -> str | None:
    """The wiki's article URL with $1 for the page, from its base URL (``.../wiki/Main_Page``)."""
    cut = config.base.find("/wiki/")
    return config.base[:cut + len("/wiki/")] + "$1" if cut >= 0 else None


def pattern_for(config: WikiConfig, prefix: str) -> str | None:
    """The URL pattern (with $1) a prefix names, or None when it is no interwiki prefix."""
    key = prefix.strip().lower()
    if config.interwiki:
        for name, url in config.interwiki.items():
            if name.lower() == key:
                return url
        return None
    if key in PROJECTS:
        return PROJECTS[key].replace("{lang}", config.lang)
    return f"https://{key}.wikipedia.org/wiki/$1" if key in LANGUAGES else None


def is_language(config: WikiConfig, prefix: str) -> bool:
    """Whether a prefix is a language edition's (its links are the page's language links)."""
    return prefix.strip().lower() in LANGUAGES and pattern_for(config, prefix) is not None


def split_target(config: WikiConfig, name: str,
                 is_namespace: Callable[[str], bool]) -> tuple[str, InterwikiTarget | None]:
    """``name`` with the prefixes naming this wiki taken off, and the interwiki target it names, if any.

    ``is_namespace(prefix)`` says whether a prefix is a namespace here: a
    namespace wins over an interwiki prefix of the same name (T53680). An
    empty name after a local prefix is the main page.
    """
    own = _own_pattern(config)
    via_local = False
    while True:
        head, sep, tail = name.partition(":")
        if not sep or is_namespace(head):
            return name, None
        pattern = pattern_for(config, head)
        if pattern is None:
            return name, None
        if own is not None and pattern == own:
            via_local = True
            name = tail.strip()
            if not name:
                return messages.message("mainpage", config.lang) or "Main Page", None
            continue
        page, _, fragment = tail.strip().partition("#")
        page = page.strip()
        if page.startswith(":"):  # [[meatball::Category:X]]: the colon only keeps the namespace off
            page = page[1:]
        prefix = head.strip().lower()
        if config.interwiki:
            url = interwiki_url(pattern, page, fragment.strip())
        else:  # the built-in map: [[wikipedia:fr:X]] goes to the French Wikipedia itself
            url = project_url(prefix, tail.strip(), config.lang) or language_url(prefix, tail)
        return name, InterwikiTarget(prefix, page, fragment.strip(), url, is_language(config, prefix), via_local)


def interwiki_url(pattern: str, page: str, fragment: str = "") -> str:
    """``pattern`` with the page in place of $1 (MediaWiki's wfUrlencode), and the fragment."""
    if not page and pattern.endswith("?$1"):
        pattern = pattern[:-3]
    url = pattern.replace("$1", quote(page.replace(" ", "_"), safe="/:;@$!*(),~"))
    return url + ("#" + quote(fragment.replace(" ", "_"), safe="/:;@$!*(),~.") if fragment else "")
