"""``meta=siteinfo``: the wiki as the node knows it, in MediaWiki's words.

``generator`` says "MediaWiki 1.39.0", exactly as MediaWiki does, because
clients parse it (mwclient and pywikibot read the version from it and choose
their requests by it); the ``wikipeer`` field names the software really
answering, with its version.
"""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import quote

from wikipeer.mediawiki.api.call import ApiCall
from wikipeer.mediawiki.api.output import content_key
from wikipeer.mediawiki.api.params import Param, format_timestamp
from wikipeer.mediawiki.api.query import Query
from wikipeer.mediawiki.api.registry import Module, register
from wikipeer.model.title import WikiConfig
from wikipeer.render.interwiki import PROJECTS
from wikipeer.render.names import ALIASES, CANONICAL

MEDIAWIKI_VERSION = "1.39.0"
LEGAL_TITLE_CHARS = " %!\"$&'()*,\\-.\\/0-9:;=?@A-Z\\\\^_`a-z~\\x80-\\xFF+"
CONTENT_NAMESPACES = (0,)
PROPS = ("general", "namespaces", "namespacealiases", "specialpagealiases", "magicwords", "interwikimap",
         "dbrepllag", "statistics", "usergroups", "libraries", "extensions", "fileextensions", "rightsinfo",
         "restrictions", "languages", "languagevariants", "skins", "extensiontags", "functionhooks", "showhooks",
         "variables", "protocols", "defaultoptions", "uploaddialog")


def wikipeer_version() -> str:
    try:
        return version("wikipeer")
    except PackageNotFoundError:
        return "unknown"


def run(call: ApiCall, params: dict[str, Any], query: Query) -> None:
    answers = {"general": _general, "namespaces": _namespaces, "namespacealiases": _aliases,
               "interwikimap": _interwiki, "dbrepllag": lambda c: [{"host": c.servedby, "lag": 0}],
               "statistics": _statistics, "usergroups": _groups, "rightsinfo": lambda c: {"url": "", "text": ""},
               "restrictions": _restrictions, "defaultoptions": lambda c: {}, "languagevariants": lambda c: {},
               "protocols": lambda c: ["http://", "https://", "ftp://", "mailto:", "//"]}
    for prop in params["prop"]:
        query.result[prop] = answers.get(prop, lambda c: [])(call)


def _general(call: ApiCall) -> dict[str, Any]:
    wiki = call.wiki
    base = call.script_url.rsplit("/", 1)[0]
    server = call.state.get("server", "")
    return {
        "mainpage": "Main Page", "base": f"{server}{call.page_url}{quote('Main_Page')}",
        "sitename": wiki.sitename or wiki.name, "mainpageisdomainroot": False, "logo": "",
        "generator": f"MediaWiki {MEDIAWIKI_VERSION}",
        "wikipeer": {"software": "wikipeer", "version": wikipeer_version(), "wiki": wiki.name,
                     "note": "a wikipeer node answering MediaWiki's Action API from its signed store"},
        "phpversion": "", "phpsapi": "", "dbtype": "sqlite", "dbversion": "",
        "imagewhitelistenabled": False, "langconversion": False, "titleconversion": False,
        "linkprefixcharset": "", "linkprefix": "", "linktrail": "/^([a-z]+)(.*)$/sD",
        "legaltitlechars": LEGAL_TITLE_CHARS, "invalidusernamechars": "@:>=",
        "case": wiki.case, "lang": wiki.lang, "fallback": [], "rtl": False, "fallback8bitEncoding": "windows-1252",
        "readonly": False, "writeapi": True, "maxarticlesize": 2 * 1024 * 1024,
        "timezone": "UTC", "timeoffset": 0, "articlepath": f"{call.page_url}$1", "scriptpath": base,
        "script": f"{base}/index.php", "variantarticlepath": False, "server": server,
        "servername": server.split("://", 1)[-1].split(":")[0], "wikiid": wiki.name,
        "time": format_timestamp(int(time.time() * 1000)), "misermode": False, "uploadsenabled": False,
        "maxuploadsize": 0, "minuploadchunksize": 1024, "galleryoptions": {},
        "thumblimits": {str(i): w for i, w in enumerate((120, 150, 180, 200, 220, 250, 300, 400))},
        "imagelimits": {str(i): {"width": w, "height": h} for i, (w, h) in enumerate(
            ((320, 240), (640, 480), (800, 600), (1024, 768), (1280, 1024), (2560, 2048)))},
        "favicon": "", "centralidlookupprovider": "local",
        "allcentralidlookupproviders": ["local"], "interwikimagic": True,
        "magiclinks": {"ISBN": False, "PMID": False, "RFC": False},
        "categorycollation": "uppercase", "nofollowlinks": True, "nofollownsexceptions": [],
        "nofollowdomainexceptions": [], "externallinktarget": False,
    }


