"""What a ZIM file says about itself: openZIM's mandatory metadata, the 48x48 illustration, and our own
``X-Wikipeer-Log`` record of what the file was made from (so ``--since`` can refresh it).

See https://wiki.openzim.org/wiki/Metadata: Title at most 30 characters, Description at most 80,
Language in ISO 639-3, Date as YYYY-MM-DD, Illustration_48x48@1 a 48x48 PNG.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from wikipeer import __version__
from wikipeer.model.title import WikiConfig

LOG_KEY = "X-Wikipeer-Log"
PAGES_KEY = "X-Wikipeer-Pages"
LOG_FORMAT = 1

# ISO 639-1 (what a wiki's lang says) -> ISO 639-3 (what Kiwix reads); a 3-letter code is kept as it is.
_ISO639_3 = {
    "af": "afr", "ar": "ara", "az": "aze", "be": "bel", "bg": "bul", "bn": "ben", "br": "bre", "bs": "bos",
    "ca": "cat", "cs": "ces", "cy": "cym", "da": "dan", "de": "deu", "el": "ell", "en": "eng", "eo": "epo",
    "es": "spa", "et": "est", "eu": "eus", "fa": "fas", "fi": "fin", "fr": "fra", "ga": "gle", "gl": "glg",
    "gu": "guj", "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "hy": "hye", "id": "ind", "is": "isl",
    "it": "ita", "ja": "jpn", "ka": "kat", "kk": "kaz", "km": "khm", "kn": "kan", "ko": "kor", "la": "lat",
    "lt": "lit", "lv": "lav", "mk": "mkd", "ml": "mal", "mn": "mon", "mr": "mar", "ms": "msa", "my": "mya",
    "ne": "nep", "nl": "nld", "nn": "nno", "no": "nor", "pa": "pan", "pl": "pol", "pt": "por", "ro": "ron",
    "ru": "rus", "si": "sin", "sk": "slk", "sl": "slv", "sq": "sqi", "sr": "srp", "sv": "swe", "sw": "swa",
    "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl", "tr": "tur", "uk": "ukr", "ur": "urd", "uz": "uzb",
    "vi": "vie", "yo": "yor", "zh": "zho", "zu": "zul",
}


def iso639_3(lang: str) -> str:
    """The ZIM Language of a wiki language code (``en`` -> ``eng``, ``zh-hans`` -> ``zho``); ``mul`` when unknown."""
    base = lang.lower().split("-")[0]
    if base in _ISO639_3:
        return _ISO639_3[base]
    return base if len(base) == 3 and base.isalpha() else "mul"


def illustration() -> bytes:
    """Our 48x48 PNG: a white W on the blue of the web page's links."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (48, 48), (51, 102, 204))
    draw = ImageDraw.Draw(image)
    draw.line([(8, 12), (16, 38), (24, 18), (32, 38), (40, 12)], fill=(255, 255, 255), width=5, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class MadeFrom:
    """What a ZIM was made from: the wiki, the view and what it trusts, the store's log position, the
    count of hide/unhide changes, the namespaces, and the wikipeer that rendered it."""

    wiki: str
    view: str
    trusted: str  # SHA-256 of the view's trusted keys, sorted: a trust change renders the forked pages again
    seq: int
    hidden: int
    namespaces: tuple[int, ...]
    renderer: str = __version__
    format: int = LOG_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "MadeFrom":
        data = json.loads(text)
        data["namespaces"] = tuple(data["namespaces"])
        return cls(**data)


def trusted_digest(trusted: frozenset[str]) -> str:
    return hashlib.sha256("\n".join(sorted(trusted)).encode()).hexdigest()


def metadata(config: WikiConfig, made: MadeFrom, now: datetime | None = None) -> dict[str, str]:
    """openZIM's metadata for a ZIM of this wiki (besides the illustration and our log entries)."""
    when = now or datetime.now(timezone.utc)
    site = config.sitename or config.name
    return {
        "Name": f"wikipeer_{iso639_3(config.lang)}_{config.name}",
        "Title": site[:30],
        "Creator": f"{site} contributors"[:80],
        "Publisher": "wikipeer",
        "Date": when.strftime("%Y-%m-%d"),
        "Description": f"The wiki {config.name} as a wikipeer node shows it"[:80],
        "Language": iso639_3(config.lang),
        "Source": config.base or f"wikipeer:{config.name}",
        "Scraper": f"wikipeer {__version__}",
        "Flavour": "maxi",
        LOG_KEY: made.to_json(),
    }
