"""The one httpx client factory and the one error type every peer client uses.

A peer client (integrations/<peer>) builds its `httpx.Client` with `build_client(...)`, which gives it
explicit timeouts, the portal's user agent, a rate gate consulted before every request and told
about every answer, and request logs with secrets redacted. Non-2xx answers and transport failures
become `PeerError`, which says whether a retry can help, how long the peer asked us to wait and how
many calls the peer says remain. Nothing here imports Django: clients stay plain Python, and the
caller passes the deployment's timeout and user agent in.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, Self, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

logger = logging.getLogger("integrations.http")

DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_USER_AGENT = "O2C-Portal/0.1"
# Connecting should be quick; a slow connect means the peer is down, so it gets a shorter timeout.
MAX_CONNECT_TIMEOUT_SECONDS = 5.0
BODY_KEEP_CHARS = 2000
REDACTED = "[redacted]"

RETRYABLE_STATUSES = frozenset({408, 425, 429})
# Header and query-parameter names whose values are never logged (matched case-insensitively).
_SECRET_NAME = re.compile(
    r"(authorization|token|secret|password|passwd|api[-_]?key|apikey|signature|hmac|cookie|"
    r"^code$|^sig$|^key$|client[-_]?id)",
    re.IGNORECASE,
)
# Named like a secret but harmless, and useful when reading logs.
_NOT_SECRET = frozenset({"idempotency-key", "x-shopify-api-version"})


@dataclass(frozen=True)
class RateInfo:
    """What an answer says about the peer's rate limit."""

    remaining: int | None = None
    retry_after: float | None = None


class PeerError(Exception):
    """A call to a peer did not succeed. `retryable` says whether trying again later can help."""

    def __init__(
        self,
        peer: str,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        remaining: int | None = None,
        status_code: int | None = None,
        body: str = "",
    ) -> None:
        super().__init__(f"{peer}: {message}")
        self.peer = peer
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.remaining = remaining
        self.status_code = status_code
        self.body = body

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(peer={self.peer!r}, status_code={self.status_code!r}, "
            f"retryable={self.retryable!r}, retry_after={self.retry_after!r}, "
            f"message={self.message!r})"
        )

    @classmethod
    def from_response(
        cls,
        peer: str,
        response: httpx.Response,
        *,
        rate_info: RateInfo | Callable[[httpx.Response], RateInfo] | None = None,
    ) -> PeerError:
        """Classify a non-2xx answer: 408/425/429/5xx are retryable, any other status is not.

        `rate_info` is the peer's parsed rate headers, or the parser to read them with
        (default: `default_rate_info`).
        """
        if rate_info is None:
            rate_info = default_rate_info
        info = rate_info(response) if callable(rate_info) else rate_info
        status = response.status_code
        retryable = status in RETRYABLE_STATUSES or status >= 500
        body = response_text(response)
        request = response.request if _has_request(response) else None
        where = f" from {request.method} {redact_url(request.url)}" if request else ""
        snippet = " ".join(body[:300].split())
        return cls(
            peer,
            f"HTTP {status}{where}: {snippet}" if snippet else f"HTTP {status}{where}",
            retryable=retryable,
            retry_after=info.retry_after,
            remaining=info.remaining,
            status_code=status,
            body=body,
        )

    @classmethod
    def from_exception(cls, peer: str, exc: Exception) -> PeerError:
        """Classify a transport failure: timeouts and network errors are retryable."""
        retryable = isinstance(
            exc,
            httpx.TimeoutException
            | httpx.NetworkError
            | httpx.RemoteProtocolError
            | httpx.ProxyError,
        )
        kind = type(exc).__name__
        try:
            request = exc.request if isinstance(exc, httpx.RequestError) else None
        except RuntimeError:  # raised by httpx when the error was built without a request
            request = None
        where = f" on {request.method} {redact_url(request.url)}" if request is not None else ""
        return cls(peer, f"{kind}{where}: {exc}", retryable=retryable)


class BudgetExhausted(PeerError):
    """The rate gate refused a call before it was made: nothing reached the peer.

    The outbox pump treats it as "not now" rather than a failed attempt.
    """

    def __init__(self, peer: str, *, retry_after: float, message: str = "") -> None:
        super().__init__(
            peer,
            message or f"rate budget exhausted; next call in {retry_after:.2f}s",
            retryable=True,
            retry_after=retry_after,
        )


