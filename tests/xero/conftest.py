"""The Xero stand-in on a live server, with settings.XERO aimed at it, and connected clients."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from integrations.xero.client import XeroClient, contact_body
from integrations.xero.oauth import (
    authorize_url,
    connections,
    token_client_credentials,
    token_exchange,
)

CLIENT_ID = "test-xero-client"
CLIENT_SECRET = "test-xero-secret"  # noqa: S105 - a test value
REDIRECT_URI = "https://portal.example.com/xero/callback"
SCOPES = "offline_access accounting.invoices accounting.contacts accounting.settings.read"


@pytest.fixture
def xero_live(live_server, settings):
    base = f"{live_server.url}/sandbox/xero"
    settings.XERO = {
        **settings.XERO,
        "API_URL": f"{base}/api.xro/2.0",
        "IDENTITY_URL": f"{base}/identity",
        "AUTHORIZE_URL": f"{base}/login/authorize",
        "CONNECTIONS_URL": f"{base}/connections",
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
    }
    settings.SANDBOX_XERO = {
        **settings.SANDBOX_XERO,
        "MINUTE_LIMIT": 1000,
        "DAY_LIMIT": 10000,
        "CONCURRENT_LIMIT": 5,
    }
    return live_server


def authorize_code(settings, *, state: str = "st-1", redirect_uri: str = REDIRECT_URI) -> str:
    """Follow "Connect to Xero": the stand-in approves and redirects back with a code."""
    url = authorize_url(
        authorize_url=settings.XERO["AUTHORIZE_URL"],
        client_id=settings.XERO["CLIENT_ID"],
        redirect_uri=redirect_uri,
        state=state,
        scopes=SCOPES,
    )
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


@pytest.fixture
def oauth_tokens(xero_live, settings):
    code = authorize_code(settings)
    return token_exchange(
        identity_url=settings.XERO["IDENTITY_URL"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        code=code,
        redirect_uri=REDIRECT_URI,
    )


@pytest.fixture
def tenant_id(oauth_tokens, settings):
    tenants = connections(
        connections_url=settings.XERO["CONNECTIONS_URL"], access_token=oauth_tokens.access_token
    )
    assert len(tenants) == 1
    return tenants[0].tenant_id


@pytest.fixture
def xero(oauth_tokens, tenant_id, settings):
    client = XeroClient(
        api_url=settings.XERO["API_URL"],
        access_token=oauth_tokens.access_token,
        tenant_id=tenant_id,
    )
    yield client
    client.close()


@pytest.fixture
def custom_xero(xero_live, settings):
    tokens = token_client_credentials(
        identity_url=settings.XERO["IDENTITY_URL"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes="accounting.invoices accounting.contacts",
    )
    client = XeroClient(
        api_url=settings.XERO["API_URL"], access_token=tokens.access_token, tenant_id=None
    )
    yield client
    client.close()


@pytest.fixture
def contact_ids(xero):
    """Two customers created through the client: ContactNumber → ContactID."""
    results = xero.contacts_put(
        [
            contact_body(contact_number="cust-1", name="Ada Lovelace", email="ada@example.com"),
            contact_body(contact_number="cust-2", name="Alan Turing", email="alan@example.com"),
        ],
        idempotency_key="contacts-fixture",
    )
    assert all(r.contact_id for r in results), results
    return {r.contact_number: r.contact_id for r in results}
