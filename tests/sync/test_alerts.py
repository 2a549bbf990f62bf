"""Alerts: dedupe bumps, escalation, acknowledge / resolve audited, hooks after commit."""

import pytest
from django.db import transaction

from apps.audit.models import AuditEvent
from apps.sync import alerts
from apps.sync.alerts import alert_acknowledge, alert_on_raised, alert_raise, alert_resolve
from apps.sync.models import Alert

pytestmark = pytest.mark.django_db


def test_a_repeat_bumps_count_last_seen_and_message(time_machine):
    from datetime import UTC, datetime

    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    first = alert_raise(kind="stock.drift", dedupe_key="drift:SKU-1", message="off by 2")
    time_machine.shift(60)
    again = alert_raise(kind="stock.drift", dedupe_key="drift:SKU-1", message="off by 3", link="/x")
    assert again.pk == first.pk
    alert = Alert.objects.get()
    assert alert.count == 2
    assert alert.message == "off by 3"
    assert alert.link == "/x"
    assert (alert.last_seen_at - alert.first_seen_at).total_seconds() == 60


def test_severity_escalates_but_never_downgrades():
    alert_raise(kind="k", dedupe_key="k1", message="m", severity="warning")
    alert_raise(kind="k", dedupe_key="k1", message="m", severity="critical")
    alert_raise(kind="k", dedupe_key="k1", message="m", severity="info")
    assert Alert.objects.get().severity == "critical"


def test_acknowledge_and_resolve_are_audited_and_a_recurrence_opens_a_new_alert(ops_user):
    alert = alert_raise(kind="k", dedupe_key="k1", message="m")
    alert = alert_acknowledge(alert=alert, user=ops_user)
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by == ops_user
    alert_acknowledge(alert=alert, user=ops_user)
    alert_raise(kind="k", dedupe_key="k1", message="again")
    assert Alert.objects.get().count == 2  # acknowledged is still unresolved
    alert = alert_resolve(alert=alert, user=ops_user)
    assert alert.status == "resolved"
    assert alert.resolved_at is not None
    assert list(AuditEvent.objects.order_by("id").values_list("verb", flat=True)) == [
        "alert.acknowledged",
        "alert.resolved",
    ]
    fresh = alert_raise(kind="k", dedupe_key="k1", message="back")
    assert fresh.pk != alert.pk
    assert fresh.count == 1
    assert Alert.objects.count() == 2


def test_hooks_run_after_commit_only(django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(alerts, "ALERT_RAISED_HOOKS", [])
    seen = []
    alert_on_raised(lambda alert, created: seen.append((alert.dedupe_key, created)))
    with django_capture_on_commit_callbacks(execute=True):
        alert_raise(kind="k", dedupe_key="k1", message="m")
        alert_raise(kind="k", dedupe_key="k1", message="m")
    assert seen == [("k1", True), ("k1", False)]

    def raise_then_fail():
        with transaction.atomic():
            alert_raise(kind="k", dedupe_key="k2", message="m")
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        raise_then_fail()
    assert seen == [("k1", True), ("k1", False)]
