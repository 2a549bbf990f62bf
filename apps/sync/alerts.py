"""Alerts: something a person must look at, raised by any app through `alert_raise`.

A repeat of an unresolved dedupe key bumps the count and last-seen time instead of adding a row
(the partial unique constraint makes that race-safe). Delivery elsewhere (Teams, a later issue)
plugs in through `alert_on_raised`: hooks run after the raising transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.sync.models import Alert

logger = logging.getLogger(__name__)

_SEVERITY_RANK: dict[str, int] = {
    Alert.Severity.INFO: 0,
    Alert.Severity.WARNING: 1,
    Alert.Severity.CRITICAL: 2,
}

# Called as hook(alert, created) after commit; the Teams notifier registers here.
ALERT_RAISED_HOOKS: list[Callable[[Alert, bool], None]] = []


def alert_on_raised(hook: Callable[[Alert, bool], None]) -> Callable[[Alert, bool], None]:
    """Register a hook to run after an alert is raised or bumped (after commit). Usable as decorator."""
    if hook not in ALERT_RAISED_HOOKS:
        ALERT_RAISED_HOOKS.append(hook)
    return hook


def _alert_notify(alert_id: int, created: bool) -> None:
    if not ALERT_RAISED_HOOKS:
        return
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return
    for hook in list(ALERT_RAISED_HOOKS):
        try:
            hook(alert, created)
        except Exception:
            # A notifier failing must never undo or block the alert itself.
            logger.exception("alert hook %r failed for alert %s", hook, alert_id)


def alert_raise(
    *,
    kind: str,
    severity: str = Alert.Severity.WARNING,
    dedupe_key: str,
    message: str,
    link: str = "",
) -> Alert:
    """Open an alert, or bump the unresolved one with the same dedupe key (count, last seen, message)."""
    if severity not in _SEVERITY_RANK:
        raise ValueError(f"Unknown alert severity {severity!r}")
    dedupe_key = dedupe_key[:200]
    for _ in range(5):
        now = timezone.now()
        with transaction.atomic():
            unresolved = Alert.objects.filter(dedupe_key=dedupe_key).exclude(
                status=Alert.Status.RESOLVED
            )
            changes = {"count": F("count") + 1, "last_seen_at": now, "message": message}
            if link:
                changes["link"] = link[:500]
            if unresolved.update(**changes):
                # Escalate only: a warning repeat does not downgrade a critical alert.
                lower = [s for s, rank in _SEVERITY_RANK.items() if rank < _SEVERITY_RANK[severity]]
                unresolved.filter(severity__in=lower).update(severity=severity)
                alert = unresolved.first()
                if alert is None:  # resolved between our update and read: raise it afresh
                    continue
                transaction.on_commit(partial(_alert_notify, alert.pk, False))
                return alert
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        kind=kind,
                        severity=severity,
                        dedupe_key=dedupe_key,
                        message=message,
                        link=link[:500],
                        first_seen_at=now,
                        last_seen_at=now,
                    )
            except IntegrityError:
                # Another process opened it first: loop and bump theirs.
                continue
            transaction.on_commit(partial(_alert_notify, alert.pk, True))
            return alert
    raise RuntimeError(f"Could not raise alert {dedupe_key!r}: too much contention")


def alert_acknowledge(*, alert: Alert, user: Any) -> Alert:
    """Someone is looking at it. Idempotent: acknowledging twice changes nothing the second time."""
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
        alert.status = Alert.Status.RESOLVED
        alert.resolved_by = user
        alert.resolved_at = timezone.now()
        alert.save(update_fields=["status", "resolved_by", "resolved_at"])
        audit_record(
            actor=user,
            verb=verbs.ALERT_RESOLVED,
            target=alert,
            data={"kind": alert.kind, "dedupe_key": alert.dedupe_key, "count": alert.count},
        )
    return alert
