"""Sources of the exception queue: each app registers what it considers stuck and needing a person.

The queue page lives in apps.ops, but the apps that own the rows say what an exception is, so a
lower app (inventory, orders) registers here without importing upward:

    exception_source_register(ExceptionSource(
        kind="hold", label="Held order", since="created_at",
        open=lambda: Hold.objects.filter(released_at__isnull=True),
        describe=hold_rows, fix="Map the SKU in Admin → SKU mappings, then retry.",
        retry=hold_retry,
    ))

`open()` is the queryset of open exceptions (a row each, ordered by nothing: the queue orders by
`since`, the field that says since when the row has been stuck). `describe(rows)` turns a page of
those rows into `ExceptionEntry`s in plain words. `retry(actor, ids, dry_run)` puts them back
through the pipeline (audited by the owning service) and, in a dry run, lists the external writes
that retry would make instead of making them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class ExternalWrite:
    """One request a retry will send to a peer, as it will be sent."""

    peer: str
    method: str
    url: str
    body: object = None
    note: str = ""


@dataclass(frozen=True)
class ExceptionEntry:
    """One exception as the queue shows it."""

    kind: str
    pk: int
    since: datetime
    error: str  # in plain words
    order_id: int | None = None
    order_name: str = ""
    url: str = ""  # where its own page is


@dataclass
class RetryOutcome:
    retried: int = 0
    writes: list[ExternalWrite] = field(default_factory=list)
    # Rows that cannot be retried as they are (a fix is needed first), with why.
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExceptionSource:
    kind: str
    label: str
    since: str
    open: Callable[[], QuerySet[Any]]
    describe: Callable[[Sequence[Model]], list[ExceptionEntry]]
    fix: str
    retry: Callable[..., RetryOutcome] | None = None
    # The related rows `describe` reads, fetched with the page (select_related).
    related: tuple[str, ...] = ()


_sources: dict[str, ExceptionSource] = {}


def exception_source_register(source: ExceptionSource) -> ExceptionSource:
    existing = _sources.get(source.kind)
    if existing is not None and existing.label != source.label:
        raise ImproperlyConfigured(f"Exception kind {source.kind!r} is already registered.")
    _sources[source.kind] = source
    return source


def exception_sources() -> list[ExceptionSource]:
    return [_sources[kind] for kind in sorted(_sources)]


def exception_source(kind: str) -> ExceptionSource | None:
    return _sources.get(kind)
