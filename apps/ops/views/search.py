"""The header's search box, on every page: an order number, an email address or a ticket."""

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from apps.orders.selectors import order_search
from apps.support.models import Ticket
from apps.support.selectors import tickets_search

LIMIT = 20
TICKET = re.compile(r"^(?:ticket\s*|t)#?\s*(\d+)$", re.IGNORECASE)


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """One match opens it; several are listed; what the person may not open is not searched."""
    query = request.GET.get("q", "").strip()[:100]
    orders, tickets = [], []
    if query and request.user.has_perm("orders.view_order"):
        orders = list(order_search(query=query)[: LIMIT + 1])
    if query and request.user.has_perm("support.view_ticket"):
        ticket_id = TICKET.match(query)
        if ticket_id:
            tickets = list(Ticket.objects.filter(pk=int(ticket_id.group(1))))
        else:
            tickets = list(tickets_search(query=query)[: LIMIT + 1])
    if len(orders) + len(tickets) == 1:
        return redirect((orders or tickets)[0])
    context = {
        "q": query,
        "orders": orders[:LIMIT],
        "tickets": tickets[:LIMIT],
        "more": len(orders) > LIMIT or len(tickets) > LIMIT,
    }
    return render(request, "ops/search.html", context)
