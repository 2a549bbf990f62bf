"""Alerts: something a person must look at, raised by any app through `alert_raise`.

Every kind is declared once with `alert_kind_register` (its severity, how it resolves, whether its
occurrences group into one alert); docs/runbook.md has an entry per kind, and a test fails if a kind
the code raises has none. A repeat of an unresolved dedupe key bumps the count and last-seen time
instead of adding a row (the partial unique constraint makes that race-safe). The code that raises a
kind resolves it when the cause is gone with `alert_clear`. Delivery elsewhere (Teams cards, in
apps.ops) plugs in through `alert_on_raised` / `alert_on_resolved`: hooks run after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.sync.models import Alert

logger = logging.getLogger(__name__)

SEVERITY_RANK: dict[str, int] = {
    Alert.Severity.INFO: 0,
    Alert.Severity.WARNING: 1,
    Alert.Severity.CRITICAL: 2,
}
MAX_SUBJECTS = 200
MAX_ERRORS = 10
SUBJECTS_IN_MESSAGE = 20


@dataclass(frozen=True)
class AlertKind:
    """What a kind of alert is: declared once, next to the code that raises it."""

    name: str
    title: str
    severity: str
    # How it goes away, in words (shown on the alert and its card).
    resolves: str
    # True when the raising code calls `alert_clear` once the cause is gone.
    auto_resolves: bool = False
    # Occurrences group into one alert per dedupe key, each naming a `subject`;
    # the message reads e.g. "{count} SKUs unmapped".
    group_label: str = ""
    # False: kept in the portal and mailed, never posted to Teams (Teams' own failures).
    teams: bool = True


ALERT_KINDS: dict[str, AlertKind] = {}


def alert_kind_register(
    name: str,
    *,
    title: str,
    severity: str,
    resolves: str,
    auto_resolves: bool = False,
    group_label: str = "",
    teams: bool = True,
) -> AlertKind:
    """Declare an alert kind (at import time of the module that raises it); returns its name's spec."""
    if severity not in SEVERITY_RANK:
        raise ValueError(f"Unknown alert severity {severity!r}")
    kind = AlertKind(
        name=name,
        title=title,
        severity=severity,
        resolves=resolves,
        auto_resolves=auto_resolves,
        group_label=group_label,
        teams=teams,
    )
    ALERT_KINDS[name] = kind
    return kind


def alert_kind_get(name: str) -> AlertKind | None:
    return ALERT_KINDS.get(name)


OUTBOX_DEAD = alert_kind_register(
    "outbox.dead",
    title="A dead outbox message",
    severity=Alert.Severity.WARNING,
    resolves="by itself once no message of that peer and action is dead (replayed and done)",
    auto_resolves=True,
)
RECEIPT_FAILED = alert_kind_register(
    "receipt.failed",
    title="A failed webhook receipt",
    severity=Alert.Severity.WARNING,
    resolves="by itself once no receipt of that source and topic is failed (replayed and applied)",
    auto_resolves=True,
)
WEBHOOK_BAD_SIGNATURE = alert_kind_register(
    "webhook.bad_signature",
    title="Webhooks refused for a bad signature",
    severity=Alert.Severity.WARNING,
    resolves="by a person, once the secrets match again",
)

# Called as hook(alert, created) after commit; the Teams notifier registers here.
ALERT_RAISED_HOOKS: list[Callable[[Alert, bool], None]] = []
# Called as hook(alert) after the commit that resolved it (by a person or by `alert_clear`).
ALERT_RESOLVED_HOOKS: list[Callable[[Alert], None]] = []


def alert_on_raised(hook: Callable[[Alert, bool], None]) -> Callable[[Alert, bool], None]:
    """Register a hook to run after an alert is raised or bumped (after commit). Usable as decorator."""
    if hook not in ALERT_RAISED_HOOKS:
        ALERT_RAISED_HOOKS.append(hook)
    return hook


def alert_on_resolved(hook: Callable[[Alert], None]) -> Callable[[Alert], None]:
    """Register a hook to run after an alert is resolved (after commit). Usable as decorator."""
    if hook not in ALERT_RESOLVED_HOOKS:
        ALERT_RESOLVED_HOOKS.append(hook)
    return hook


def _alert_hooks_run(alert_id: int, hooks: list[Callable[..., None]], *args: object) -> None:
    if not hooks:
        return
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return
    for hook in list(hooks):
        try:
            hook(alert, *args)
        except Exception:
            # A notifier failing must never undo or block the alert itself.
            logger.exception("alert hook %r failed for alert %s", hook, alert_id)


def _alert_notify(alert_id: int, created: bool) -> None:
    _alert_hooks_run(alert_id, ALERT_RAISED_HOOKS, created)


def _grouped_message(kind: AlertKind, subjects: list[str]) -> str:
    shown = ", ".join(subjects[:SUBJECTS_IN_MESSAGE])
    more = (
        f" and {len(subjects) - SUBJECTS_IN_MESSAGE} more"
        if len(subjects) > SUBJECTS_IN_MESSAGE
        else ""
    )
    return f"{kind.group_label.format(count=len(subjects))}: {shown}{more}"


def _error_entry(message: str, *, at: datetime, after_ack: bool) -> dict[str, Any]:
    return {"message": message[:2000], "at": at.isoformat(), "after_ack": after_ack}


