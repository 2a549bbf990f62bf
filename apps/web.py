"""View helpers shared by every app's pages: partial rendering, pagination, selected ids, and the
read-only admin."""

from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django_htmx.http import HttpResponseClientRedirect

PAGE_SIZE = 50
# A list counts at most this many rows: counting a million orders on every page costs a full scan
# (~1 s); past the cap the pager says "more than 10,000" and a filter or search narrows it.
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        rows = self.object_list.order_by().values("pk")[: COUNT_CAP + 1]
        return rows.count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


def htmx_partial(request: HttpRequest) -> bool:
    """An htmx request that wants a region, not a boosted full-page navigation."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict, *, status: int = 200
) -> HttpResponse:
    """The whole page, or only its `partial` region when htmx asks for it."""
    name = f"{template}#{partial}" if htmx_partial(request) else template
    return render(request, name, context, status=status)


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int = PAGE_SIZE) -> Page:
    return CappedPaginator(queryset, per_page).get_page(request.GET.get("page"))


def selected_ids(request: HttpRequest) -> list[int]:
    """The checked rows of a list (`ids` repeated); anything that is not a number is ignored."""
    ids = []
    for value in request.POST.getlist("ids"):
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return sorted(set(ids))


def choice(value: str | None, allowed) -> str:
    """A filter value from the query string, kept only if it is one of the allowed ones."""
    return value if value in allowed else ""


def redirect_after_post(request: HttpRequest, to) -> HttpResponse:
    """After a successful POST: htmx follows an HX-Redirect (a 200); a plain form gets a 302."""
    url = resolve_url(to)
    if getattr(request, "htmx", None):
        return HttpResponseClientRedirect(url)
    return redirect(url)


class ReadOnlyAdminMixin:
    """An admin page that shows rows and never adds, changes or deletes them: the services do
    (audit rows are append-only; sync rows change through replay and the pumps). Put it before
    `admin.ModelAdmin` in the bases."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def humanize_value(value) -> str:
    """A stored code as words: `partially_refunded` → "Partially refunded", `order_create` → "Order create"."""
    text = str(value or "").replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]
