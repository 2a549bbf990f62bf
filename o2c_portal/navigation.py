"""The navigation bar: each role sees the pages its permissions open, nothing else."""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # None: every signed-in user


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Home", "home", None),
    NavItem("Alerts", "ops:alert-list", "sync.view_alert"),
    NavItem("Outbox", "ops:outbox-list", "sync.view_outboxmessage"),
    NavItem("Audit", "ops:audit-list", "audit.view_auditevent"),
    NavItem("Admin", "admin:index", "accounts.change_user"),
)


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        {"label": item.label, "url": reverse(item.url_name)}
        for item in NAV_ITEMS
        if item.permission is None or user.has_perm(item.permission)
    ]
    return {"nav_items": items}
