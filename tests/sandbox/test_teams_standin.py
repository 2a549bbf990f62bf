"""The Teams Workflows stand-in: 202 for a valid card, 400 for a bad one, 429 above 4/s per URL,
a bare 400 or 503 on demand; /sandbox/teams/ shows the received cards newest first."""

import json

import pytest
from django.urls import reverse

from apps.sandbox.teams import views
from apps.sandbox.teams.models import SandboxTeamsPost
from integrations.teams.cards import AlertCard, card_content, envelope

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_window():
    views._recent.clear()


def post(client, body, workflow="alerts"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        reverse("sandbox:sandbox_teams:workflow", args=[workflow]),
        raw,
        content_type="application/json",
    )


def valid(title="Warning: something (raised)") -> dict:
    return envelope(card_content(AlertCard(title=title, severity="warning", text="what happened")))


def test_a_valid_card_is_accepted_with_202_and_kept(client):
    response = post(client, valid())
    assert response.status_code == 202
    assert response.content == b""
    stored = SandboxTeamsPost.objects.get()
    assert stored.status_code == 202
    assert stored.cards[0]["body"][0]["text"] == "Warning: something (raised)"


def test_a_card_of_another_version_or_shape_is_refused(client):
    body = valid()
    body["attachments"][0]["content"]["version"] = "1.6"
    refused = post(client, body)
    assert refused.status_code == 400
    assert "1.6" in refused.content.decode()
    assert post(client, {"text": "a legacy connector payload"}).status_code == 400
    assert post(client, b"{" + b" " * (28 * 1024) + b"}").status_code == 400


def test_more_than_four_requests_a_second_to_one_url_answer_429(client):
    statuses = [post(client, valid()).status_code for _ in range(5)]
    assert statuses == [202, 202, 202, 202, 429]
    assert post(client, valid(), workflow="escalation").status_code == 202  # per URL


@pytest.mark.parametrize(("mode", "status"), [("bare_400", 400), ("server_error", 503)])
def test_it_can_be_told_to_fail(client, mode, status):
    views.behaviour_set(mode=mode)
    response = post(client, valid())
    assert response.status_code == status
    if mode == "bare_400":
        assert response.content == b""


def test_it_can_be_told_to_time_out(client, monkeypatch):
    stalls = []
    monkeypatch.setattr(views.faults, "sleep", stalls.append)
    views.behaviour_set(mode="timeout")
    assert post(client, valid()).status_code == 202  # the work is done after the stall
    assert stalls == [20.0]


def test_the_channel_page_shows_cards_newest_first(client, admin_user):
    post(client, valid("Warning: the older one (raised)"))
    post(client, valid("Critical: the newer one (raised)"))
    client.force_login(admin_user)
    body = client.get(reverse("sandbox:sandbox_teams:received")).content.decode()
    assert body.index("the newer one") < body.index("the older one")
    assert 'data-testid="teams-card"' in body
