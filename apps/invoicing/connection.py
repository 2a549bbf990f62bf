"""The Xero connection: OAuth2 authorization code (an admin connects) or a custom connection.

Refresh tokens rotate on every refresh, so only one worker refreshes at a time: it claims the
refresh on the connection row (compare-and-set, committed), calls Xero outside any transaction,
and stores the new pair in one transaction that also releases the claim. The others wait for the
claim to clear and use the fresh token; a claim left by a dead worker expires. A worker killed
after Xero rotated but before the store leaves the old refresh token, which Xero honours for a
30-minute grace, so the next refresh still works.
"""

import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.invoicing.crypto import token_decrypt, token_encrypt
from apps.invoicing.models import XeroConnection
from apps.sync.budgets import sync_rate_gate
from apps.sync.clients import client_options
from integrations.http import PeerError
from integrations.xero import oauth
from integrations.xero.client import XeroClient

PEER = "xero"
REFRESH_MARGIN = timedelta(minutes=2)
REFRESH_CLAIM = timedelta(seconds=30)
SESSION_STATE = "xero_oauth_state"


def xero_connection() -> XeroConnection | None:
    return XeroConnection.objects.order_by("pk").first()


def xero_redirect_uri() -> str:
    return f"{settings.O2C_PUBLIC_URL}/invoicing/xero/callback/"


def xero_authorize_start(*, session) -> str:
    """The URL an admin is sent to; the state is kept in their session against forgery."""
    state = secrets.token_urlsafe(24)
    session[SESSION_STATE] = state
    return oauth.authorize_url(
        authorize_url=settings.XERO["AUTHORIZE_URL"],
        client_id=settings.XERO["CLIENT_ID"],
        redirect_uri=xero_redirect_uri(),
        state=state,
        scopes=settings.XERO["SCOPES"],
    )


def _tokens_store(connection: XeroConnection, tokens: oauth.TokenSet) -> None:
    connection.access_token_encrypted = token_encrypt(tokens.access_token)
    if tokens.refresh_token:
        connection.refresh_token_encrypted = token_encrypt(tokens.refresh_token)
    connection.expires_at = tokens.expires_at
    connection.scopes = tokens.scope or connection.scopes
    connection.refreshed_at = timezone.now()
    connection.last_error = ""


def xero_authorize_finish(*, actor, session, code: str, state: str) -> XeroConnection:
    """Exchange the code, pick the organisation from /connections, store the tokens encrypted."""
    expected = session.pop(SESSION_STATE, None)
    if not expected or not secrets.compare_digest(expected, state or ""):
        raise PermissionError("The Xero sign-in did not start here (state mismatch). Try again.")
    config = settings.XERO
    tokens = oauth.token_exchange(
        identity_url=config["IDENTITY_URL"],
        client_id=config["CLIENT_ID"],
        client_secret=config["CLIENT_SECRET"],
        code=code,
        redirect_uri=xero_redirect_uri(),
        **client_options(),
    )
    tenants = oauth.connections(
        connections_url=config["CONNECTIONS_URL"],
        access_token=tokens.access_token,
        **client_options(),
    )
    if not tenants:
        raise PeerError(PEER, "Xero returned no organisation for this connection", retryable=False)
    tenant = tenants[0]
    with transaction.atomic():
        connection = (
            XeroConnection.objects.select_for_update().order_by("pk").first() or XeroConnection()
        )
        connection.kind = XeroConnection.Kind.OAUTH
        connection.tenant_id = tenant.tenant_id
        connection.tenant_name = tenant.tenant_name
        connection.connected_by = actor
        connection.connected_at = timezone.now()
        _tokens_store(connection, tokens)
        connection.save()
        audit_record(
            actor=actor,
            verb=verbs.XERO_CONNECTED,
            target=connection,
            data={"tenant": tenant.tenant_name},
        )
    return connection


def _token_fetch(connection: XeroConnection) -> oauth.TokenSet:
    config = settings.XERO
    if connection.kind == XeroConnection.Kind.CUSTOM:
        return oauth.token_client_credentials(
            identity_url=config["IDENTITY_URL"],
            client_id=config["CLIENT_ID"],
            client_secret=config["CLIENT_SECRET"],
            scopes=config["SCOPES"].replace("offline_access", "").strip(),
            **client_options(),
        )
    refresh = token_decrypt(connection.refresh_token_encrypted)
    if not refresh:
        raise PeerError(PEER, "Xero must be re-connected (no refresh token)", retryable=False)
    return oauth.token_refresh(
        identity_url=config["IDENTITY_URL"],
        client_id=config["CLIENT_ID"],
        client_secret=config["CLIENT_SECRET"],
        refresh_token=refresh,
        **client_options(),
    )


def _connection_row() -> XeroConnection:
    connection = xero_connection()
    if connection is not None:
        return connection
    if settings.XERO["CONNECTION"] != XeroConnection.Kind.CUSTOM:
        raise PeerError(
            PEER,
            "Xero is not connected: an admin must connect it first",
            retryable=True,
            retry_after=300,
        )
    connection, _ = XeroConnection.objects.get_or_create(
        pk=1, defaults={"kind": XeroConnection.Kind.CUSTOM, "tenant_name": "Custom connection"}
    )
    return connection


def xero_access(*, wait_seconds: float = 20.0) -> tuple[str, str | None]:
    """A valid access token and the tenant id to send (None for a custom connection)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        connection = _connection_row()
        token = token_decrypt(connection.access_token_encrypted)
        now = timezone.now()
        if token and connection.expires_at and connection.expires_at - REFRESH_MARGIN > now:
            return token, connection.tenant_id or None
        claimed = (
            XeroConnection.objects.filter(pk=connection.pk)
            .filter(Q(refreshing_until__isnull=True) | Q(refreshing_until__lt=now))
            .update(refreshing_until=now + REFRESH_CLAIM)
        )
        if claimed:
            break
        if time.monotonic() > deadline:
            raise PeerError(
                PEER,
                "another worker is still refreshing the Xero token",
                retryable=True,
                retry_after=5,
            )
        time.sleep(0.2)
    try:
        tokens = _token_fetch(connection)
    except PeerError as error:
        XeroConnection.objects.filter(pk=connection.pk).update(
            refreshing_until=None, last_error=error.message
        )
        raise
    with transaction.atomic():
        connection = XeroConnection.objects.select_for_update().get(pk=connection.pk)
        _tokens_store(connection, tokens)
        connection.refreshing_until = None
        connection.save()
    return tokens.access_token, connection.tenant_id or None


def xero_client() -> XeroClient:
    token, tenant = xero_access()
    return XeroClient(
        api_url=settings.XERO["API_URL"],
        access_token=token,
        tenant_id=tenant,
        rate_gate=sync_rate_gate(PEER),
        **client_options(),
    )


def xero_call_recorded(*, day_remaining: int | None, minute_remaining: int | None) -> None:
    """The status panel's figures: when we last called Xero and what it said remains."""
    XeroConnection.objects.update(
        last_call_at=timezone.now(), day_remaining=day_remaining, minute_remaining=minute_remaining
    )
