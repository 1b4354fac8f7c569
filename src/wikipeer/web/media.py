"""Files on the web: their bytes, thumbnails, the upload form, and what a File: page shows about them.

``/file/{wiki}/{name}`` serves a file's bytes with the media type its bytes
have; ``?v=`` (the first hex digits of a SHA-256) picks one version and makes
the response cacheable for good. SVG is served as ``image/svg+xml`` with a
sandboxing Content-Security-Policy and ``nosniff``: opened on its own it can
run nothing, and pages only ever show it through ``<img>``.
``/thumb/{wiki}/{width}/{name}`` is a scaled copy made on demand (see
media/thumbs.py). ``/upload`` takes a file from a logged-in account.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from wikipeer.errors import InvalidObject, UserError
from wikipeer.media.thumbs import NoThumbnail, ThumbCache
from wikipeer.model.media import NS_FILE
from wikipeer.model.sniff import SVG
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.policy.view import View
from wikipeer.store import hidden
from wikipeer.store.records import FileInfo
from wikipeer.uploading import upload
from wikipeer.web.bodylimit import MAX_WEB_FILE
from wikipeer.web.errors import HttpError
from wikipeer.web.forms import field
from wikipeer.urls import VERSION_DIGITS, file_url, page_url, thumb_url
from wikipeer.web.site import Site

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"


def find_file(site: Site, wiki: str, name: str, version: str | None) -> tuple[str, FileInfo]:
    """(the file's name, the version asked for: ``version`` as SHA-256 digits, else the newest); 404 if none."""
    config = site.node.wiki_or_default(wiki)
    try:
        title = normalize_title(config, name, NS_FILE)
    except BadTitle as exc:
        raise HttpError(400, str(exc), "Bad title") from None
    page = site.node.store.page(wiki, NS_FILE, title.text)
    versions = shown_versions(site, page.id) if page else []
    if version:
        versions = [v for v in versions if v.sha256.startswith(version.lower())]
    if not versions:
        raise HttpError(404, f"This node holds no file {title.full!r}" + (f" of version {version}" if version else "")
                        + ".", "No such file")
    return title.text, versions[0]


def shown_versions(site: Site, page_id: int) -> list[FileInfo]:
    """The page's file versions, newest first, without those hidden one by one (store/hidden.py)."""
    gone = hidden.hidden_items(site.node.store, page_id)
    return [v for v in site.node.store.file_versions(page_id) if v.id not in gone]


def _cache_headers(request: Request, etag: str, pinned: bool) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": IMMUTABLE if pinned else REVALIDATE}


def _not_modified(request: Request, etag: str) -> bool:
    return etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]


def original(site: Site, request: Request, wiki: str, name: str) -> Response:
    """A file's bytes, as they were uploaded."""
    version = request.query_params.get("v")
    name, info = find_file(site, wiki, name, version)
    etag = f'"{info.sha256}"'
    headers = _cache_headers(request, etag, bool(version))
    if info.mime == SVG:
        headers["Content-Security-Policy"] = SVG_CSP
    headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name.replace(' ', '_'))}"
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    store = site.node.store
    if len(info.chunks) == 1:
        return Response(b"".join(store.file_chunks(info)), media_type=info.mime, headers=headers)
    headers["Content-Length"] = str(info.size)
    return StreamingResponse(store.file_chunks(info), media_type=info.mime, headers=headers)


def thumbnail(site: Site, request: Request, thumbs: ThumbCache, wiki: str, width: str, name: str) -> Response:
    """A copy of an image ``width`` pixels wide (``220`` or ``220px``); the original when that is as large."""
    try:
        pixels = int(width.removesuffix("px"))
    except ValueError:
        raise HttpError(400, f"A thumbnail's width is a number of pixels, not {width!r}.", "Bad width") from None
    version = request.query_params.get("v")
    name, info = find_file(site, wiki, name, version)
    if info.mime == SVG or (info.width and pixels >= info.width):
        return RedirectResponse(file_url(wiki, name, info.sha256), status_code=302)
    etag = f'"{info.sha256}-{pixels}"'
    headers = _cache_headers(request, etag, bool(version))
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    try:
        thumb = thumbs.get(info.sha256, info.mime, pixels, lambda: site.node.store.file_chunks(info))
    except NoThumbnail as exc:
        raise HttpError(415 if "no thumbnails" in str(exc) else 400, str(exc), "No thumbnail") from None
    return FileResponse(thumb.path, media_type=thumb.mime, headers=headers)


def upload_form(site: Site, request: Request, message: str = "", status: int = 200) -> Response:
    visitor = site.visitor(request)
    if visitor.account is None:
        back = quote(f"{request.url.path}?{request.url.query}")
        return RedirectResponse(f"/login?returnto={back}", status_code=303)
    q = request.query_params
    wiki = q.get("wiki") or site.default_wiki or (site.node.store.wikis() or ["wiki"])[0]
    return site.page(request, "upload.html", status=status, wiki=wiki, visitor=visitor,
                     dest=q.get("wpDestFile", ""), message=message, max_bytes=MAX_WEB_FILE)


async def receive_upload(site: Site, request: Request) -> Response:
    """Store an uploaded file as a new signed version, then show its page."""
    form, visitor = await site.posted(request, account=True, max_files=1)  # 401 unless logged in
    part = form.get("file")
    if not isinstance(part, UploadFile) or not part.filename:
        raise HttpError(400, "Choose a file to upload.", "No file")
    data = await part.read()
    wiki = field(form, "wiki") or site.default_wiki or "wiki"
    name = field(form, "title").strip() or part.filename
    try:
        made = await run_in_threadpool(upload, site.node, wiki, name, data, field(form, "comment")[:500],
                                       visitor.account.key)
    except (UserError, InvalidObject) as exc:
        raise HttpError(415 if "types this node holds" in str(exc) else 400, str(exc), "Upload refused") from None
    return RedirectResponse(page_url(wiki, made.title) + "?notice=uploaded", status_code=303)


def file_section(site: Site, wiki: str, page_id: int, name: str, view: View) -> dict | None:
    """What a File: page shows above its description: the image and every version, newest first,
    each with its signers named as a reader with ``view`` knows them."""
    every = site.node.store.file_versions(page_id)
    gone = hidden.hidden_items(site.node.store, page_id)
    versions = [v for v in every if v.id not in gone]
    if not versions:
        return None
    current = versions[0]
    preview = file_url(wiki, name, current.sha256)
    width, height = current.width, current.height
    if current.mime != SVG and width and height and width > 800:
        preview = thumb_url(wiki, name, 800, current.sha256)
        width, height = 800, max(1, round(height * 800 / current.width))
    image = current.mime.startswith("image/")
    rows = [{"info": v, "url": file_url(wiki, name, v.sha256), "signers": [site.key_name(s.key, view) for s in v.sigs],
             "hidden": gone[v.id].reason if v.id in gone else None} for v in every]
    return {"current": current, "preview": preview if image else None, "width": width, "height": height,
            "url": file_url(wiki, name, current.sha256), "versions": rows, "digits": VERSION_DIGITS}
