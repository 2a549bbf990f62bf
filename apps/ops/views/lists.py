"""What the outbox and receipts pages share: a filtered, paginated list with a replay panel."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from apps.web import htmx_partial, paginate, render_page


@dataclass(frozen=True)
class ReplayableList:
    """One list page: its rows, its filters (field = value), the choices its form offers, and the
    replay panel whose success reloads the table (htmx hears `changed_event` from HX-Trigger)."""

    template: str
    table_partial: str
    changed_event: str
    rows: Callable[[], QuerySet]
    filters: Callable[[Mapping[str, str]], dict[str, str]]
    choices: Callable[[], dict[str, Any]]

    def context(self, request: HttpRequest, params: Mapping[str, str]) -> dict[str, Any]:
        """The page of rows narrowed by every filter that has a value, and the form's state."""
        filters = self.filters(params)
        rows = self.rows()
        for field, value in filters.items():
            if value:
                rows = rows.filter(**{field: value})
        return {"page_obj": paginate(request, rows), "filters": filters, **self.choices()}

    def list_view(self, permission: str) -> Callable[[HttpRequest], HttpResponse]:
        """The list page (whole, or its table for htmx), for holders of `permission`."""

        @vary_on_headers("HX-Request")
        @login_required
        @permission_required(permission, raise_exception=True)
        @require_GET
        def view(request: HttpRequest) -> HttpResponse:
            context = self.context(request, request.GET)
            return render_page(request, self.template, self.table_partial, context)

        return view

    def replay_panel(self, request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
        """The panel alone for htmx; for a plain form post, the list (as filtered) with the panel."""
        if htmx_partial(request):
            response = render(request, f"{self.template}#replay-panel", context)
        else:
            response = render(
                request, self.template, {**self.context(request, request.POST), **context}
            )
        if context.get("replayed") is not None:
            response["HX-Trigger"] = self.changed_event
        return response
