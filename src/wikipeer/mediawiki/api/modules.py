"""Every API module file, imported once so that each registers itself in the table (registry.py).

Adding a module: a file that calls ``register(Module(...))``, and one import line here.
"""

from wikipeer.mediawiki.api import lists, paraminfo, query, revisions, siteinfo  # noqa: F401
from wikipeer.mediawiki.api import edit, login, parse, templates, tokens, userinfo  # noqa: F401  (accounts, writes)
