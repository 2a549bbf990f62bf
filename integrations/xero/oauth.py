"""Xero OAuth 2.0: the authorize URL, the token endpoint's three grants, and /connections.

Plain Python (no Django). Every token call is `POST {identity_url}/connect/token`, form-encoded,
with the client authenticated by HTTP Basic (client_id:client_secret), as Xero's identity server
expects. Refresh tokens are rotated on every refresh: the caller must store the returned refresh
token in the same transaction that records the refresh (the old one only has a short grace).

Failures are `PeerError`s: `invalid_grant` (an expired, used or revoked code or refresh token) and
`invalid_client` are permanent — the connection must be re-authorised or the app's credentials
fixed; 429 and 5xx are retryable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from integrations.http import (
    DEFAULT_TIMEOUT_SECONDS,
    DEFAULT_USER_AGENT,
    PeerError,
    build_client,
    raise_for_status,
)

PEER = "xero"
# Xero's documented access-token lifetime; used only when an answer omits expires_in.
DEFAULT_EXPIRES_IN_SECONDS = 1800


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str  # "" for a custom connection (client credentials): nothing to refresh
    expires_at: datetime
    scope: str
    token_type: str

    def expires_within(self, seconds: float, *, now: datetime | None = None) -> bool:
        """True when the access token is expired or expires within `seconds` (refresh early)."""
        return (now or datetime.now(UTC)) + timedelta(seconds=seconds) >= self.expires_at


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    tenant_name: str
    tenant_type: str


def authorize_url(
    *, authorize_url: str, client_id: str, redirect_uri: str, state: str, scopes: str
) -> str:
    """Where to send the admin's browser to consent ("Connect to Xero")."""
    if not (authorize_url and client_id and redirect_uri and state and scopes):
        raise ValueError("authorize_url, client_id, redirect_uri, state and scopes are required")
    parts = urlsplit(authorize_url)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes.split()),
            "state": state,
        }
    )
    query = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _token_url(identity_url: str) -> str:
    if not identity_url:
        raise ValueError("Xero IDENTITY_URL is not configured")
    return f"{identity_url.rstrip('/')}/connect/token"


def _oauth_error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("error_description") or "")


def _token_set(response: httpx.Response, *, grant: str) -> TokenSet:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("access_token"):
        raise PeerError(
            PEER,
            f"{grant}: token answer has no access_token",
            retryable=True,
            status_code=response.status_code,
        )
    try:
        expires_in = float(body.get("expires_in") or DEFAULT_EXPIRES_IN_SECONDS)
    except (TypeError, ValueError):
        expires_in = DEFAULT_EXPIRES_IN_SECONDS
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=str(body.get("refresh_token") or ""),
        expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        scope=str(body.get("scope") or ""),
        token_type=str(body.get("token_type") or "Bearer"),
    )


def _token_post(
    *,
    identity_url: str,
    client_id: str,
    client_secret: str,
    form: dict[str, str],
    transport: httpx.BaseTransport | None,
    timeout: float,
    user_agent: str,
) -> TokenSet:
    if not client_id or not client_secret:
        raise ValueError("Xero CLIENT_ID and CLIENT_SECRET are required")
    grant = form["grant_type"]
    url = _token_url(identity_url)
    with build_client(
        peer=PEER,
        base_url="",
        transport=transport,
        timeout=timeout,
        user_agent=user_agent,
        auth=httpx.BasicAuth(client_id, client_secret),
    ) as http:
        try:
            response = http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise PeerError.from_exception(PEER, exc) from exc
    if response.status_code in (400, 401):
        error, description = _oauth_error(response)
        detail = f": {description}" if description else ""
        if error == "invalid_grant":
            what = {
                "refresh_token": "the refresh token is expired, used or revoked; "
                "the Xero connection must be re-authorised (Connect to Xero again)",
                "authorization_code": "the authorization code is expired or already used; "
                "start the connection again",
            }.get(grant, "the grant was refused")
            message = f"{grant}: invalid_grant — {what}{detail}"
        elif error == "invalid_client":
            message = f"{grant}: invalid_client — check XERO_CLIENT_ID / XERO_CLIENT_SECRET{detail}"
        else:
            message = f"{grant}: HTTP {response.status_code} {error or response.text[:200]}{detail}"
        raise PeerError(
            PEER,
            message,
            retryable=False,
            status_code=response.status_code,
            body=response.text[:2000],
        )
    raise_for_status(PEER, response)
    return _token_set(response, grant=grant)


def token_exchange(
    *,
    identity_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    transport: httpx.BaseTransport | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    user_agent: str = DEFAULT_USER_AGENT,
) -> TokenSet:
    """Trade the authorization code from the redirect for the first token set."""
    if not code:
        raise ValueError("code is required")
    return _token_post(
        identity_url=identity_url,
        client_id=client_id,
        client_secret=client_secret,
        form={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        transport=transport,
        timeout=timeout,
        user_agent=user_agent,
    )


def token_refresh(
    *,
    identity_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    transport: httpx.BaseTransport | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    user_agent: str = DEFAULT_USER_AGENT,
) -> TokenSet:
    """A new token set; its refresh_token REPLACES the one given (rotation): store it at once."""
    if not refresh_token:
        raise ValueError("refresh_token is required (a custom connection has none: re-issue)")
    return _token_post(
        identity_url=identity_url,
        client_id=client_id,
        client_secret=client_secret,
        form={"grant_type": "refresh_token", "refresh_token": refresh_token},
        transport=transport,
        timeout=timeout,
        user_agent=user_agent,
    )


def token_client_credentials(
    *,
    identity_url: str,
    client_id: str,
    client_secret: str,
    scopes: str,
    transport: httpx.BaseTransport | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    user_agent: str = DEFAULT_USER_AGENT,
) -> TokenSet:
    """A custom connection's token (one organisation, no refresh token: ask again when expired)."""
    form = {"grant_type": "client_credentials"}
    if scopes.strip():
        form["scope"] = " ".join(scopes.split())
    return _token_post(
        identity_url=identity_url,
        client_id=client_id,
        client_secret=client_secret,
        form=form,
        transport=transport,
        timeout=timeout,
        user_agent=user_agent,
    )


def connections(
    *,
    connections_url: str,
    access_token: str,
    transport: httpx.BaseTransport | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    user_agent: str = DEFAULT_USER_AGENT,
) -> list[Tenant]:
    """The organisations this token may act for (GET /connections)."""
    if not connections_url:
        raise ValueError("Xero CONNECTIONS_URL is not configured")
    with build_client(
        peer=PEER,
        base_url="",
        headers={"Authorization": f"Bearer {access_token}"},
        transport=transport,
        timeout=timeout,
        user_agent=user_agent,
    ) as http:
        try:
            response = http.get(connections_url)
        except httpx.HTTPError as exc:
            raise PeerError.from_exception(PEER, exc) from exc
    raise_for_status(PEER, response)
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        body = None
    if not isinstance(body, list):
        raise PeerError(PEER, "connections answer is not a list", retryable=False)
    tenants = []
    for item in body:
        if isinstance(item, dict) and item.get("tenantId"):
            tenants.append(
                Tenant(
                    tenant_id=str(item["tenantId"]),
                    tenant_name=str(item.get("tenantName") or ""),
                    tenant_type=str(item.get("tenantType") or ""),
                )
            )
    return tenants
