"""Which files a page's wikitext shows: what a partial node fetches with the page.

A plain reading of the wikitext, not a rendering: ``[[File:...]]`` and
``[[Media:...]]`` links (in any of the wiki's names for those namespaces) and
the lines of ``<gallery>``. A link with a leading colon (``[[:File:X]]``) links
to the description page and shows no file. Files that templates add are not
seen; a reader's first view of the page shows them as links to upload, and a
fetch of the File: page brings them.
"""

from __future__ import annotations

import re

from wikipeer.model.media import NS_FILE
from wikipeer.model.title import BadTitle, WikiConfig, normalize_title

NS_MEDIA = -2
_LINK = re.compile(r"\[\[\s*([^\[\]|{}<>\n:][^\[\]|{}<>\n]*?)\s*(?:\||\]\])")
_GALLERY = re.compile(r"<gallery\b[^>]*>(.*?)</gallery\s*>", re.IGNORECASE | re.DOTALL)


def file_names(text: str, config: WikiConfig) -> list[str]:
    """The names (without namespace, normalised) of the files ``text`` shows, in first-seen order."""
    names: dict[str, None] = {}
    for match in _LINK.finditer(text):
        name = _file_name(config, match.group(1), None)
        if name:
            names[name] = None
    for gallery in _GALLERY.finditer(text):
        for line in gallery.group(1).splitlines():
            target = line.split("|", 1)[0].strip()
            name = _file_name(config, target, NS_FILE) if target else None
            if name:
                names[name] = None
    return list(names)


def _file_name(config: WikiConfig, target: str, default_ns: int | None) -> str | None:
    try:
        title = normalize_title(config, target)
        if title.ns == 0 and default_ns is not None:  # a gallery line may leave the namespace out
            title = normalize_title(config, target, default_ns)
    except BadTitle:
        return None
    return title.text if title.ns in (NS_FILE, NS_MEDIA) else None
