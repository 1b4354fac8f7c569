"""Why a MediaWiki dump cannot be read on: the reader's and its byte layer's errors, in our words.

The XML parser's and the decompressors' own messages (libxml2's "Premature
end of data in tag text line 99581 ... (<string>, line 100001)", Python's
"Compressed file ended before the end-of-stream marker was reached") speak of
their insides; these say what is wrong with the file and where.
"""

from __future__ import annotations

from wikipeer.errors import WikipeerError


class DumpError(WikipeerError):
    """The dump cannot be read on from here."""

    exit_code = 2

    def __init__(self, message: str, offset: int, last_title: str | None = None, near: bool = False) -> None:
        # ``near``: the offset is how far the parser had read (it reads ahead), not where the fault is.
        super().__init__(f"{message} ({'near' if near else 'at'} byte offset {offset} of the XML)")
        self.offset = offset
        self.last_title = last_title


class TruncatedDump(DumpError):
    """The dump ends in the middle of a page: everything before it was read."""

    exit_code = 3

    def __init__(self, offset: int, last_title: str | None, detail: str = "") -> None:
        last = f"the last complete page is {last_title!r}" if last_title else "no page was complete"
        WikipeerError.__init__(self, f"the dump is cut off at byte offset {offset} of its XML"
                                     f"{f' ({detail})' if detail else ''}; {last}")
        self.offset = offset
        self.last_title = last_title


# libxml2's messages, by how they begin, as a person editing the file would put them.
_XML_PROBLEMS = (
    ("Opening and ending tag mismatch", "an end tag does not match the start tag it closes"),
    ("EndTag: '</' not found", "an end tag is not finished"),
    ("StartTag: invalid element name", "a '<' that begins no tag (text writes it as &lt;)"),
    ("xmlParseEntityRef: no name", "an '&' that begins no entity (text writes it as &amp;)"),
    ("EntityRef: expecting ';'", "an entity without its closing ';'"),
    ("Entity '", "an entity XML does not define"),
    ("Extra content at the end of the document", "something after the end of the <mediawiki> element"),
    ("Couldn't find end of Start Tag", "a start tag that is not finished"),
    ("Specification mandates value for attribute", "an attribute without a value"),
    ("AttValue:", "an attribute value without its quotes"),
    ("attributes construct error", "a malformed attribute"),
    ("Attribute ", "an attribute given twice"),
    ("PCDATA invalid Char value", "a character XML does not allow"),
    ("Char 0x", "a character XML does not allow"),
    ("invalid character in attribute value", "a character XML does not allow, in an attribute"),
    ("Premature end of data", "the file ends before its elements are closed"),
    ("Document is empty", "no XML at all"),
)


def xml_problem(message: str) -> str:
    """What an XML parser's message says is wrong, without its internal wording."""
    for start, meaning in _XML_PROBLEMS:
        if message.startswith(start):
            return meaning
    return "the XML is not well-formed"


def compressed_problem(exc: BaseException) -> str:
    """What a decompressor's error says, in our words: the data stops short, or it is damaged."""
    return "its compressed data ends early" if isinstance(exc, EOFError) else "its compressed data is damaged"