@runtime_checkable
class RateGate(Protocol):
    """A shared rate budget consulted around every request to one peer account."""

    def acquire(self) -> None:
        """Wait (a bounded time) for a call to be allowed, or raise a retryable PeerError."""

    def observe(self, status_code: int, info: RateInfo) -> None:
        """Learn from an answer: the peer's remaining calls, a 429 and its Retry-After."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP date (None if unusable)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def object_at(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The JSON object under `key`; {} when it is absent or not an object (peers send null)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def parse_int(value: str | None) -> int | None:
    """A header's whole number ("42", " 42.0 "); None when absent or not a number."""
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


def default_rate_info(response: httpx.Response) -> RateInfo:
    """Read the common rate headers: Retry-After / x-retry-after and the usual remaining-calls names.

    Peers with their own shapes (Shopify's GraphQL cost, Xero's minute and day limits) pass their
    own parser to `build_client(rate_info=...)`.
    """
    headers = response.headers
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None:
        retry_after = parse_retry_after(headers.get("x-retry-after"))
    remaining = None
    for name in ("x-ratelimit-remaining", "x-remaining-calls", "ratelimit-remaining"):
        remaining = parse_int(headers.get(name))
        if remaining is not None:
            break
    return RateInfo(remaining=remaining, retry_after=retry_after)


def _is_secret_name(name: str) -> bool:
    return name.lower() not in _NOT_SECRET and bool(_SECRET_NAME.search(name))


def redact_headers(headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
    """Headers as a plain dict, with the values of secret-bearing ones replaced."""
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
    return {name: (REDACTED if _is_secret_name(name) else value) for name, value in items}


def redact_url(url: httpx.URL | str) -> str:
    """The URL with user info and secret query parameters (token=, api_key=, code=...) replaced."""
    parts = urlsplit(str(url))
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(name, REDACTED if _is_secret_name(name) else value) for name, value in pairs],
            safe="[]",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# NUL and lone surrogates: valid in JSON strings, refused by PostgreSQL text and jsonb (and UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_clean(value: Any) -> Any:
    """`value` (parsed JSON) with every unstorable character in its strings, keys included,
    replaced by U+FFFD: visible to a person, and never silently matching something else."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {text_clean(key): text_clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [text_clean(item) for item in value]
    return value


def web_url(value: str) -> str:
    """`value` when it is an absolute http(s) URL with a host, else "": a link a peer hands us
    (`javascript:`, `data:`, a bare path) is never stored, rendered as a link or passed on."""
    text = (value or "").strip()
    if any(ord(char) < 0x21 for char in text):  # control characters and spaces hide schemes
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    return text if parts.scheme.lower() in ("http", "https") and parts.hostname else ""


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises RuntimeError when the response was built by hand
    except RuntimeError:
        return False
    return True


def response_text(response: httpx.Response, *, limit: int | None = BODY_KEEP_CHARS) -> str:
    """The answer's text, cut to `limit` characters (None: all of it); "" when it cannot be read."""
    try:
        response.read()
        return response.text[:limit]
    except (httpx.HTTPError, RuntimeError, UnicodeDecodeError):
        return ""


def response_json(peer: str, response: httpx.Response, *, object_only: bool = False) -> Any:
    """The answer's JSON; a body that is not JSON (or not an object) is a retryable PeerError."""
    try:
        body = response.json()
    except ValueError:
        pass
    else:
        if not object_only or isinstance(body, dict):
            return body
    raise PeerError(
        peer,
        f"HTTP {response.status_code} answer is not {'a JSON object' if object_only else 'JSON'}",
        retryable=True,
        status_code=response.status_code,
        body=response_text(response),
    )


def peer_words(response: httpx.Response, pick: Callable[[Any], Iterable[str]]) -> str:
    """A peer's own words from an error body: `pick` reads them from the parsed JSON.

    A body that is not JSON, or in which `pick` finds nothing, gives its plain text instead.
    """
    text = response_text(response, limit=None)
    plain = " ".join(text.split())[:500]
    try:
        body = json.loads(text)
    except ValueError:
        return plain
    return "; ".join(dict.fromkeys(pick(body)))[:1000] or plain


def raise_for_status(
    peer: str,
    response: httpx.Response,
    *,
    rate_info: RateInfo | Callable[[httpx.Response], RateInfo] | None = None,
) -> httpx.Response:
    """Return a 2xx response unchanged; raise the classified PeerError for anything else."""
    if response.is_success:
        return response
    raise PeerError.from_response(peer, response, rate_info=rate_info)