def _namespaces(call: ApiCall) -> dict[str, Any]:
    wiki = call.wiki
    out: dict[str, Any] = {}
    canonical = {number: name.title() for name, number in CANONICAL.items() if name not in ("image", "image talk")}
    for number in sorted(wiki.namespaces):
        name = wiki.namespaces[number]
        entry: dict[str, Any] = {"id": number, "case": wiki.case_rule(number), content_key("name"): name,
                                 "subpages": number not in (0, 6, 14, -1, -2), "canonical": canonical.get(number, name),
                                 "content": number in CONTENT_NAMESPACES, "nonincludable": False}
        if number == 0:
            entry.pop("canonical")
        out[str(number)] = entry
    return out


# MediaWiki's English aliases (languages/messages/MessagesEn.php): the canonical names are not listed as
# aliases, they are the namespaces' ``canonical`` field.
ENGLISH_ALIASES: dict[str, int] = {"Image": 6, "Image talk": 7}


def alias_table(wiki: WikiConfig) -> dict[str, int]:
    """The wiki's namespace aliases (alias -> namespace number): the one place they are read from.

    Those a pull took from the wiki's MediaWiki (its siteinfo) when the configuration has them; else the
    built-in ones: English's and those of the wiki's language (render/names.py).
    """
    if wiki.namespace_aliases:
        return dict(wiki.namespace_aliases)
    names = {**ENGLISH_ALIASES, **{alias[:1].upper() + alias[1:]: number
                                   for alias, number in ALIASES.get(wiki.lang, {}).items()}}
    own = {name.casefold() for name in wiki.namespaces.values()}
    # As MediaWiki, no alias of a namespace the wiki lacks (a dump may declare only some).
    return {alias: number for alias, number in names.items()
            if alias.casefold() not in own and number in wiki.namespaces}


def _aliases(call: ApiCall) -> list[dict[str, Any]]:
    return [{"id": number, content_key("alias"): alias} for alias, number in sorted(alias_table(call.wiki).items())]


def interwiki_map(wiki: WikiConfig) -> dict[str, str]:
    """Prefix -> URL (``$1`` the page): the map a pull took from the wiki's MediaWiki, else the built-in one."""
    if wiki.interwiki:
        return dict(wiki.interwiki)
    return {prefix: pattern.replace("{lang}", wiki.lang) for prefix, pattern in PROJECTS.items()}


def _interwiki(call: ApiCall) -> list[dict[str, Any]]:
    return [{"prefix": prefix, "url": url, "protorel": url.startswith("//")}
            for prefix, url in sorted(interwiki_map(call.wiki).items())]


def _statistics(call: ApiCall) -> dict[str, Any]:
    pages, revisions = 0, 0
    for wiki, page_count, rev_count in call.node.store.counts():
        if wiki == call.wiki.name:
            pages, revisions = page_count, rev_count
    return {"pages": pages, "articles": pages, "edits": revisions, "images": 0, "users": 0, "activeusers": 0,
            "admins": 0, "jobs": 0}


def _groups(call: ApiCall) -> list[dict[str, Any]]:
    return [{"name": "*", "rights": ["read", "createaccount"]},
            {"name": "user", "rights": ["read", "edit", "createpage", "writeapi"]},
            {"name": "bot", "rights": ["bot", "apihighlimits"]}]


def _restrictions(call: ApiCall) -> dict[str, Any]:
    return {"types": ["create", "edit", "move", "upload"], "levels": ["", "autoconfirmed", "sysop"],
            "cascadinglevels": ["sysop"], "semiprotectedlevels": ["autoconfirmed"]}


register(Module("siteinfo", "meta", "si", (
    Param("prop", multi=True, values=PROPS, default="general"),
    Param("filteriw", values=("local", "!local")),
    Param("showalldb", "boolean"),
    Param("numberingroup", "boolean"),
    Param("inlanguagecode"),
), run, help="The wiki's name, namespaces and rules, and which software answers."))
