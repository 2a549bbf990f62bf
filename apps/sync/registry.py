"""Who handles what: receipt handlers per source and outbox actions per (peer, action).

Domain apps register at import time (import their sync module from `AppConfig.ready()`), so every
process — web, django-q2 worker, `sync_run` — knows the same handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from apps.sync.models import OutboxMessage, WebhookReceipt
    from apps.sync.outbox import OutboxOutcome
    from integrations.http import PeerError

RECEIPTS_PUMP = "receipts"


@dataclass(frozen=True)
class ActionRegistration:
    peer: str
    action: str
    send: Callable[[list[OutboxMessage]], list[OutboxOutcome]]
    batch_size: int = 1
    # Both run inside the pump's settling transaction, so the domain row and the message commit together.
    on_done: Callable[[OutboxMessage, dict[str, Any]], None] | None = None
    on_dead: Callable[[OutboxMessage, PeerError], None] | None = None
    # First in, first out: while the oldest unsettled message waits for its retry, none behind it
    # is sent (alert cards must arrive in the order they were raised).
    ordered: bool = False
    # Attempts before a message dies; None: SYNC["MAX_ATTEMPTS"].
    max_attempts: int | None = None


_actions: dict[tuple[str, str], ActionRegistration] = {}
_receipt_handlers: dict[str, Callable[[WebhookReceipt], bool]] = {}


def _same_function(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    # A module imported twice (autoreload, tests) re-registers the same function: not a conflict.
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def action_register(registration: ActionRegistration) -> None:
    if registration.peer == RECEIPTS_PUMP:
        raise ImproperlyConfigured(f"'{RECEIPTS_PUMP}' is the receipts pump, not a peer name.")
    if registration.batch_size < 1:
        raise ImproperlyConfigured("batch_size must be at least 1.")
    key = (registration.peer, registration.action)
    existing = _actions.get(key)
    if existing is not None and not _same_function(existing.send, registration.send):
        raise ImproperlyConfigured(f"Outbox action {key} is already registered to {existing.send}.")
    _actions[key] = registration


def action_get(peer: str, action: str) -> ActionRegistration | None:
    return _actions.get((peer, action))


def actions_for_peer(peer: str) -> list[str]:
    return sorted(action for p, action in _actions if p == peer)


def peers_with_actions() -> list[str]:
    return sorted({peer for peer, _ in _actions})


def receipt_handler_register(source: str, handler: Callable[[WebhookReceipt], bool]) -> None:
    existing = _receipt_handlers.get(source)
    if existing is not None and not _same_function(existing, handler):
        raise ImproperlyConfigured(f"Receipts from '{source}' are already handled by {existing}.")
    _receipt_handlers[source] = handler


def receipt_handler_get(source: str) -> Callable[[WebhookReceipt], bool] | None:
    return _receipt_handlers.get(source)


def receipt_sources() -> list[str]:
    return sorted(_receipt_handlers)


Snapshot = tuple[
    dict[tuple[str, str], ActionRegistration], dict[str, Callable[["WebhookReceipt"], bool]]
]


def registry_snapshot() -> Snapshot:
    """For tests: a copy to hand back to `registry_restore` after registering throwaway handlers."""
    return dict(_actions), dict(_receipt_handlers)


def registry_restore(snapshot: Snapshot) -> None:
    actions, handlers = snapshot
    _actions.clear()
    _actions.update(actions)
    _receipt_handlers.clear()
    _receipt_handlers.update(handlers)
