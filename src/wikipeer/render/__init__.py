"""Wikitext to safe HTML (pure: the wiki around the page comes in a RenderContext)."""

from wikipeer.render.context import Limits, RenderContext, Rendered

__all__ = ["Limits", "RenderContext", "Rendered"]
