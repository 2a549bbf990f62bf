"""A Teams outage over real HTTP (the stand-in on the live server answers 503 for an hour): no card
is lost, they all arrive in the order raised once Teams is back, and the on-call email went out."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.sandbox.teams import views as teams_standin
from apps.sandbox.teams.models import SandboxTeamsPost
from apps.sync.alerts import alert_raise
from apps.sync.models import Alert, AlertChannel, OutboxMessage
from apps.sync.pumps import pump_run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
NO_LADDER = {"critical": [], "warning": []}


@pytest.fixture
def teams_live(peers, settings):
    settings.TEAMS = {
        **settings.TEAMS,
        "WEBHOOK_URL": f"{peers.url}/sandbox/teams/workflows/alerts",
        "ESCALATION_WEBHOOK_URL": f"{peers.url}/sandbox/teams/workflows/escalation",
        "ESCALATION_MINUTES": NO_LADDER,
    }
    teams_standin._recent.clear()
    return peers


def raise_alerts(*names: str) -> None:
    for name in names:
        alert_raise(kind="outbox.dead", dedupe_key=f"outbox.dead:{name}", message=f"{name} died")


def test_an_hour_of_5xx_loses_no_card_and_they_arrive_in_order(
    teams_live, time_machine, mailoutbox
):
    time_machine.move_to(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    teams_standin.behaviour_set(mode="server_error")
    raise_alerts("first.card", "second.card")
    started = datetime.now(UTC)
    while datetime.now(UTC) - started < timedelta(hours=1):
        pump_run("teams", once=True)
        time_machine.shift(timedelta(minutes=1))
        third_due = datetime.now(UTC) - started > timedelta(minutes=20)
        if third_due and not Alert.objects.filter(dedupe_key="outbox.dead:third.card").exists():
            raise_alerts("third.card")  # raised while Teams is known to be down

    assert not SandboxTeamsPost.objects.filter(status_code=202).exists()
    assert SandboxTeamsPost.objects.filter(status_code=503).count() >= 5
    cards = OutboxMessage.objects.filter(peer="teams", action="card_post")
    assert cards.count() == 3
    assert not cards.filter(status=OutboxMessage.Status.DEAD).exists()
    failing = Alert.objects.get(kind="teams.delivery_failed")
    assert failing.severity == Alert.Severity.CRITICAL
    assert failing.status == Alert.Status.OPEN
    assert "HTTP 503" in failing.message
    assert AlertChannel.objects.get(name="teams").last_accepted_at is None

    pump_run("mail", once=True)
    mails = list(mailoutbox)
    assert [mail.to for mail in mails] == [["oncall@example.com"]] * 3
    assert "first.card died" in mails[0].body
    assert mails[0].subject.startswith("[Teams did not take this alert] Warning:")

    teams_standin.behaviour_set(mode="accept")
    time_machine.shift(timedelta(hours=2))  # past the longest backoff
    for _ in range(10):
        pump_run("teams", once=True)
        time_machine.shift(timedelta(seconds=5))

    accepted = SandboxTeamsPost.objects.filter(status_code=202).order_by("id")
    texts = [post.cards[0]["body"][1]["text"] for post in accepted]
    assert texts == ["first.card died", "second.card died", "third.card died"]
    assert not cards.exclude(status=OutboxMessage.Status.DONE).exists()
    failing.refresh_from_db()
    assert failing.status == Alert.Status.RESOLVED
    assert AlertChannel.objects.get(name="teams").last_accepted_at is not None


def test_a_bare_400_is_permanent_raises_the_local_alert_and_mails_the_card(teams_live):
    teams_standin.behaviour_set(mode="bare_400")
    raise_alerts("refused.card")
    pump_run("teams", once=True)

    card = OutboxMessage.objects.get(peer="teams", action="card_post")
    assert card.status == OutboxMessage.Status.DEAD
    assert "HTTP 400" in card.last_error
    assert Alert.objects.get(kind="teams.delivery_failed").status == Alert.Status.OPEN
    assert not Alert.objects.filter(dedupe_key="outbox.dead:teams.card_post", posted_count__gt=0)
    assert OutboxMessage.objects.filter(peer="mail", action="alert_email").count() == 1


def test_the_test_card_button_shows_what_teams_answered(teams_live, client, ops_user):
    client.force_login(ops_user)
    accepted = client.post(reverse("ops:teams-test-card"), follow=True)
    assert "Teams answered 202: accepted." in accepted.content.decode()
    card = SandboxTeamsPost.objects.get()
    assert card.cards[0]["body"][0]["text"] == "Test card from the portal"
    assert AlertChannel.objects.get(name="teams").last_status == 202

    teams_standin.behaviour_set(mode="bare_400")
    refused = client.post(reverse("ops:teams-test-card"), follow=True).content.decode()
    assert "Teams did not accept the test card: teams: HTTP 400" in refused
    assert "Teams (teams): last accepted a card" in refused
    assert AuditEvent.objects.filter(verb="teams.test_card_sent").count() == 2
