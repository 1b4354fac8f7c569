"""Reading posted web forms: bounded parsing, and every field read as text.

Only the upload form has a file input: any other form refuses a file part
while it is parsed, before it is spooled anywhere; fields are read through
:func:`field`, which answers 400 naming the field for anything but a string
(a multipart edit whose ``text`` was a file part used to save
``UploadFile(filename=...)`` as the page).
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from wikipeer.web.errors import HttpError

MAX_FIELDS = 50  # the largest form (an edit) has a handful


async def read_form(request: Request, max_part_size: int, max_files: int = 0) -> FormData:
    """The posted form, each field at most ``max_part_size`` bytes as sent; 400 for more than ``max_files``
    file parts or too many fields. A file part's size is bounded by the route's body bound (web/bodylimit.py)."""
    try:
        return await request.form(max_files=max_files, max_fields=MAX_FIELDS, max_part_size=max_part_size)
    except StarletteHTTPException as exc:
        detail = str(exc.detail)
        if "files" in detail:
            detail = "it holds a file, and this node's forms take text fields only"
        raise HttpError(400, f"The form could not be read: {detail}", "Bad form") from None


def field(form: FormData, name: str, default: str = "") -> str:
    """The text of field ``name`` (``default`` if absent); 400 naming it when it is not text."""
    value = form.get(name, default)
    if not isinstance(value, str):
        raise HttpError(400, f"The form field {name!r} must be text, not a file.", "Bad form")
    return value
