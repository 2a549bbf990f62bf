"""Every django-q2 schedule, declared in code and synced into the database by `schedules_sync`.

A schedule belongs to us when its name starts with the label of one of our apps and a dot
(`sync.pump.shipbob`); `schedules_sync` creates, updates and deletes only those, by name, so a
schedule an operator adds in the admin under another name is left alone.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

# django-q2's Schedule.schedule_type codes, repeated here so declarations need no model import.
MINUTES = "I"
HOURLY = "H"
DAILY = "D"
CRON = "C"


@dataclass(frozen=True)
class ScheduleDeclaration:
    name: str
    func: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    schedule_type: str = MINUTES
    minutes: int | None = 1
    cron: str | None = None

    def row_values(self) -> dict:
        """The Schedule columns this declaration owns (django-q2 literal_evals `args`)."""
        return {
            "func": self.func,
            "args": repr(tuple(self.args)) if self.args else None,
            "kwargs": repr(dict(self.kwargs)) if self.kwargs else None,
            "schedule_type": self.schedule_type,
            "minutes": self.minutes if self.schedule_type == MINUTES else None,
            "cron": self.cron if self.schedule_type == CRON else None,
            "repeats": -1,
        }


# Schedules that are not pumps: reconciliation polls, checks, digests. Intervals come from settings.
STATIC_SCHEDULES: list[ScheduleDeclaration] = [
    ScheduleDeclaration(
        name="orders.shopify_poll",
        func="apps.orders.reconcile.orders_poll_task",
        minutes=settings.SCHEDULE_MINUTES["SHOPIFY_POLL"],
    ),
    ScheduleDeclaration(
        name="orders.shipbob_shipments_poll",
        func="apps.orders.warehouse.shipments_poll_task",
        minutes=settings.SCHEDULE_MINUTES["SHIPBOB_SHIPMENTS_POLL"],
    ),
    ScheduleDeclaration(
        name="invoicing.xero_reconcile",
        func="apps.invoicing.posting.invoices_reconcile_task",
        minutes=settings.SCHEDULE_MINUTES["XERO_RECONCILE"],
    ),
    # Escalation of unacknowledged alerts and the digest after quiet hours.
    ScheduleDeclaration(name="ops.alerts_tick", func="apps.ops.alerting.alerts_tick", minutes=1),
    # One card a day proves alerts still reach Teams.
    ScheduleDeclaration(
        name="ops.teams_heartbeat",
        func="apps.ops.alerting.teams_heartbeat",
        schedule_type=DAILY,
        minutes=None,
    ),
    ScheduleDeclaration(
        name="invoicing.scan",
        func="apps.invoicing.credits.invoicing_scan",
        minutes=1,
    ),
    ScheduleDeclaration(
        name="inventory.tick",
        func="apps.inventory.sync.inventory_tick",
    ),
    ScheduleDeclaration(
        name="inventory.drift_report",
        func="apps.inventory.drift.drift_report_nightly_task",
        schedule_type=DAILY,
        minutes=None,
    ),
    ScheduleDeclaration(
        name="orders.shopify_subscriptions",
        func="apps.orders.reconcile.webhook_subscriptions_check_task",
        minutes=settings.SCHEDULE_MINUTES["SHOPIFY_SUBSCRIPTIONS"],
    ),
    # The dashboard's "task cluster alive" and per-minute budget figures come from this beat.
    ScheduleDeclaration(name="ops.heartbeat", func="apps.ops.tasks.heartbeat_beat", minutes=1),
]
# The demo's storefront: simulated shoppers placing orders, only when the sandbox simulator is on.
SIMULATOR_SCHEDULES: list[ScheduleDeclaration] = [
    ScheduleDeclaration(
        name="sandbox.storefront_tick",
        func="apps.sandbox.shopify.simulator.storefront_tick",
        minutes=1,
    ),
    ScheduleDeclaration(
        name="sandbox.returns_tick",
        func="apps.sandbox.shopify.simulator.returns_tick",
        minutes=1,
    ),
    ScheduleDeclaration(
        name="sandbox.helpdesk_tick",
        func="apps.sandbox.helpdesk.helpdesk_tick",
        minutes=1,
    ),
    ScheduleDeclaration(
        name="sandbox.shipbob_tick",
        func="apps.sandbox.shipbob.simulator.shipping_tick_task",
        minutes=1,
    ),
]


def schedules_declared() -> list[ScheduleDeclaration]:
    """The static schedules plus one `sync.pump.<name>` every minute per pump the sync app knows."""
    from apps.sync.pumps import pump_names
    from apps.sync.tasks import PUMP_TASK

    pumps = [
        ScheduleDeclaration(name=f"sync.pump.{name}", func=PUMP_TASK, args=(name,))
        for name in pump_names()
    ]
    simulator = SIMULATOR_SCHEDULES if settings.O2C_SANDBOX and settings.O2C_SIMULATOR else []
    return [*STATIC_SCHEDULES, *simulator, *pumps]


def owned_prefixes() -> tuple[str, ...]:
    """Name prefixes of the schedules we own: one per local app (`sync.`, `orders.`, `o2c_portal.`)."""
    labels = [
        config.label
        for config in apps.get_app_configs()
        if config.name.startswith("apps.") or config.name == "o2c_portal"
    ]
    return tuple(f"{label}." for label in sorted(labels))


@dataclass(frozen=True)
class ScheduleChange:
    name: str
    change: Literal["created", "updated", "deleted", "unchanged"]
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.change:9} {self.name}{detail}"


class ScheduleDeclarationError(ValueError):
    pass


def _declarations_validate(declarations: Sequence[ScheduleDeclaration]) -> None:
    prefixes = owned_prefixes()
    seen: set[str] = set()
    for declaration in declarations:
        if declaration.name in seen:
            raise ScheduleDeclarationError(f"schedule {declaration.name!r} is declared twice")
        seen.add(declaration.name)
        if not declaration.name.startswith(prefixes):
            raise ScheduleDeclarationError(
                f"schedule {declaration.name!r} must start with an app label: {', '.join(prefixes)}"
            )
        if declaration.schedule_type == MINUTES and not (declaration.minutes or 0) >= 1:
            raise ScheduleDeclarationError(f"schedule {declaration.name!r} needs minutes >= 1")
        if declaration.schedule_type == CRON and not declaration.cron:
            raise ScheduleDeclarationError(f"schedule {declaration.name!r} needs a cron expression")
        # A typo in a func path would otherwise only show as failed tasks, once a minute, forever.
        try:
            import_string(declaration.func)
        except ImportError as error:
            raise ScheduleDeclarationError(
                f"schedule {declaration.name!r}: cannot import {declaration.func}: {error}"
            ) from error


def schedules_sync(
    *, declarations: Sequence[ScheduleDeclaration] | None = None
) -> list[ScheduleChange]:
    """Make the owned Schedule rows match the declarations, by name; return what changed."""
    from django_q.models import Schedule

    declarations = schedules_declared() if declarations is None else list(declarations)
    _declarations_validate(declarations)
    prefixes = owned_prefixes()
    changes: list[ScheduleChange] = []
    with transaction.atomic():
        existing: dict[str, list] = {}
        for row in Schedule.objects.select_for_update().order_by("id"):
            if row.name and row.name.startswith(prefixes):
                existing.setdefault(row.name, []).append(row)
        for declaration in declarations:
            rows = existing.pop(declaration.name, [])
            wanted = declaration.row_values()
            if not rows:
                Schedule.objects.create(name=declaration.name, next_run=timezone.now(), **wanted)
                changes.append(ScheduleChange(declaration.name, "created"))
                continue
            row, duplicates = rows[0], rows[1:]
            # Two rows of one name would enqueue the task twice per period.
            for duplicate in duplicates:
                duplicate.delete()
            changed = tuple(key for key, value in wanted.items() if getattr(row, key) != value)
            if changed:
                for key in changed:
                    setattr(row, key, wanted[key])
                if {"schedule_type", "minutes", "cron"} & set(changed):
                    row.next_run = (
                        timezone.now()
                    )  # the new cadence starts now, not after the old one
                row.save()
            if changed or duplicates:
                fields = changed + (("duplicates",) if duplicates else ())
                changes.append(ScheduleChange(declaration.name, "updated", fields))
            else:
                changes.append(ScheduleChange(declaration.name, "unchanged"))
        for name, rows in sorted(existing.items()):
            for row in rows:
                row.delete()
            changes.append(ScheduleChange(name, "deleted"))
    return changes


@register(Tags.compatibility)
def check_q_cluster(app_configs=None, **kwargs) -> list[Error]:
    """django-q2 re-delivers a task still running after `retry` seconds: retry must exceed timeout."""
    cluster = settings.Q_CLUSTER
    timeout, retry = cluster.get("timeout"), cluster.get("retry")
    errors = []
    if timeout is None or retry is None or retry <= timeout:
        errors.append(
            Error(
                f"Q_CLUSTER retry ({retry}) must be greater than timeout ({timeout}).",
                hint="Set Q_RETRY above Q_TIMEOUT, or a running task is handed to a second worker.",
                id="o2c.E010",
            )
        )
    pump_seconds = getattr(settings, "SYNC", {}).get("PUMP_RUN_SECONDS")
    if timeout is not None and pump_seconds is not None and pump_seconds >= timeout:
        errors.append(
            Error(
                f"SYNC_PUMP_RUN_SECONDS ({pump_seconds}) must be below Q_CLUSTER timeout ({timeout}).",
                hint="A pump that outlives the task timeout is killed mid-batch every run.",
                id="o2c.E011",
            )
        )
    return errors
