"""`@sandbox_faults(peer)`: the fault injection every sandbox stand-in view wears.

Order per call, when the peer's faults are enabled: extra latency → a 429 from the burst counter →
a random 500/503 → a random stall past the client's timeout (after which the view still runs, so the
peer did the work and the client never heard: the case idempotency keys exist for).
Random choices come from one RNG per peer; `fault_rng_seed` makes a run repeatable.
"""

import functools
import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from django.db.models import F
from django.http import HttpResponse, JsonResponse

from apps.sandbox.models import SandboxFault

FaultKind = Literal["pass", "throttle", "error", "timeout"]

_rngs: dict[str, random.Random] = {}
_rngs_lock = threading.Lock()
# Stand-in for time.sleep so a test can watch the stalls without waiting them out.
sleep: Callable[[float], None] = time.sleep


def fault_rng_seed(*, seed: int | None, peer: str | None = None) -> None:
    """Re-seed one peer's RNG (or every peer's): the same seed and calls give the same faults."""
    with _rngs_lock:
        peers = [peer] if peer else list(SandboxFault.Peer.values)
        for name in peers:
            _rngs[name] = random.Random(seed)


def _rng(peer: str) -> random.Random:
    with _rngs_lock:
        return _rngs.setdefault(peer, random.Random())


def fault_get(*, peer: str) -> SandboxFault:
    """The peer's fault row, or an unsaved all-off default when none was configured yet."""
    return SandboxFault.objects.filter(peer=peer).first() or SandboxFault(peer=peer)


@dataclass(frozen=True)
class FaultDecision:
    kind: FaultKind
    status: int = 200
    retry_after_seconds: int = 0
    stall_seconds: float = 0.0


def _burst_take(fault: SandboxFault) -> bool:
    """Take one call from the 429 burst; a conditional UPDATE so concurrent calls never overdraw it."""
    taken = SandboxFault.objects.filter(pk=fault.pk, burst_429__gt=0).update(
        burst_429=F("burst_429") - 1, throttles_injected=F("throttles_injected") + 1
    )
    return taken == 1


def fault_decide(*, peer: str, error_statuses: Sequence[int] = (500, 503)) -> FaultDecision:
    """Apply the latency and decide this call's fault (counters are updated here)."""
    fault = fault_get(peer=peer)
    if not fault.enabled or fault.pk is None:
        return FaultDecision("pass")
    if fault.extra_latency_ms:
        sleep(fault.extra_latency_ms / 1000)
    if fault.burst_429 and _burst_take(fault):
        return FaultDecision("throttle", 429, retry_after_seconds=fault.retry_after_seconds)
    rng = _rng(peer)
    # Always draw both numbers, so one rate's setting does not shift the other's sequence.
    error_draw, timeout_draw = rng.random(), rng.random()
    if error_draw < fault.error_rate:
        SandboxFault.objects.filter(pk=fault.pk).update(errors_injected=F("errors_injected") + 1)
        return FaultDecision("error", rng.choice(list(error_statuses)))
    if timeout_draw < fault.timeout_rate:
        SandboxFault.objects.filter(pk=fault.pk).update(
            timeouts_injected=F("timeouts_injected") + 1
        )
        return FaultDecision("timeout", stall_seconds=fault.timeout_seconds)
    return FaultDecision("pass")


def sandbox_faults(
    peer: str,
    *,
    retry_after_headers: Sequence[str] = ("Retry-After",),
    throttle_headers: Mapping[str, str] | None = None,
    error_statuses: Sequence[int] = (500, 503),
    throttle_body: Callable[[FaultDecision], HttpResponse] | None = None,
) -> Callable:
    """Decorate a stand-in view of `peer` with its configured faults.

    retry_after_headers: the peer's names for the wait (ShipBob: ("x-retry-after",)).
    throttle_headers: extra fixed headers on a 429 (Xero: {"X-Rate-Limit-Problem": "minute"}).
    throttle_body: build the whole throttled answer instead (e.g. a peer that throttles with a 200).
    """
    if peer not in SandboxFault.Peer.values:
        raise ValueError(f"unknown sandbox peer {peer!r}")

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            decision = fault_decide(peer=peer, error_statuses=error_statuses)
            if decision.kind == "throttle":
                if throttle_body is not None:
                    return throttle_body(decision)
                response = JsonResponse(
                    {"errors": "sandbox fault: rate limited", "peer": peer}, status=429
                )
                for name in retry_after_headers:
                    response[name] = str(decision.retry_after_seconds)
                for name, value in (throttle_headers or {}).items():
                    response[name] = value
                return response
            if decision.kind == "error":
                body = json.dumps({"errors": f"sandbox fault: injected {decision.status}"})
                return HttpResponse(body, status=decision.status, content_type="application/json")
            if decision.kind == "timeout":
                sleep(decision.stall_seconds)
            return view(request, *args, **kwargs)

        wrapper.sandbox_peer = peer
        return wrapper

    return decorator
