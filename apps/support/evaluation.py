"""The guardrails corpus end to end: each case's reply comes back from the stand-in model through
the real openai client over a real socket, then both layers (deterministic and the model's second
opinion, verified by code) judge it — the path a production draft takes, minus the database rows.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import CommandError
from django.core.servers.basehttp import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_internal_wsgi_application,
)

from apps.support.drafting import draft_review
from apps.support.prompts import SYSTEM, prompt_render
from integrations.llm.drafter import ReplyDrafter


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        return


@contextmanager
def standin_server():
    """The portal (with the sandbox peers) on an ephemeral local port, in a thread."""
    if not settings.O2C_SANDBOX:
        raise CommandError("--e2e needs the stand-in model: run with O2C_SANDBOX=1.")
    server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=True)
    server.set_app(get_internal_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def corpus_run_through_model(*, context: dict, cases: list[dict], link_allowlist) -> dict:
    """{case id: flag codes} for every case, through the model and both layers."""
    flagged = {}
    for name in ("integrations.llm", "httpx2"):  # one line per call otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    brand = context.get("brand") or {}
    system = SYSTEM.format(
        brand_name="the brand",
        tone=brand.get("tone", ""),
        use_phrases=", ".join(brand.get("use_phrases") or ()) or "(none)",
        avoid_phrases=", ".join(brand.get("avoid_phrases") or ()) or "(none)",
        sign_off=brand.get("sign_off", ""),
    )
    with (
        standin_server() as url,
        ReplyDrafter(
            base_url=f"{url}/sandbox/openai/v1",
            api_key=settings.AZURE_OPENAI["API_KEY"],
            deployment=settings.AZURE_OPENAI["DEPLOYMENT"],
            timeout=30.0,
            max_retries=0,
        ) as drafter,
    ):
        for case in cases:
            # The stand-in says the case's reply, as a model that obeyed the customer would.
            scripted = f"[[sandbox:say]]{case['reply']}[[/sandbox:say]]"
            entries = [{"from": "customer", "at": "2026-11-24 09:12", "text": scripted}]
            user = prompt_render(context=context, subject="My order", entries=entries)
            result = drafter.draft(system=system, user=user)
            flags, _claims, _raw = draft_review(
                result=result, context=context, drafter=drafter, link_allowlist=link_allowlist
            )
            flagged[case["id"]] = [flag.code for flag in flags]
    return flagged
