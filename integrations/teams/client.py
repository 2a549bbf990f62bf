"""Post a card to a Teams Workflows webhook URL ("Post to a channel when a webhook request is received").

The URL itself is the credential (it carries a signature): it is never logged whole. 2xx (usually
202) is accepted; 429 and 5xx are retryable; any other status, such as the bare 400 some tenants
answer, is permanent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from integrations.http import (
    DEFAULT_TIMEOUT_SECONDS,
    DEFAULT_USER_AGENT,
    PeerClient,
    RateGate,
    build_client,
    request_classified,
    response_text,
)

PEER = "teams"


@dataclass(frozen=True)
class TeamsAnswer:
    status_code: int
    body: str


class TeamsClient(PeerClient):
    def __init__(
        self,
        *,
        peer: str = PEER,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        user_agent: str = DEFAULT_USER_AGENT,
        rate_gate: RateGate | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.peer = peer
        self.http = build_client(
            peer=peer,
            base_url="",
            headers={"Content-Type": "application/json"},
            timeout=timeout,
            user_agent=user_agent,
            rate_gate=rate_gate,
            transport=transport,
        )

    def post(self, url: str, envelope: dict[str, Any]) -> TeamsAnswer:
        """Post one Workflows envelope; PeerError unless Teams accepted it."""
        if not url:
            raise ValueError("no Teams webhook URL is configured")
        response = request_classified(self.http, self.peer, "POST", url, json=envelope)
        return TeamsAnswer(status_code=response.status_code, body=response_text(response))
