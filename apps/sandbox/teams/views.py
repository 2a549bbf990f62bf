"""The Teams Workflows stand-in under /sandbox/teams/.

`POST workflows/<name>`: fault injection (SandboxFault "teams"), then ~4 requests/s per URL (more
answer 429 with Retry-After), then the behaviour switch (bare 400, 503, a stall), then the checks a
flow makes of the body: the Workflows envelope, Adaptive Card schema and version 1.4, ≤ 28 KB. A
valid message answers 202 with an empty body, as Workflows does; an invalid one answers 400 here
(the real service says 202 and fails later, which is exactly why the client validates first).
Every request is kept, and `/sandbox/teams/` shows the received cards, newest first.
"""

import threading
import time
from collections import defaultdict, deque

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.sandbox import faults
from apps.sandbox.faults import sandbox_faults
from apps.sandbox.teams.models import SandboxTeamsBehaviour, SandboxTeamsPost
from apps.sandbox.views import FAULT_PERMISSION
from integrations.teams.cards import CardRefused, envelope_check

Mode = SandboxTeamsBehaviour.Mode
REQUESTS_PER_SECOND = 4
WINDOW_SECONDS = 1.0

_recent: dict[str, deque] = defaultdict(deque)
_recent_lock = threading.Lock()


def _throttled(workflow: str) -> bool:
    """More than REQUESTS_PER_SECOND to one URL within a second (a sliding window, per process)."""
    # The wall clock, as Teams counts: a test that moves time (time-machine) moves this window too,
    # so a simulated hour of pump runs is not a burst. A clock set back drops what is now "ahead".
    now = time.time()
    with _recent_lock:
        window = _recent[workflow]
        while window and not 0 <= now - window[0] <= WINDOW_SECONDS:
            window.popleft()
        if len(window) >= REQUESTS_PER_SECOND:
            return True
        window.append(now)
        return False


def behaviour_get() -> SandboxTeamsBehaviour:
    return SandboxTeamsBehaviour.objects.filter(pk=SandboxTeamsBehaviour.SINGLETON_ID).first() or (
        SandboxTeamsBehaviour()
    )


def behaviour_set(*, mode: str) -> SandboxTeamsBehaviour:
    behaviour, _ = SandboxTeamsBehaviour.objects.update_or_create(
        pk=SandboxTeamsBehaviour.SINGLETON_ID, defaults={"mode": mode}
    )
    return behaviour


def _answer(
    workflow: str, status: int, *, error: str = "", size: int = 0, cards=()
) -> HttpResponse:
    SandboxTeamsPost.objects.create(
        workflow=workflow, status_code=status, error=error, size=size, cards=list(cards)
    )
    return HttpResponse(error if status != 202 else b"", status=status, content_type="text/plain")


@csrf_exempt
@require_http_methods(["POST"])
@sandbox_faults("teams")
def workflow_post(request: HttpRequest, workflow: str) -> HttpResponse:
    if _throttled(workflow):
        response = _answer(workflow, 429, error="Too many requests to this workflow")
        response["Retry-After"] = "1"
        return response
    behaviour = behaviour_get()
    if behaviour.mode == Mode.BARE_400:
        SandboxTeamsPost.objects.create(workflow=workflow, status_code=400, error="(bare 400)")
        return HttpResponse(status=400)
    if behaviour.mode == Mode.SERVER_ERROR:
        return _answer(workflow, 503, error="Service unavailable")
    if behaviour.mode == Mode.TIMEOUT:
        faults.sleep(behaviour.timeout_seconds)
    body = request.body
    try:
        cards = envelope_check(body)
    except CardRefused as error:
        return _answer(workflow, 400, error=str(error), size=len(body))
    return _answer(workflow, 202, size=len(body), cards=cards)


@login_required
@permission_required(FAULT_PERMISSION, raise_exception=True)
@require_http_methods(["GET"])
def received_list(request: HttpRequest) -> HttpResponse:
    """The channel as a person sees it: the received cards, newest first, and the switch."""
    return render(
        request,
        "sandbox_teams/sandboxteamspost_list.html",
        {
            "posts": SandboxTeamsPost.objects.all()[:100],
            "behaviour": behaviour_get(),
            "modes": Mode.choices,
        },
    )


@login_required
@permission_required(FAULT_PERMISSION, raise_exception=True)
@require_http_methods(["POST"])
def behaviour_update(request: HttpRequest) -> HttpResponse:
    mode = request.POST.get("mode", "")
    if mode not in Mode.values:
        messages.error(request, "Pick one of the modes.")
    else:
        behaviour = behaviour_set(mode=mode)
        messages.success(request, f"Teams stand-in: {behaviour.get_mode_display()}.")
    return redirect("sandbox:sandbox_teams:received")
