"""What a rendering needs from outside and what it gives back.

The renderer is pure: it reads the store only through the callables a
``RenderContext`` carries, so it can be tested, benchmarked and cached without
a node behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from wikipeer.model.title import WikiConfig
from wikipeer.render.subpages import DEFAULT_SUBPAGE_NAMESPACES


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep hostile page text from hanging the node."""

    max_depth: int = 40  # nested template / parser-function expansions
    max_expansion: int = 2_000_000  # characters produced by expansion, in all
    max_calls: int = 50_000  # template and parser-function calls: bounds the work when outputs are empty
    lua_seconds: float = 10.0  # CPU time all of a page's #invoke calls may take (Wikipedia's limit)
    lua_call_seconds: float = 5.0  # CPU time one #invoke may take, so one module cannot use the page's all
    lua_memory: int = 50 * 1024 * 1024  # bytes a page's Lua runtime may allocate (Wikipedia's limit)


@dataclass(frozen=True, slots=True)
class FileMeta:
    """A file the node holds, as a page shows it: size in pixels, type, where its bytes are served.

    ``thumb`` is the URL of a scaled copy with ``{width}`` in place of the width in pixels.
    ``raster_thumbs``: a drawing (SVG) is shown through raster copies at ``thumb`` rather
    than as itself (MediaWiki's way; this node serves SVG as it is and lets the browser scale it).
    ``densities``: the screen densities ``srcset`` offers copies for (MediaWiki 1.39 offers 1.5x and 2x,
    later versions only 2x).
    ``name``: the file's own name when the name asked for is a redirect to it ("" otherwise); its
    image then links to the file's page, as MediaWiki's does.
    ``bad``: the file is on the wiki's bad image list (MediaWiki's ``MediaWiki:Bad image list``):
    pages show a link to its page in its place, never the image. A node keeps no such list yet.
    """

    width: int | None
    height: int | None
    mime: str
    url: str
    thumb: str
    raster_thumbs: bool = False
    densities: tuple[float, ...] = (1.5, 2)
    name: str = ""
    bad: bool = False


def _no_file(name: str) -> FileMeta | None:
    return None


def _upload_url(name: str) -> str:
    return "/upload?wpDestFile=" + quote(name.replace(" ", "_"))


@dataclass(frozen=True, slots=True)
class Revision:
    """The revision being rendered.

    The source of ``REVISION*`` and also of ``CURRENT*``/``LOCAL*``: a rendering
    is cached per revision, so "now" is the revision's time, never the clock's.
    """

    id: str = ""  # what ?oldid= takes: the revision's CID on a node
    timestamp: int = 0  # seconds since 1970, UTC
    user: str = ""
    size: int = 0  # bytes of wikitext


@dataclass(slots=True)
class RenderContext:
    """How the renderer sees the wiki around the page.

    - ``title``: the page's full title (``Talk:Foo``), for magic words and anchors.
    - ``href(full_title)``: the URL of a page of this wiki.
    - ``exists(full_titles)``: which of these pages the node holds (red links).
    - ``template(full_title)``: a template's wikitext, or None when absent.
    - ``file(name)``: the file ``File:name`` as a FileMeta, or None when the node lacks it.
    - ``upload_url(name)``: where a missing file's red link leads.
    - ``thumb_width``: the width of a thumbnail that names none (MediaWiki's default, 220).
    - ``revision``: the revision rendered (REVISION*, CURRENT*, LOCAL*).
    - ``server``: the node's URL as readers reach it (``{{SERVER}}``), "" when unknown.
    - ``subpage_namespaces``: where ``[[/Child]]`` and ``[[../]]`` are subpage links.
    - ``allow_toc``: False leaves every TOC out (MediaWiki's output option ``allowTOC``, for a
      reader that shows the sections elsewhere).
    - ``max_toc_level``: TOC levels from this one on are left out (MediaWiki's ``$wgMaxTocLevel``).
    - ``extension_tags``: extension tags beyond the built-in ones, name (lower case) -> function
      of the tag's body (None when self-closed) and attributes giving the HTML that replaces it
      (set aside, as a block); MediaWiki's ``Parser::setHook``, used by its parser tests' hooks.
    - ``fragment_mode``: how section anchors are written, MediaWiki's ``$wgFragmentMode``:
      ``"html5"`` (Wikipedia's today: ``a=b`` stays ``a=b``) or ``"legacy"`` (``a.3Db``,
      what MediaWiki's parser tests expect).
    """

    config: WikiConfig
    title: str
    href: Callable[[str], str]
    exists: Callable[[Iterable[str]], set[str]]
    template: Callable[[str], str | None]
    limits: Limits = field(default_factory=Limits)
    file: Callable[[str], FileMeta | None] = _no_file
    upload_url: Callable[[str], str] = _upload_url
    thumb_width: int = 220
    revision: Revision = field(default_factory=Revision)
    server: str = ""
    subpage_namespaces: frozenset[int] = DEFAULT_SUBPAGE_NAMESPACES
    fragment_mode: str = "html5"
    max_toc_level: int = 999
    allow_toc: bool = True
    extension_tags: Mapping[str, Callable[[str | None, dict[str, str]], str]] = field(default_factory=dict)


@dataclass(slots=True)
class Rendered:
    """A rendered page: sanitised HTML plus what the page around it shows.

    ``templates`` lists every template title consulted, present or absent,
    so a cache knows what invalidates it.
    """

    html: str
    categories: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    redirect: str | None = None
    errors: list[str] = field(default_factory=list)
    language_links: list[str] = field(default_factory=list)  # "fr:Paris", shown by the page around, not inline
