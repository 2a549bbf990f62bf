"""The Admin's Xero page: the status panel, "Connect to Xero", and the OAuth callback."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.invoicing.connection import SESSION_STATE
from apps.invoicing.crypto import token_decrypt, token_encrypt
from apps.invoicing.models import XeroConnection
from apps.sandbox.xero.books import DEMO_TENANT_ID, DEMO_TENANT_NAME

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_the_status_panel_shows_the_organisation_token_and_remaining_calls(client, admin_user):
    now = timezone.now()
    XeroConnection.objects.create(
        kind=XeroConnection.Kind.OAUTH,
        tenant_id="a3a8c1f0-0000-4000-8000-000000000001",
        tenant_name="Demo Company (UK)",
        access_token_encrypted=token_encrypt("access-token"),
        refresh_token_encrypted=token_encrypt("refresh-token"),
        expires_at=now + timedelta(minutes=25),
        connected_by=admin_user,
        connected_at=now - timedelta(days=2),
        last_call_at=now - timedelta(minutes=3),
        day_remaining=4990,
        minute_remaining=57,
        last_error="invalid_grant: refresh token expired",
    )
    client.force_login(admin_user)

    body = client.get(reverse("invoicing:xero")).text

    status = body[
        body.index('data-testid="xero-status"') : body.index('data-testid="xero-connect"')
    ]
    assert 'data-testid="xero-organisation">Demo Company (UK)' in status
    assert "OAuth (authorization code)" in status
    assert f"by {admin_user.email}" in status
    assert "valid until" in status
    assert 'data-testid="day-remaining">4990' in status
    assert 'data-testid="minute-remaining">57' in status
    assert "calls ready" in status  # the shared rate budget (budget_state("xero"))
    assert "invalid_grant: refresh token expired" in status
    assert "access-token" not in body  # tokens never reach the page
    assert "Reconnect to Xero" in body


def test_before_any_connection_the_page_offers_to_connect(client, admin_user, settings):
    settings.XERO = {**settings.XERO, "CONNECTION": "oauth"}
    client.force_login(admin_user)

    body = client.get(reverse("invoicing:xero")).text

    assert "Not connected" in body
    assert "unknown until the first call" in body
    assert "Connect to Xero" in body
    assert f"{settings.O2C_PUBLIC_URL}/invoicing/xero/callback/" in body


def test_a_custom_connection_needs_no_connect_step(client, admin_user, settings):
    settings.XERO = {**settings.XERO, "CONNECTION": "custom"}
    client.force_login(admin_user)

    page = client.get(reverse("invoicing:xero")).text
    answer = client.post(reverse("invoicing:xero-connect"), follow=True)

    assert "there is no connect step" in page
    assert "Connect to Xero" not in page
    assert answer.redirect_chain == [(reverse("invoicing:xero"), 302)]
    assert "custom connection: there is nothing to connect" in answer.text
    assert SESSION_STATE not in client.session


def test_connect_sends_the_admin_to_xero_with_a_state_kept_in_the_session(
    client, admin_user, settings
):
    settings.XERO = {
        **settings.XERO,
        "CONNECTION": "oauth",
        "AUTHORIZE_URL": "https://login.xero.com/identity/connect/authorize",
        "CLIENT_ID": "app-client-id",
    }
    client.force_login(admin_user)

    page = client.get(reverse("invoicing:xero"))
    plain = client.post(reverse("invoicing:xero-connect"))
    state = client.session[SESSION_STATE]
    htmx = client.post(reverse("invoicing:xero-connect"), **HX)

    # The page's form may go on to Xero's login (Chromium applies form-action to redirects).
    assert "form-action 'self' https://login.xero.com" in page["Content-Security-Policy"]
    assert plain.status_code == 302
    target = urlsplit(plain["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == settings.XERO["AUTHORIZE_URL"]
    query = parse_qs(target.query)
    assert query["client_id"] == ["app-client-id"]
    assert query["state"] == [state]
    assert query["redirect_uri"] == [f"{settings.O2C_PUBLIC_URL}/invoicing/xero/callback/"]
    assert query["response_type"] == ["code"]
    assert htmx.status_code == 200
    assert htmx["HX-Redirect"].startswith(settings.XERO["AUTHORIZE_URL"])
    assert client.session[SESSION_STATE] != state  # every attempt gets a new state


def test_connect_without_a_client_id_says_xero_is_not_configured(client, admin_user, settings):
    settings.XERO = {**settings.XERO, "CONNECTION": "oauth", "CLIENT_ID": ""}
    client.force_login(admin_user)

    response = client.post(reverse("invoicing:xero-connect"), follow=True)

    assert response.redirect_chain == [(reverse("invoicing:xero"), 302)]
    assert "Xero is not configured" in response.text


def test_a_callback_with_a_state_that_did_not_start_here_shows_an_error(client, admin_user):
    client.force_login(admin_user)
    session = client.session
    session[SESSION_STATE] = "the-state-we-sent"
    session.save()

    forged = client.get(reverse("invoicing:xero-callback"), {"code": "c0de", "state": "forged"})
    no_state_left = client.get(
        reverse("invoicing:xero-callback"), {"code": "c0de", "state": "the-state-we-sent"}
    )

    for response in (forged, no_state_left):  # the state is spent after one try
        assert response.status_code == 200
        assert 'data-testid="connect-error"' in response.text
        assert "state mismatch" in response.text
    assert not XeroConnection.objects.exists()
    assert not AuditEvent.objects.filter(verb=verbs.XERO_CONNECTED).exists()


def test_a_refused_consent_shows_xeros_words(client, admin_user):
    client.force_login(admin_user)

    response = client.get(
        reverse("invoicing:xero-callback"),
        {"error": "access_denied", "error_description": "The user denied access", "state": "x"},
    )

    assert response.status_code == 200
    assert "Xero did not connect: access_denied The user denied access" in response.text
    assert not XeroConnection.objects.exists()


@pytest.fixture
def xero_standin(live_server, settings):
    """settings.XERO and the public URL aimed at the Xero stand-in on the live server."""
    base = f"{live_server.url}/sandbox/xero"
    settings.O2C_PUBLIC_URL = live_server.url
    settings.XERO = {
        **settings.XERO,
        "CONNECTION": "oauth",
        "IDENTITY_URL": f"{base}/identity",
        "AUTHORIZE_URL": f"{base}/login/authorize",
        "CONNECTIONS_URL": f"{base}/connections",
        "API_URL": f"{base}/api.xro/2.0",
        "CLIENT_ID": "sandbox-xero-client",
        "CLIENT_SECRET": "sandbox-xero-secret",  # noqa: S105 - the stand-in's test value
    }
    return live_server


def test_connecting_through_the_stand_in_stores_the_organisation_and_encrypted_tokens(
    client, admin_user, xero_standin
):
    client.force_login(admin_user)

    to_xero = client.post(reverse("invoicing:xero-connect"))
    consent = httpx.get(to_xero["Location"], follow_redirects=False)  # Xero approves at once
    back = urlsplit(consent.headers["location"])
    assert back.path == reverse("invoicing:xero-callback")
    response = client.get(f"{back.path}?{back.query}", follow=True)

    assert response.redirect_chain == [(reverse("invoicing:xero"), 302)]
    assert f"Connected to Xero: {DEMO_TENANT_NAME}." in response.text
    connection = XeroConnection.objects.get()
    assert (connection.tenant_id, connection.tenant_name) == (DEMO_TENANT_ID, DEMO_TENANT_NAME)
    assert connection.connected_by == admin_user
    assert connection.expires_at > timezone.now()
    access = token_decrypt(connection.access_token_encrypted)
    assert access
    assert access not in connection.access_token_encrypted
    assert token_decrypt(connection.refresh_token_encrypted)
    event = AuditEvent.objects.get(verb=verbs.XERO_CONNECTED)
    assert (event.actor, event.data) == (admin_user, {"tenant": DEMO_TENANT_NAME})
    assert SESSION_STATE not in client.session
