"""Alerts reach Teams: a card per raise (not per bump), thresholds, resolved cards, escalation along
the ladder (frozen clock), quiet-hour digests, no customer data, signed acknowledge links."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.ops import alerting
from apps.sync.alerts import alert_acknowledge, alert_clear, alert_raise, alert_resolve
from apps.sync.models import Alert, OutboxMessage
from integrations.teams.cards import envelope_check

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def raised(django_capture_on_commit_callbacks):
    """alert_raise with its after-commit hooks (the Teams notifier) run, as in production."""

    def raise_(**kwargs):
        kwargs.setdefault("kind", "outbox.dead")
        kwargs.setdefault("dedupe_key", "outbox.dead:shipbob.order_create")
        kwargs.setdefault("message", "shipbob.order_create for #1001 is dead: HTTP 422")
        with django_capture_on_commit_callbacks(execute=True):
            return alert_raise(**kwargs)

    return raise_


def cards(peer="teams"):
    return list(OutboxMessage.objects.filter(peer=peer, action="card_post").order_by("id"))


def card_of(message) -> dict:
    import json

    (content,) = envelope_check(json.dumps(message.payload["envelope"]).encode())
    return content


def test_one_card_per_raise_and_none_per_bump_below_a_threshold(raised):
    raised()
    for _ in range(8):
        raised()
    assert Alert.objects.get().count == 9
    assert len(cards()) == 1

    raised()  # the 10th
    assert len(cards()) == 2
    for _ in range(89):
        raised()
    assert len(cards()) == 2
    raised()  # the 100th
    titles = [m.payload["title"] for m in cards()]
    assert titles == [
        "Warning: A dead outbox message (raised)",
        "Warning: A dead outbox message (seen 10 times)",
        "Warning: A dead outbox message (seen 100 times)",
    ]


def test_a_severity_rise_posts_again_and_the_resolved_card_follows(raised, ops_user):
    alert = raised(severity="warning")
    raised(severity="critical")
    assert [m.payload["title"] for m in cards()][-1].startswith("Critical:")
    alert_resolve(alert=alert, user=ops_user)
    # The resolve hook runs after commit: the fixture's capture is per raise, so run it here.
    alerting.alert_card_on_resolve(Alert.objects.get(pk=alert.pk))
    last = cards()[-1]
    assert last.payload["title"].endswith("(resolved)")
    assert card_of(last)["body"][0]["color"] == "good"
    assert [a["title"] for a in card_of(last)["actions"]] == [
        "Open in the portal",
        "Open the runbook",
    ]


def test_a_card_carries_facts_links_and_a_signed_acknowledge_link(raised, settings):
    alert = raised(link="/ops/outbox/?status=dead")
    content = card_of(cards()[0])
    facts = dict((f["title"], f["value"]) for f in content["body"][2]["facts"])
    assert facts["Order"] == "#1001"
    assert facts["Kind"] == "outbox.dead"
    assert facts["Seen"].startswith("1×")
    assert "Since" in facts
    urls = {a["title"]: a["url"] for a in content["actions"]}
    assert urls["Open in the portal"] == f"{settings.O2C_PUBLIC_URL}/ops/outbox/?status=dead"
    assert urls["Open the runbook"] == f"{settings.O2C_PUBLIC_URL}/ops/runbook/#outbox.dead"
    token = urls["Acknowledge"].rstrip("/").rsplit("/", 1)[-1]
    assert alerting.alert_ack_token_read(token) == alert.pk
    assert alerting.alert_ack_token_read(token[:-2] + "xx") is None


def test_a_message_with_customer_data_is_withheld_from_the_card(raised):
    raised(message="Xero refused contact ada.lovelace@example.com for #1001")
    content = card_of(cards()[0])
    text = str(content)
    assert "ada.lovelace@example.com" not in text
    assert alerting.WITHHELD in text
    assert "#1001" in text


def test_teams_own_failures_are_never_posted_to_teams(raised):
    raised(kind="teams.delivery_failed", dedupe_key="teams.delivery_failed:teams", message="down")
    raised(kind="outbox.dead", dedupe_key="outbox.dead:teams.card_post", message="dead card")
    assert cards() == []


def test_escalation_after_n_minutes_unacknowledged_to_both_channels_and_email(
    raised, time_machine, settings
):
    settings.TEAMS = {**settings.TEAMS, "ESCALATION_MINUTES": {"critical": [15, 60], "warning": []}}
    time_machine.move_to(START, tick=False)
    alert = raised(severity="critical")

    time_machine.shift(timedelta(minutes=14))
    assert alerting.alerts_tick() == {"escalated": 0, "digested": 0}
    time_machine.shift(timedelta(minutes=1))
    assert alerting.alerts_tick()["escalated"] == 1
    assert alerting.alerts_tick()["escalated"] == 0  # one step per rung

    alert.refresh_from_db()
    assert [step["step"] for step in alert.escalations] == [1]
    assert alert.escalations[0]["to"] == ["teams", "teams_escalation", "oncall@example.com"]
    assert (
        cards("teams_escalation")[0]
        .payload["title"]
        .endswith("(escalated: unacknowledged for 15 min)")
    )
    assert cards()[-1].payload["title"].endswith("(escalated: unacknowledged for 15 min)")
    mail = OutboxMessage.objects.get(peer="mail", action="alert_email")
    assert mail.payload["subject"].startswith("[Escalated] Critical:")
    event = AuditEvent.objects.get(verb="alert.escalated")
    assert event.data["step"] == 1
    assert event.actor_label == "system:escalation"

    time_machine.shift(timedelta(minutes=45))
    assert alerting.alerts_tick()["escalated"] == 1
    alert.refresh_from_db()
    assert len(alert.escalations) == 2


def test_acknowledging_stops_the_escalation(raised, time_machine, ops_user):
    time_machine.move_to(START, tick=False)
    alert = raised(severity="critical")
    time_machine.shift(timedelta(minutes=10))
    alert_acknowledge(alert=alert, user=ops_user)
    time_machine.shift(timedelta(hours=3))
    assert alerting.alerts_tick()["escalated"] == 0
    alert.refresh_from_db()
    assert alert.escalations == []
    assert cards("teams_escalation") == []
    assert not AuditEvent.objects.filter(verb="alert.escalated").exists()


def test_warnings_wait_for_the_digest_in_quiet_hours_but_critical_does_not(
    raised, time_machine, settings
):
    no_ladder = {"critical": [], "warning": []}
    settings.TEAMS = {**settings.TEAMS, "QUIET_HOURS": "22-7", "ESCALATION_MINUTES": no_ladder}
    time_machine.move_to(datetime(2026, 11, 27, 23, 0, tzinfo=UTC), tick=False)
    raised(dedupe_key="a", message="first warning")
    raised(dedupe_key="b", message="second warning")
    raised(dedupe_key="c", message="a critical one", severity="critical")
    assert [m.payload["title"] for m in cards()] == ["Critical: A dead outbox message (raised)"]
    raised(dedupe_key="d", message="posted before quiet hours")
    Alert.objects.filter(dedupe_key="d").update(
        posted_count=1, posted_severity="warning", digest_pending=False
    )
    for _ in range(9):
        raised(dedupe_key="d", message="posted before quiet hours")  # reaches 10: waits too
    assert len(cards()) == 1
    assert alerting.alerts_tick()["digested"] == 0  # still quiet

    time_machine.move_to(datetime(2026, 11, 28, 7, 1, tzinfo=UTC), tick=False)
    assert alerting.alerts_tick()["digested"] == 3
    digest = cards()[-1]
    assert digest.payload["title"] == "Digest: 3 alert(s) from quiet hours"
    assert "10× · posted before quiet hours" in digest.payload["text"]
    assert "first warning" in digest.payload["text"]
    assert "second warning" in digest.payload["text"]
    assert alerting.alerts_tick()["digested"] == 0
    raised(dedupe_key="a", message="first warning")  # a bump after the digest: no card
    assert len(cards()) == 2


def test_the_acknowledge_link_needs_a_signed_in_ops_user_and_a_post(client, raised, ops_user):
    alert = raised()
    url = reverse("ops:alert-ack-link", args=[alerting.alert_ack_token(alert)])

    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]

    client.force_login(ops_user)
    page = client.get(url)
    assert page.status_code == 200
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN  # a GET (a link preview) changes nothing

    assert client.post(url).status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    assert alert.acknowledged_by == ops_user
    forged = reverse("ops:alert-ack-link", args=["bm90LXNpZ25lZA:abc:def"])
    assert client.get(forged).status_code == 404


def test_bulk_acknowledge_and_resolve(client, ops_user):
    first = alert_raise(kind="outbox.dead", dedupe_key="k1", message="one")
    second = alert_raise(kind="outbox.dead", dedupe_key="k2", message="two")
    untouched = alert_raise(kind="outbox.dead", dedupe_key="k3", message="three")
    client.force_login(ops_user)

    client.post(reverse("ops:alert-bulk"), {"action": "acknowledge", "ids": [first.pk, second.pk]})
    assert set(Alert.objects.values_list("dedupe_key", "status")) == {
        ("k1", "acknowledged"),
        ("k2", "acknowledged"),
        ("k3", "open"),
    }
    response = client.post(reverse("ops:alert-bulk"), {"action": "resolve", "ids": [first.pk]})
    assert response.status_code == 302
    first.refresh_from_db()
    untouched.refresh_from_db()
    assert first.status == "resolved"
    assert untouched.status == "open"
    assert AuditEvent.objects.filter(verb="alert.acknowledged").count() == 2
    assert AuditEvent.objects.filter(verb="alert.resolved").count() == 1


def test_the_inbox_shows_runbook_links_items_errors_and_teams_health(client, ops_user, raised):
    alert = raised()
    alert_acknowledge(alert=alert, user=ops_user)
    raised(message="shipbob.order_create for #1002 is dead: HTTP 500")
    client.force_login(ops_user)
    body = client.get(reverse("ops:alert-list")).content.decode()
    assert 'href="/ops/runbook/#outbox.dead"' in body
    assert "2 different errors" in body
    assert "after acknowledgement" in body
    assert "No card sent to Teams yet." in body
    assert "Send a test card to Teams" in body


def test_the_heartbeat_queues_one_card_a_day(time_machine):
    time_machine.move_to(START, tick=False)
    alerting.teams_heartbeat()
    alerting.teams_heartbeat()
    assert [m.payload["title"] for m in cards()] == [
        "Heartbeat 2026-11-27: alerts reach this channel"
    ]


def test_an_alert_resolved_by_its_cause_posts_the_resolved_card(
    raised, django_capture_on_commit_callbacks
):
    raised(dedupe_key="outbox.dead:x.y")
    with django_capture_on_commit_callbacks(execute=True):
        alert_clear(dedupe_key="outbox.dead:x.y", reason="replayed")
    assert cards()[-1].payload["title"].endswith("(resolved)")
    assert AuditEvent.objects.get(verb="alert.resolved").actor_label == "system:alerts"
