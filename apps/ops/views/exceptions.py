"""The exception queue at /ops/exceptions/: every registered kind in one list, oldest first.

Filter by kind, age and assignee; select rows or every row matching the filter; assign, retry
(after a dry run that lists the requests the retry will send) and resolve with a reason.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.roles import OPS
from apps.ops.selectors import (
    ExceptionFilters,
    exception_counts,
    exception_entries,
    exception_keys,
)
from apps.ops.services import exceptions_assign, exceptions_resolve, exceptions_retry
from apps.sync.exceptions import exception_sources
from apps.web import PAGE_SIZE, choice, render_page

TEMPLATE = "ops/exception_list.html"
PERMISSION = "ops.triage_exception"
AGES = {
    "1h": ("older than an hour", timedelta(hours=1)),
    "4h": ("older than 4 hours", timedelta(hours=4)),
    "24h": ("older than a day", timedelta(days=1)),
    "7d": ("older than a week", timedelta(days=7)),
}


def _filters(request: HttpRequest, params: QueryDict) -> tuple[dict, ExceptionFilters]:
    raw = {
        "kind": choice(params.get("kind"), [s.kind for s in exception_sources()]),
        "age": choice(params.get("age"), AGES),
        "mine": "1" if params.get("mine") == "1" else "",
    }
    return raw, ExceptionFilters(
        kind=raw["kind"],
        older_than=AGES[raw["age"]][1] if raw["age"] else None,
        assignee_id=request.user.pk if raw["mine"] else None,
    )


def _page_number(params: QueryDict) -> int:
    try:
        return max(1, int(params.get("page", "1")))
    except ValueError:
        return 1


def _list_context(request: HttpRequest, params: QueryDict) -> dict:
    raw, filters = _filters(request, params)
    counts = exception_counts(filters)
    total = sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(_page_number(params), pages)
    keys = exception_keys(filters, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    return {
        "rows": exception_entries(keys),
        "filters": raw,
        "counts": counts,
        "total": total,
        "page": {"number": number, "pages": pages},
        "sources": exception_sources(),
        "ages": [(key, label) for key, (label, _) in AGES.items()],
        "assignees": get_user_model().objects.filter(groups__name=OPS, is_active=True),
    }


@vary_on_headers("HX-Request")
@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_GET
def exception_list(request: HttpRequest) -> HttpResponse:
    return render_page(request, TEMPLATE, "exception-table", _list_context(request, request.GET))


def _selected(request: HttpRequest) -> list[tuple[str, int]]:
    """The rows acted on: every row matching the posted filter, or the checked `kind:id` keys."""
    if request.POST.get("scope") == "filter":
        _raw, filters = _filters(request, request.POST)
        return [(kind, pk) for kind, pk, _since in exception_keys(filters)]
    kinds = {s.kind for s in exception_sources()}
    keys = set()
    for value in request.POST.getlist("keys"):
        kind, _, pk = value.partition(":")
        if kind in kinds and pk.isdigit():
            keys.add((kind, int(pk)))
    return sorted(keys)


def _panel(request: HttpRequest, context: dict, *, changed: bool = False) -> HttpResponse:
    response = render(request, f"{TEMPLATE}#action-panel", context)
    if changed:
        # The table listens for this and reloads itself with its current filters.
        response["HX-Trigger"] = "exceptions-changed"
    return response


def _nothing(request: HttpRequest) -> HttpResponse:
    return _panel(
        request, {"error": "Select at least one exception, or every one matching the filter."}
    )


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_POST
def exception_retry_preview(request: HttpRequest) -> HttpResponse:
    """The dry run: what a retry would send to each peer, changing nothing."""
    keys = _selected(request)
    if not keys:
        return _nothing(request)
    report = exceptions_retry(actor=request.user, keys=keys, dry_run=True)
    return _panel(request, {"preview": report, "keys": [f"{k}:{pk}" for k, pk in keys]})


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_POST
def exception_retry(request: HttpRequest) -> HttpResponse:
    keys = _selected(request)
    if not keys:
        return _nothing(request)
    report = exceptions_retry(actor=request.user, keys=keys, dry_run=False)
    return _panel(request, {"retried": report}, changed=True)


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_POST
def exception_resolve(request: HttpRequest) -> HttpResponse:
    keys = _selected(request)
    if not keys:
        return _nothing(request)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        return _panel(request, {"error": "Say why these are resolved: the reason is audited."})
    count = exceptions_resolve(actor=request.user, keys=keys, reason=reason)
    return _panel(request, {"done": f"{count} exception(s) resolved: {reason}"}, changed=True)


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_POST
def exception_assign(request: HttpRequest) -> HttpResponse:
    keys = _selected(request)
    if not keys:
        return _nothing(request)
    assignee = None
    if request.POST.get("assignee", "").isdigit():
        assignee = (
            get_user_model()
            .objects.filter(groups__name=OPS, is_active=True, pk=request.POST["assignee"])
            .first()
        )
        if assignee is None:
            return _panel(request, {"error": "Assign to a member of Ops."})
    elif request.POST.get("assignee"):
        return _panel(request, {"error": "Assign to a member of Ops."})
    count = exceptions_assign(actor=request.user, keys=keys, assignee=assignee)
    who = assignee.email if assignee else "nobody"
    return _panel(request, {"done": f"{count} exception(s) assigned to {who}."}, changed=True)
