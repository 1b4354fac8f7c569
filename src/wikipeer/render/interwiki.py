"""Interwiki prefixes: sister projects (``wikt:``) and other languages (``fr:``).

A small built-in map, enough for what Wikipedia pages link to. Language
prefixes on a plain link are the page's language links (shown by the page
around it, not inline); with a leading colon (``[[:fr:Paris]]``) they are an
ordinary link to that Wikipedia.
"""

from __future__ import annotations

from urllib.parse import quote

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

# Wikipedia language codes (the larger editions and all the samples' neighbours).
LANGUAGES = frozenset("""
aa ab ace ady af ak als alt am an ang ar arc ary arz as ast atj av avk awa ay az azb ba ban bar
bat-smg bcl be be-tarask be-x-old bg bh bi bjn bm bn bo bpy br bs bug bxr ca cbk-zam cdo ce ceb ch
cho chr chy ckb co cr crh cs csb cu cv cy da dag de din diq dsb dty dv dz ee el eml en eo es et eu
ext fa ff fi fiu-vro fj fo fr frp frr fur fy ga gag gan gcr gd gl glk gn gom gor got gu guw gv ha
hak haw he hi hif ho hr hsb ht hu hy hyw hz ia id ie ig ii ik ilo inh io is it iu ja jam jbo jv ka
kaa kab kbd kbp kg ki kj kk kl km kn ko koi kr krc ks ksh ku kv kw ky la lad lb lbe lez lfn lg li
lij lld lmo ln lo lrc lt ltg lv mad mai map-bms mdf mg mh mhr mi min mk ml mn mni mnw mo mr mrj ms
mt mus mwl my myv mzn na nah nap nds nds-nl ne new ng nia nl nn no nov nqo nrm nso nv ny oc olo om
or os pa pag pam pap pcd pcm pdc pfl pi pih pl pms pnb pnt ps pt qu rm rmy rn ro roa-rup roa-tara
ru rue rw sa sah sat sc scn sco sd se sg sh shi shn si simple sk skr sl sm smn sn so sq sr srn ss
st stq su sv sw szl szy ta tay tcy te tet tg th ti tk tl tn to tpi tr trv ts tt tum tw ty tyv udm
ug uk ur uz ve vec vep vi vls vo wa war wo wuu xal xh xmf yi yo za zea zh zh-classical zh-min-nan
zh-yue zu
""".split())


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