def alert_raise(
    *,
    kind: str,
    dedupe_key: str,
    message: str,
    severity: str | None = None,
    link: str = "",
    subject: str = "",
) -> Alert:
    """Open an alert, or bump the unresolved one with the same dedupe key (count, last seen, message).

    `severity` defaults to the kind's. For a grouped kind, `subject` (a SKU, say) joins the alert's
    list and the message becomes the group's ("3 SKUs unmapped: A, B, C"). A message that differs
    from the last one is kept beside it, so an acknowledged alert that recurs shows both errors.
    """
    spec = ALERT_KINDS.get(kind)
    if spec is None:
        logger.warning("alert kind %r is not registered (alert_kind_register)", kind)
    severity = severity or (spec.severity if spec else Alert.Severity.WARNING)
    if severity not in SEVERITY_RANK:
        raise ValueError(f"Unknown alert severity {severity!r}")
    dedupe_key = dedupe_key[:200]
    group = spec if spec is not None and spec.group_label and subject else None
    grouped = group is not None
    for _ in range(5):
        now = timezone.now()
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update()
                .filter(dedupe_key=dedupe_key)
                .exclude(status=Alert.Status.RESOLVED)
                .first()
            )
            if alert is not None:
                alert.count = F("count") + 1
                alert.last_seen_at = now
                if grouped and subject not in alert.subjects:
                    alert.subjects = [*alert.subjects, subject][-MAX_SUBJECTS:]
                text = _grouped_message(group, alert.subjects) if group else message
                if not grouped and text != alert.message:
                    after_ack = alert.status == Alert.Status.ACKNOWLEDGED
                    entry = _error_entry(text, at=now, after_ack=after_ack)
                    alert.errors = [*alert.errors, entry][-MAX_ERRORS:]
                alert.message = text
                if link:
                    alert.link = link[:500]
                # Escalate only: a warning repeat does not downgrade a critical alert.
                if SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity]:
                    alert.severity = severity
                alert.save()
                alert.refresh_from_db(fields=["count"])
                transaction.on_commit(partial(_alert_notify, alert.pk, False))
                return alert
            subjects = [subject] if grouped else []
            text = _grouped_message(group, subjects) if group else message
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        kind=kind,
                        severity=severity,
                        dedupe_key=dedupe_key,
                        message=text,
                        link=link[:500],
                        first_seen_at=now,
                        last_seen_at=now,
                        subjects=subjects,
                        errors=[] if grouped else [_error_entry(text, at=now, after_ack=False)],
                    )
            except IntegrityError:
                # Another process opened it first: loop and bump theirs.
                continue
            transaction.on_commit(partial(_alert_notify, alert.pk, True))
            return alert
    raise RuntimeError(f"Could not raise alert {dedupe_key!r}: too much contention")


def _alert_resolved(alert: Alert, *, user: Any, reason: str) -> None:
    """Mark a locked alert resolved, audit it and notify after commit (caller's transaction)."""
    alert.status = Alert.Status.RESOLVED
    alert.resolved_by = user
    alert.resolved_at = timezone.now()
    alert.resolved_reason = reason[:300]
    alert.save(update_fields=["status", "resolved_by", "resolved_at", "resolved_reason"])
    audit_record(
        actor=user,
        actor_label=None if user else "system:alerts",
        verb=verbs.ALERT_RESOLVED,
        target=alert,
        data={
            "kind": alert.kind,
            "dedupe_key": alert.dedupe_key,
            "count": alert.count,
            **({"reason": reason} if reason else {}),
        },
    )
    transaction.on_commit(partial(_alert_hooks_run, alert.pk, ALERT_RESOLVED_HOOKS))


def alert_clear(*, dedupe_key: str, reason: str, subject: str = "") -> Alert | None:
    """The cause is gone: resolve the unresolved alert of this key (no-op when there is none).

    With `subject`, only that item leaves a grouped alert; the alert resolves with its last item.
    Cheap when nothing is open: one indexed query.
    """
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update()
            .filter(dedupe_key=dedupe_key[:200])
            .exclude(status=Alert.Status.RESOLVED)
            .first()
        )
        if alert is None:
            return None
        if subject:
            if subject not in alert.subjects:
                return alert
            alert.subjects = [s for s in alert.subjects if s != subject]
            spec = ALERT_KINDS.get(alert.kind)
            if alert.subjects and spec is not None:
                alert.message = _grouped_message(spec, alert.subjects)
                alert.save(update_fields=["subjects", "message"])
                return alert
            alert.save(update_fields=["subjects"])
        _alert_resolved(alert, user=None, reason=reason)
    return alert


def alert_acknowledge(*, alert: Alert, user: Any) -> Alert:
    """Someone is looking at it (escalation stops). Idempotent: twice changes nothing the second time."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status != Alert.Status.OPEN:
            return alert
        alert.status = Alert.Status.ACKNOWLEDGED
        alert.acknowledged_by = user
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        audit_record(
            actor=user,
            verb=verbs.ALERT_ACKNOWLEDGED,
            target=alert,
            data={"kind": alert.kind, "dedupe_key": alert.dedupe_key, "count": alert.count},
        )
    return alert


def alert_resolve(*, alert: Alert, user: Any) -> Alert:
    """It is dealt with. A later recurrence of the same key opens a new alert."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status == Alert.Status.RESOLVED:
            return alert
        _alert_resolved(alert, user=user, reason="")
    return alert
