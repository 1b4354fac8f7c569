"""Why a MediaWiki dump cannot be read on: the reader's and its byte layer's errors."""

from __future__ import annotations

from wikipeer.errors import WikipeerError


class DumpError(WikipeerError):
    """The dump cannot be read on from here."""

    exit_code = 2

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at byte offset {offset} of the XML)")
        self.offset = offset


class TruncatedDump(DumpError):
    """The dump ends in the middle of a page: everything before it was read."""

    exit_code = 3

    def __init__(self, offset: int, last_title: str | None, detail: str) -> None:
        last = f"the last complete page is {last_title!r}" if last_title else "no page was complete"
        WikipeerError.__init__(self, f"the dump is cut off at byte offset {offset} ({detail}); {last}")
        self.offset = offset
        self.last_title = last_title
