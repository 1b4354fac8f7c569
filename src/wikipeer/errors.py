"""Exception classes shared by every layer.

Each carries a message a person can act on; the command line prints it as one
line and exits with the code the class names.
"""


class WikipeerError(Exception):
    """Base of every error wikipeer raises on purpose."""

    exit_code = 1


class UserError(WikipeerError):
    """The user asked for something that cannot be done as asked."""

    exit_code = 2


class ServiceGone(WikipeerError):
    """A service the node's store lives on (its PostgreSQL server, its bucket) cannot be reached just now:
    nothing is wrong with what was asked, and the same request may well work once it is back."""

    exit_code = 2


class InvalidObject(WikipeerError):
    """A block or object failed decoding, its CID check or its schema."""

    exit_code = 2


class Forgery(InvalidObject):
    """Proof that whoever made or passed on an object lied: bytes that do not
    hash to their CID, or a signature that does not verify. An honest node
    checks both before passing anything on, so a peer that sends a forgery
    can be banned for it."""


class NotFound(UserError):
    """A page, revision, key or block that was named is not here."""
