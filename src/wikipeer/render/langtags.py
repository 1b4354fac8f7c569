"""Language codes as ``{{#bcp47:}}`` and ``{{#dir:}}`` give them (MediaWiki's LanguageCode).

MediaWiki's own codes that are not BCP 47 are mapped first (its
LanguageCode::getDeprecatedCodeMapping and getNonstandardLanguageCodeMapping,
the common entries); then subtags are cased as BCP 47 writes them.
"""

from __future__ import annotations

from wikipeer.render import language_data

_NONSTANDARD = {
    "als": "gsw", "bat-smg": "sgs", "be-x-old": "be-tarask", "cbk-zam": "cbk", "de-formal": "de-x-formal",
    "eml": "egl", "en-rtl": "en-x-rtl", "es-formal": "es-x-formal", "fiu-vro": "vro", "hu-formal": "hu-x-formal",
    "kk-cn": "kk-Arab-CN", "kk-kz": "kk-Cyrl-KZ", "kk-tr": "kk-Latn-TR", "map-bms": "jv-x-bms",
    "mo": "ro-Cyrl-MD", "nl-informal": "nl-x-informal", "nrm": "nrf", "roa-rup": "rup", "roa-tara": "nap-x-tara",
    "simple": "en-simple", "sr-ec": "sr-Cyrl", "sr-el": "sr-Latn", "zh-classical": "lzh", "zh-min-nan": "nan",
    "zh-yue": "yue", "ku-arab": "ku-Arab", "tg-cyrl": "tg-Cyrl", "tg-latn": "tg-Latn",
    "ike-cans": "ike-Cans", "ike-latn": "ike-Latn", "crh-cyrl": "crh-Cyrl", "crh-latn": "crh-Latn",
}
RTL = frozenset({
    "ar", "arc", "arz", "azb", "bcc", "bgn", "bqi", "ckb", "dv", "fa", "glk", "he", "khw", "kk-arab", "kk-cn",
    "ks", "ks-arab", "ku-arab", "lki", "lrc", "luz", "mzn", "nqo", "pnb", "ps", "sd", "sdh", "skr", "skr-arab",
    "ug", "ug-arab", "ur", "yi", "ydd", "he-x", "ary", "ajp", "apc", "aeb", "aeb-arab", "syc", "prd", "mai-arab",
})


def bcp47(code: str) -> str:
    """A MediaWiki language code as its BCP 47 tag (``sr-ec`` -> ``sr-Cyrl``, ``en-gb`` -> ``en-GB``)."""
    code = code.strip().lower()
    code = _NONSTANDARD.get(code, code)
    pieces = code.split("-")
    out = [pieces[0].lower()]
    private = pieces[0].lower() == "x"
    for piece in pieces[1:]:
        if private or piece.lower() == "x":
            private = True
            out.append(piece.lower())
        elif len(piece) == 2:
            out.append(piece.upper())
        elif len(piece) == 4 and piece.isalpha():
            out.append(piece.title())
        else:
            out.append(piece.lower())
    return "-".join(out)


def direction(code: str) -> str:
    """``rtl`` for a language written right to left, else ``ltr`` (MediaWiki's data; the list above without it)."""
    code = code.strip().lower()
    data = language_data.current()
    if data.available and code and data.raw(code):
        return data.language(code).direction
    return "rtl" if code in RTL or code.split("-")[0] in RTL else "ltr"
