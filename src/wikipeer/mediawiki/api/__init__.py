"""MediaWiki's Action API on a node: one table of modules routes the requests and describes them (paraminfo).

``handle(call)`` answers one request; the module files register themselves
(see ``modules.py``, which imports them all).
"""

from wikipeer.mediawiki.api.call import ApiCall, ApiResponse
from wikipeer.mediawiki.api.main import handle
from wikipeer.mediawiki.api import modules  # noqa: F401,E402  (fills the table of modules)

__all__ = ["ApiCall", "ApiResponse", "handle"]
