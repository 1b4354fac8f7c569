"""What one rendering accumulates as it goes (one per ``render`` call)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wikipeer.render.context import RenderContext
from wikipeer.render.names import PageName, page_name
from wikipeer.render.strip import StripState


@dataclass(slots=True)
class LinkTarget:
    """An internal link waiting to learn whether its page exists."""

    title: str
    placeholder: str


@dataclass(slots=True)
class RenderState:
    """Shared by the passes: strip markers, link targets, what the page declares."""

    ctx: RenderContext
    strip: StripState = field(default_factory=StripState)
    links: list[LinkTarget] = field(default_factory=list)
    categories: dict[str, None] = field(default_factory=dict)
    language_links: dict[str, None] = field(default_factory=dict)
    templates: dict[str, None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    switches: set[str] = field(default_factory=set)  # __NOTOC__ and friends, upper-cased
    names: dict[tuple[str, int], PageName | None] = field(default_factory=dict)

    def page_name(self, raw: str, default_ns: int = 0) -> PageName | None:
        """``names.page_name`` for this wiki, remembered: pages repeat the same links."""
        key = (raw, default_ns)
        if key not in self.names:
            self.names[key] = page_name(self.ctx.config, raw, default_ns)
        return self.names[key]

    def error(self, message: str) -> None:
        """Record ``message`` once."""
        if message not in self.errors:
            self.errors.append(message)