def send(client: httpx.Client, peer: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send one request; a transport failure becomes `PeerError.from_exception`. Any status returns."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise PeerError.from_exception(peer, exc) from exc


def request_classified(
    client: httpx.Client,
    peer: str,
    method: str,
    url: str,
    *,
    rate_info: Callable[[httpx.Response], RateInfo] | None = None,
    error_words: Callable[[httpx.Response], str] | None = None,
    worded_statuses: Collection[int] = (),
    classify: Callable[[httpx.Response], PeerError | None] | None = None,
    passthrough: Collection[int] = (),
    **kwargs: Any,
) -> httpx.Response:
    """Send one request and return a 2xx answer; raise the classified PeerError for anything else.

    In order, for a non-2xx answer: a status in `passthrough` is returned for the caller to read
    (e.g. ShipBob's 422 duplicate); `classify` may name the peer's own error (e.g. Xero's 429);
    a status in `worded_statuses` is a non-retryable PeerError carrying the peer's `error_words`;
    anything else is `PeerError.from_response`. `kwargs` go to `httpx.Client.request`.
    """
    response = send(client, peer, method, url, **kwargs)
    status = response.status_code
    if response.is_success or status in passthrough:
        return response
    if classify is not None and (error := classify(response)) is not None:
        raise error
    parse_rate = rate_info or default_rate_info
    if error_words is not None and status in worded_statuses:
        raise PeerError(
            peer,
            f"HTTP {status} from {response.request.method} {response.request.url.path}: "
            f"{error_words(response)}",
            retryable=False,
            status_code=status,
            remaining=parse_rate(response).remaining,
            body=response_text(response),
        )
    raise PeerError.from_response(peer, response, rate_info=parse_rate)


class PeerClient:
    """Base of a peer client that owns one `http` client: `close()` and use as a context manager."""

    http: httpx.Client

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ObservedTransport(httpx.BaseTransport):
    """Logs transport failures (timeouts, refused connections), which never reach response hooks."""

    def __init__(self, inner: httpx.BaseTransport, peer: str) -> None:
        self.inner = inner
        self.peer = peer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self.inner.handle_request(request)
        except httpx.TransportError as exc:
            started = request.extensions.get("o2c_started", time.monotonic())
            logger.warning(
                "peer=%s %s %s failed after %.0fms: %s",
                self.peer,
                request.method,
                redact_url(request.url),
                (time.monotonic() - started) * 1000,
                type(exc).__name__,
            )
            raise

    def close(self) -> None:
        self.inner.close()


def build_client(
    *,
    peer: str,
    base_url: str,
    headers: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    user_agent: str = DEFAULT_USER_AGENT,
    rate_gate: RateGate | None = None,
    rate_info: Callable[[httpx.Response], RateInfo] | None = None,
    transport: httpx.BaseTransport | None = None,
    auth: httpx.Auth | None = None,
) -> httpx.Client:
    """An httpx client for one peer account: timeouts, user agent, rate gate, redacted logs.

    `timeout` and `user_agent` are the deployment's (the apps pass `settings.HTTP_TIMEOUT_SECONDS`
    and `settings.HTTP_USER_AGENT`); the defaults serve scripts and tests.

    Before each request the gate's `acquire()` runs (it may raise a retryable PeerError, and then
    nothing is sent); after each answer the gate `observe()`s the status and the parsed rate
    headers. The client does not raise on non-2xx: call `raise_for_status(peer, response)`.
    """
    parse_rate = rate_info or default_rate_info

    def before_request(request: httpx.Request) -> None:
        if rate_gate is not None:
            rate_gate.acquire()
        request.extensions["o2c_started"] = time.monotonic()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "peer=%s -> %s %s headers=%s",
                peer,
                request.method,
                redact_url(request.url),
                redact_headers(request.headers),
            )

    def after_response(response: httpx.Response) -> None:
        request = response.request
        started = request.extensions.get("o2c_started", time.monotonic())
        elapsed_ms = (time.monotonic() - started) * 1000
        info = parse_rate(response)
        if rate_gate is not None:
            rate_gate.observe(response.status_code, info)
        logger.info(
            "peer=%s %s %s -> %s in %.0fms remaining=%s retry_after=%s",
            peer,
            request.method,
            redact_url(request.url),
            response.status_code,
            elapsed_ms,
            info.remaining,
            info.retry_after,
        )

    merged_headers = {"User-Agent": user_agent, "Accept": "application/json"}
    merged_headers.update(headers or {})
    return httpx.Client(
        base_url=base_url,
        headers=merged_headers,
        timeout=httpx.Timeout(timeout, connect=min(MAX_CONNECT_TIMEOUT_SECONDS, timeout / 2)),
        transport=_ObservedTransport(transport or httpx.HTTPTransport(), peer),
        auth=auth,
        follow_redirects=False,
        event_hooks={"request": [before_request], "response": [after_response]},
    )
