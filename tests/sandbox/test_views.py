import json

import pytest
from django.contrib.auth.models import Permission

from apps.sandbox.faults import fault_rng_seed
from apps.sandbox.models import SandboxFault
from tests.factories import UserFactory

TOKEN_HEADER = {"HTTP_AUTHORIZATION": "Bearer test-sandbox-token"}


@pytest.fixture(autouse=True)
def _token(settings):
    settings.SANDBOX_API_TOKEN = "test-sandbox-token"
    yield
    fault_rng_seed(seed=None)


@pytest.fixture
def fault_editor(db):
    user = UserFactory(email="tinkerer@example.com")
    user.save()  # the factory saves the hashed password only when roles are given
    user.user_permissions.add(Permission.objects.get(codename="change_sandboxfault"))
    return user


def test_page_lists_every_peer_for_a_user_with_the_permission(client, fault_editor):
    client.force_login(fault_editor)
    response = client.get("/sandbox/")
    assert response.status_code == 200
    for label in ("Shopify", "ShipBob", "Xero", "Microsoft Teams", "Azure OpenAI"):
        assert label in response.text
    # Looking does not create rows.
    assert SandboxFault.objects.count() == 0


def test_page_refuses_a_user_without_the_permission_and_redirects_anonymous(client, support_user):
    assert client.get("/sandbox/").status_code == 302
    client.force_login(support_user)
    assert client.get("/sandbox/").status_code == 403
    assert client.post("/sandbox/faults/shipbob/", {}).status_code == 403


def test_form_post_saves_the_peers_faults(client, fault_editor):
    client.force_login(fault_editor)
    response = client.post(
        "/sandbox/faults/shipbob/",
        {
            "shipbob-enabled": "on",
            "shipbob-error_rate": "0.2",
            "shipbob-extra_latency_ms": "40",
            "shipbob-burst_429": "5",
            "shipbob-retry_after_seconds": "3",
            "shipbob-timeout_rate": "0.1",
            "shipbob-timeout_seconds": "20",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/sandbox/"
    fault = SandboxFault.objects.get(peer="shipbob")
    assert (fault.enabled, fault.error_rate, fault.burst_429, fault.timeout_rate) == (
        True,
        0.2,
        5,
        0.1,
    )


def test_form_post_with_a_rate_above_one_is_shown_again_and_not_saved(client, fault_editor):
    client.force_login(fault_editor)
    response = client.post(
        "/sandbox/faults/xero/",
        {
            "xero-error_rate": "1.5",
            "xero-extra_latency_ms": "0",
            "xero-burst_429": "0",
            "xero-retry_after_seconds": "2",
            "xero-timeout_rate": "0",
            "xero-timeout_seconds": "20",
        },
    )
    assert response.status_code == 200
    assert "less than or equal to 1" in response.text
    assert not SandboxFault.objects.filter(peer="xero").exists()


def test_unknown_peer_is_404(client, fault_editor):
    client.force_login(fault_editor)
    assert client.post("/sandbox/faults/amazon/", {}).status_code == 404
    assert client.get("/sandbox/faults/amazon.json", **TOKEN_HEADER).status_code == 404


def test_json_api_get_and_partial_put_with_the_token(client, db):
    response = client.get("/sandbox/faults/xero.json", **TOKEN_HEADER)
    assert response.status_code == 200
    assert response.json()["enabled"] is False

    response = client.put(
        "/sandbox/faults/xero.json",
        json.dumps({"enabled": True, "burst_429": 3, "seed": 11}),
        content_type="application/json",
        **TOKEN_HEADER,
    )
    assert response.status_code == 200
    assert response.json()["burst_429"] == 3
    fault = SandboxFault.objects.get(peer="xero")
    assert fault.enabled is True
    assert fault.burst_429 == 3
    assert fault.error_rate == 0.0

    response = client.put(
        "/sandbox/faults/xero.json",
        json.dumps({"enabled": False}),
        content_type="application/json",
        **TOKEN_HEADER,
    )
    assert response.json()["enabled"] is False
    fault.refresh_from_db()
    assert fault.enabled is False
    assert fault.burst_429 == 3


def test_json_api_rejects_bad_values_and_unknown_fields(client, db):
    bad = client.put(
        "/sandbox/faults/shopify.json",
        json.dumps({"timeout_rate": 2}),
        content_type="application/json",
        **TOKEN_HEADER,
    )
    assert bad.status_code == 400
    assert "timeout_rate" in bad.json()["errors"]
    unknown = client.put(
        "/sandbox/faults/shopify.json",
        json.dumps({"errors_injected": 0}),
        content_type="application/json",
        **TOKEN_HEADER,
    )
    assert unknown.status_code == 400
    assert not SandboxFault.objects.exists()


def test_json_api_refuses_without_token_or_permission(client, support_user, fault_editor):
    assert client.get("/sandbox/faults/teams.json").status_code == 403
    wrong = {"HTTP_AUTHORIZATION": "Bearer nope"}
    assert client.get("/sandbox/faults/teams.json", **wrong).status_code == 403
    client.force_login(support_user)
    assert client.get("/sandbox/faults/teams.json").status_code == 403
    client.force_login(fault_editor)
    assert client.get("/sandbox/faults/teams.json").status_code == 200


def test_json_api_token_disabled_when_empty(client, db, settings):
    settings.SANDBOX_API_TOKEN = ""
    response = client.get("/sandbox/faults/teams.json", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403


def test_the_sandbox_mailbox_keeps_what_was_sent_and_shows_it(client, support_user, settings):
    from django.core.mail import EmailMessage

    from apps.sandbox.mailbox import SandboxMailBackend
    from apps.sandbox.models import SandboxMail

    sent = SandboxMailBackend().send_messages(
        [EmailMessage("Re: order", "Your parcel shipped.", "s@example.com", ["ada@example.com"])]
    )
    assert sent == 1
    mail = SandboxMail.objects.get()
    assert (mail.subject, mail.to, mail.body) == (
        "Re: order",
        ["ada@example.com"],
        "Your parcel shipped.",
    )
    client.force_login(support_user)
    page = client.get("/sandbox/mailbox/")
    assert page.status_code == 200
    assert "Your parcel shipped." in page.text
