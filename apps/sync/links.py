"""Links to the pages that show plumbing records, registered by the app that renders those pages.

The ops pages sit above sync and orders, so neither may import or reverse them: they ask
`link_for(name, ...)` and get the path the ops app registered with `@link_builder(name)` at start,
or "" when no app renders that page (a link is a convenience, never required).
"""

from collections.abc import Callable
from typing import Any

LinkBuilder = Callable[..., str]

OUTBOX_DEAD = "outbox.dead"  # peer=, action=: the outbox list filtered to that action's dead rows
OUTBOX_MESSAGE = "outbox.message"  # pk=: one outbox message
RECEIPT = "receipt"  # pk=: one webhook receipt

_builders: dict[str, LinkBuilder] = {}


def link_builder(name: str) -> Callable[[LinkBuilder], LinkBuilder]:
    """Register the function that builds the link `name` (the ops app registers its pages)."""

    def register(build: LinkBuilder) -> LinkBuilder:
        _builders[name] = build
        return build

    return register


def link_for(name: str, **about: Any) -> str:
    build = _builders.get(name)
    return build(**about) if build is not None else ""
