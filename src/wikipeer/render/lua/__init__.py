"""Scribunto: ``{{#invoke:Module|function|...}}`` runs Lua modules in a sandbox.

``sandbox`` builds one Lua 5.1 runtime per page (lupa) with no way out to
files, the network or Python; ``engine`` ties it to the page's expander
(frames, templates, titles); the ``lib/*.lua`` files and the Python modules
beside them are Scribunto's libraries, written for this project.
"""
