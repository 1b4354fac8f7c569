"""Reading posted web forms: bounded parsing, and every field read as text.

The node's forms have no file inputs, so a file part is refused while the
form is parsed, before it is spooled anywhere; fields are read through
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


async def read_form(request: Request, max_part_size: int) -> FormData:
    """The posted form, each field at most ``max_part_size`` bytes as sent; 400 for a file part or too many fields."""
    try:
        return await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=max_part_size)
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
