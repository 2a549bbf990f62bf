"""The navigation bar: each role sees the pages its permissions open, nothing else.

A later issue that adds a page adds one NavItem here (with the permission its view checks) and a row
to tests/test_role_matrix.py.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # None: every signed-in user
    description: str = ""
    staff_only: bool = False  # Django's admin site also wants is_staff


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Home", "home", None),
    NavItem(
        "Dashboard",
        "ops:dashboard",
        "ops.view_dashboard",
        "The pipeline, peers, health and alerts, live.",
    ),
    NavItem(
        "Exceptions",
        "ops:exception-list",
        "ops.triage_exception",
        "Everything stuck in one queue: assign, retry after a dry run, resolve.",
    ),
    NavItem(
        "Orders",
        "orders:list",
        "orders.view_order",
        "Every Shopify order, its status and its timeline.",
    ),
    NavItem(
        "Holds",
        "orders:hold-list",
        "orders.release_hold",
        "Orders that cannot go on until a mapping or address is fixed.",
    ),
    NavItem(
        "Inventory",
        "inventory:list",
        "inventory.view_variantstock",
        "Warehouse stock, what Shopify shows, sell-out warnings and drift.",
    ),
    NavItem(
        "Invoices",
        "invoicing:list",
        "invoicing.view_invoicedraft",
        "Invoice drafts from shipments: approve for Xero, reject, reconcile.",
    ),
    NavItem(
        "Tickets",
        "support:ticket-list",
        "support.view_ticket",
        "Customer tickets and AI reply drafts: review, edit, approve and send.",
    ),
    NavItem(
        "Alerts", "ops:alert-list", "sync.view_alert", "What needs a person: acknowledge, resolve."
    ),
    NavItem(
        "Outbox",
        "ops:outbox-list",
        "sync.view_outboxmessage",
        "Writes to Shopify, the warehouse and Xero; dry run and replay dead ones.",
    ),
    NavItem(
        "Receipts",
        "ops:receipt-list",
        "sync.view_webhookreceipt",
        "Webhooks received, raw bodies, failures; replay failed ones.",
    ),
    NavItem("Audit", "ops:audit-list", "audit.view_auditevent", "Who did what, when."),
    NavItem(
        "Xero",
        "invoicing:xero",
        "invoicing.connect_xero",
        "The Xero connection: organisation, token, remaining calls; connect.",
    ),
    NavItem(
        "Sandbox",
        "sandbox:index",
        "sandbox.change_sandboxfault",
        "The local stand-in peers and their fault injection (demo and tests only).",
    ),
    NavItem(
        "Mailbox",
        "sandbox:mailbox",
        "sandbox.view_sandboxmail",
        "What customers received: the emails the portal sent (demo and tests only).",
    ),
    NavItem(
        "Admin",
        "admin:index",
        "accounts.change_user",
        "Users, roles and the tables behind the portal.",
        staff_only=True,
    ),
)


def nav_items_for(user) -> list[NavItem]:
    """The items this user may open, in menu order."""
    if user is None or not user.is_authenticated:
        return []
    return [
        item
        for item in NAV_ITEMS
        if (item.permission is None or user.has_perm(item.permission))
        and (not item.staff_only or user.is_staff)
    ]


def navigation(request: HttpRequest) -> dict:
    """Template context: `nav_items`, each with its URL and whether it is the current section."""
    items = []
    for item in nav_items_for(getattr(request, "user", None)):
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # the sandbox's pages exist only when the sandbox is installed
            continue
        items.append({"label": item.label, "url": url, "description": item.description})
    # The current section is the longest URL the path starts with (/orders/holds/ beats /orders/).
    matches = [
        item["url"]
        for item in items
        if request.path == item["url"]
        or (item["url"] != "/" and request.path.startswith(item["url"]))
    ]
    current = max(matches, key=len, default=None)
    for item in items:
        item["current"] = item["url"] == current
    return {"nav_items": items}
