"""OAuth flows against the stand-in over real HTTP: code, connections, rotation, custom connection."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine

from apps.sandbox.xero.models import IssuedToken
from integrations.http import PeerError
from integrations.xero.client import XeroClient, XeroUnauthorized
from integrations.xero.oauth import (
    connections,
    token_client_credentials,
    token_exchange,
    token_refresh,
)
from tests.xero.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, authorize_code


def _refresh(settings, refresh_token):
    return token_refresh(
        identity_url=settings.XERO["IDENTITY_URL"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=refresh_token,
    )


def test_code_flow_gives_tokens_and_the_demo_tenant(oauth_tokens, settings):
    assert oauth_tokens.access_token
    assert oauth_tokens.refresh_token
    assert oauth_tokens.token_type == "Bearer"
    assert "accounting.invoices" in oauth_tokens.scope.split()
    assert (
        timedelta(minutes=29) < oauth_tokens.expires_at - datetime.now(UTC) <= timedelta(minutes=30)
    )
    tenants = connections(
        connections_url=settings.XERO["CONNECTIONS_URL"], access_token=oauth_tokens.access_token
    )
    assert [(t.tenant_name, t.tenant_type) for t in tenants] == [
        ("O2C Demo Company (US)", "ORGANISATION")
    ]


def test_a_code_works_once_and_only_with_its_redirect_uri(xero_live, settings):
    code = authorize_code(settings)
    with pytest.raises(PeerError) as wrong_uri:
        token_exchange(
            identity_url=settings.XERO["IDENTITY_URL"],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            code=code,
            redirect_uri="https://elsewhere.example.com/cb",
        )
    assert not wrong_uri.value.retryable
    assert "invalid_grant" in wrong_uri.value.message
    code = authorize_code(settings, state="again")
    args = dict(
        identity_url=settings.XERO["IDENTITY_URL"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        code=code,
        redirect_uri=REDIRECT_URI,
    )
    assert token_exchange(**args).access_token
    with pytest.raises(PeerError) as reused:
        token_exchange(**args)
    assert reused.value.status_code == 400
    assert not reused.value.retryable


def test_wrong_client_secret_is_permanent(xero_live, settings):
    with pytest.raises(PeerError) as refused:
        token_client_credentials(
            identity_url=settings.XERO["IDENTITY_URL"],
            client_id=CLIENT_ID,
            client_secret="wrong",
            scopes="accounting.invoices",
        )
    assert not refused.value.retryable
    assert "invalid_client" in refused.value.message


def test_refresh_rotates_and_the_old_token_has_a_30_minute_grace(oauth_tokens, settings):
    first = _refresh(settings, oauth_tokens.refresh_token)
    assert first.refresh_token != oauth_tokens.refresh_token
    assert first.access_token != oauth_tokens.access_token
    # A second worker that still holds the old token within the grace gets a valid set too.
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=29), tick=True):
        late = _refresh(settings, oauth_tokens.refresh_token)
        assert late.access_token
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31), tick=True):
        with pytest.raises(PeerError) as expired:
            _refresh(settings, oauth_tokens.refresh_token)
        # The rotated-in token is still good.
        assert _refresh(settings, first.refresh_token).access_token
    assert not expired.value.retryable
    assert expired.value.status_code == 400
    assert "re-authorised" in expired.value.message


def test_a_revoked_refresh_token_is_invalid_grant(oauth_tokens, settings):
    IssuedToken.objects.filter(kind="refresh").update(revoked=True)
    with pytest.raises(PeerError) as refused:
        _refresh(settings, oauth_tokens.refresh_token)
    assert "invalid_grant" in refused.value.message
    assert not refused.value.retryable


def test_oauth_token_needs_the_tenant_header(oauth_tokens, settings):
    with (
        XeroClient(
            api_url=settings.XERO["API_URL"], access_token=oauth_tokens.access_token, tenant_id=None
        ) as client,
        pytest.raises(PeerError) as refused,
    ):
        client.contacts_by_number(["x"])
    assert refused.value.status_code == 403
    assert not refused.value.retryable


def test_expired_access_token_is_a_retryable_401(oauth_tokens, tenant_id, settings):
    with XeroClient(
        api_url=settings.XERO["API_URL"],
        access_token=oauth_tokens.access_token,
        tenant_id=tenant_id,
    ) as client:
        assert client.contacts_by_number(["nobody"]) == {}
        later = datetime.now(UTC) + timedelta(minutes=31)
        with time_machine.travel(later, tick=True), pytest.raises(XeroUnauthorized) as expired:
            client.contacts_by_number(["nobody"])
    assert expired.value.retryable
    assert expired.value.status_code == 401


def test_custom_connection_has_no_refresh_token_and_no_tenant_header(custom_xero, settings):
    tokens = token_client_credentials(
        identity_url=settings.XERO["IDENTITY_URL"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes="accounting.invoices accounting.contacts",
    )
    assert tokens.refresh_token == ""
    assert IssuedToken.objects.filter(kind="refresh").count() == 0
    assert custom_xero.contacts_by_number(["nobody"]) == {}
    assert "xero-tenant-id" not in custom_xero.http.headers
    assert custom_xero.last_limits.minute_remaining is not None


def test_authorize_rejects_an_unknown_client(xero_live, settings):
    answer = httpx.get(
        settings.XERO["AUTHORIZE_URL"],
        params={
            "response_type": "code",
            "client_id": "someone-else",
            "redirect_uri": REDIRECT_URI,
            "scope": "offline_access",
            "state": "s",
        },
    )
    assert answer.status_code == 400
