"""The role matrix: every page of the portal, for every role and an anonymous visitor.

Every URL pattern in the project (walked from the resolver) must have a row here stating who gets
200, who gets 403, and that anonymous visitors are sent to sign in. A page added without a row, or
without the permission check its row claims, fails this suite.

The superuser persona is in no group: it holds every permission, so it gets 200 on every row
unless the row says otherwise, and it must pass MFA like everyone who can approve or administer.

Not walked here: allauth's /accounts/ (tests/accounts), /admin/ (tested below: staff only, and
its sign-in form closed in favour of allauth's), /static/, /sandbox/ (the stand-in peers, demo and
tests only), /webhooks/ (signed, not signed-in), /healthz (for load balancers) and /metrics (a bearer
token or an allow-list: tests/ops/test_metrics.py).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.inventory.models import DriftReport
from apps.ops.alerting import alert_ack_token
from tests.factories import PASSWORD
from tests.invoicing.factories import credit_note, invoice_draft
from tests.ops.factories import AlertFactory, OutboxMessageFactory, WebhookReceiptFactory
from tests.orders.factories import OrderFactory, order_with_line
from tests.support.factories import ticket_with_draft

pytestmark = pytest.mark.django_db

PERSONAS = ("ops", "support", "finance", "admin", "outsider", "anonymous", "superuser")
EXCLUDED_PREFIXES = (
    "accounts/",
    "admin/",
    "static/",
    "sandbox/",
    "webhooks/",
    "healthz",
    "metrics",
)
HX = {"HTTP_HX_REQUEST": "true"}


def expect(
    ops: int,
    support: int,
    finance: int,
    admin: int,
    outsider: int,
    anonymous: int,
    *,
    superuser: int = 200,
):
    statuses = (ops, support, finance, admin, outsider, anonymous, superuser)
    return dict(zip(PERSONAS, statuses, strict=True))


@dataclass(frozen=True)
class Route:
    permission: str | None  # what the view checks; None: any signed-in user
    expected: dict[str, int]  # persona → status of the route's method (GET, or POST if POST-only)
    method: str = "GET"  # "POST": a GET answers 405 to the allowed and the same denial to others
    kwargs: Callable[[], dict] = field(default=dict)  # creates the objects the URL needs
    data: Callable[[], dict] = field(default=dict)  # creates the objects a POST acts on


# fmt: off
MATRIX: dict[str, Route] = {
    #                                                      ops  supp  fin  admin outs anon
    "home": Route(None,                             expect(200, 200, 200, 200, 200, 302)),
    "ops:alert-list": Route("sync.view_alert",      expect(200, 403, 403, 200, 403, 302)),
    "ops:alert-acknowledge": Route(
        "sync.change_alert",                        expect(200, 403, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": AlertFactory().pk},
    ),
    "ops:alert-resolve": Route(
        "sync.change_alert",                        expect(200, 403, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": AlertFactory().pk},
    ),
    "ops:alert-bulk": Route(
        "sync.change_alert",                        expect(200, 403, 403, 403, 403, 302),
        method="POST", data=lambda: {"action": "acknowledge", "ids": [AlertFactory().pk]},
    ),
    "ops:alert-ack-link": Route(
        "sync.change_alert",                        expect(200, 403, 403, 403, 403, 302),
        kwargs=lambda: {"token": alert_ack_token(AlertFactory())},
    ),
    "ops:teams-test-card": Route(
        "sync.change_alert",                        expect(200, 403, 403, 403, 403, 302),
        method="POST",
    ),
    "ops:runbook": Route(None,                      expect(200, 200, 200, 200, 200, 302)),
    "ops:outbox-list": Route("sync.view_outboxmessage", expect(200, 403, 403, 403, 403, 302)),
    "ops:outbox-detail": Route(
        "sync.view_outboxmessage",                  expect(200, 403, 403, 403, 403, 302),
        kwargs=lambda: {"pk": OutboxMessageFactory(dead=True).pk},
    ),
    "ops:outbox-replay-preview": Route(
        "sync.view_outboxmessage",                  expect(200, 403, 403, 403, 403, 302),
        method="POST", data=lambda: {"ids": [OutboxMessageFactory(dead=True).pk]},
    ),
    "ops:outbox-replay": Route(
        "sync.replay_outboxmessage",                expect(200, 403, 403, 403, 403, 302),
        method="POST", data=lambda: {"ids": [OutboxMessageFactory(dead=True).pk]},
    ),
    "ops:receipt-list": Route("sync.view_webhookreceipt", expect(200, 403, 403, 403, 403, 302)),
    "ops:receipt-detail": Route(
        "sync.view_webhookreceipt",                 expect(200, 403, 403, 403, 403, 302),
        kwargs=lambda: {"pk": WebhookReceiptFactory(failed=True).pk},
    ),
    "ops:receipt-replay": Route(
        "sync.replay_webhookreceipt",               expect(200, 403, 403, 403, 403, 302),
        method="POST", data=lambda: {"ids": [WebhookReceiptFactory(failed=True).pk]},
    ),
    "ops:audit-list": Route("audit.view_auditevent", expect(200, 403, 403, 200, 403, 302)),
    "ops:dashboard": Route("ops.view_dashboard",     expect(200, 403, 403, 200, 403, 302)),
    "ops:dashboard-tile": Route(
        "ops.view_dashboard",                       expect(200, 403, 403, 200, 403, 302),
        kwargs=lambda: {"tile": "pipeline"},
    ),
    "ops:exception-list": Route("ops.triage_exception", expect(200, 403, 403, 403, 403, 302)),
    "ops:exception-retry-preview": Route(
        "ops.triage_exception",                     expect(200, 403, 403, 403, 403, 302),
        method="POST", data=lambda: {"keys": [f"outbox_dead:{OutboxMessageFactory(dead=True).pk}"]},
    ),
    "ops:exception-retry": Route(
        "ops.triage_exception",                     expect(200, 403, 403, 403, 403, 302),
        method="POST", data=lambda: {"keys": [f"outbox_dead:{OutboxMessageFactory(dead=True).pk}"]},
    ),
    "ops:exception-resolve": Route(
        "ops.triage_exception",                     expect(200, 403, 403, 403, 403, 302),
        method="POST",
        data=lambda: {
            "keys": [f"outbox_dead:{OutboxMessageFactory(dead=True).pk}"], "reason": "Duplicate",
        },
    ),
    "ops:exception-assign": Route(
        "ops.triage_exception",                     expect(200, 403, 403, 403, 403, 302),
        method="POST", data=lambda: {"keys": [f"outbox_dead:{OutboxMessageFactory(dead=True).pk}"]},
    ),
    "search": Route(None,                           expect(200, 200, 200, 200, 200, 302)),
    "time-zone": Route(
        None,                                       expect(200, 200, 200, 200, 200, 302),
        method="POST", data=lambda: {"time_zone": "Europe/London"},
    ),
    "orders:list": Route("orders.view_order",       expect(200, 200, 200, 200, 403, 302)),
    "orders:detail": Route(
        "orders.view_order",                        expect(200, 200, 200, 200, 403, 302),
        kwargs=lambda: {"pk": order_with_line(sku="SKU-1").pk},
    ),
    "orders:release": Route(
        "orders.release_hold",                      expect(200, 403, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": order_with_line(sku="SKU-1").pk},
    ),
    "orders:hold-list": Route("orders.view_order",  expect(200, 200, 200, 200, 403, 302)),
    "orders:hold-release": Route(
        "orders.release_hold",                      expect(200, 403, 403, 403, 403, 302),
        method="POST", data=lambda: {"ids": [order_with_line(sku="SKU-1").pk]},
    ),
    "inventory:list": Route("inventory.view_variantstock", expect(200, 200, 200, 200, 403, 302)),
    "inventory:export": Route("inventory.view_variantstock", expect(200, 200, 200, 200, 403, 302)),
    "inventory:drift-report-run": Route(
        "inventory.run_driftreport",                expect(200, 403, 403, 200, 403, 302),
        method="POST",
    ),
    "inventory:drift-report": Route(
        "inventory.view_variantstock",              expect(200, 200, 200, 200, 403, 302),
        kwargs=lambda: {"pk": DriftReport.objects.create(trigger="nightly").pk},
    ),
    "orders:line-handle": Route(
        "orders.release_hold",                      expect(200, 403, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": order_with_line(sku=None).lines.get().pk},
        data=lambda: {"handling": "not_shipped", "reason": "gift wrap"},
    ),
    "orders:line-title-map": Route(
        "orders.release_hold",                      expect(200, 403, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": order_with_line(sku=None).lines.get().pk},
        data=lambda: {"sku": "NOT-A-SKU"},
    ),
    "orders:hold-override": Route(
        "orders.release_hold",                      expect(200, 403, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": order_with_line(sku=None).pk},
        data=lambda: {"reason": "by hand"},
    ),
    "orders:hold-cancel": Route(
        "orders.release_hold",                      expect(200, 403, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": order_with_line(sku=None).pk},
        data=lambda: {"reason": "customer cancelled"},
    ),
    "invoicing:list": Route("invoicing.view_invoicedraft", expect(200, 403, 200, 403, 403, 302)),
    "invoicing:credit-list": Route(
        "invoicing.view_invoicedraft",              expect(200, 403, 200, 403, 403, 302),
    ),
    "invoicing:credit-approve-bulk": Route(
        "invoicing.approve_invoicedraft",           expect(403, 403, 200, 403, 403, 302),
        method="POST", data=lambda: {"ids": [credit_note().pk]},
    ),
    "invoicing:credit-detail": Route(
        "invoicing.view_invoicedraft",              expect(200, 403, 200, 403, 403, 302),
        kwargs=lambda: {"pk": credit_note().pk},
    ),
    "invoicing:credit-approve": Route(
        "invoicing.approve_invoicedraft",           expect(403, 403, 200, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": credit_note().pk},
    ),
    "invoicing:credit-reject": Route(
        "invoicing.approve_invoicedraft",           expect(403, 403, 200, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": credit_note().pk},
        data=lambda: {"reason": "Duplicate"},
    ),
    "invoicing:approve-bulk": Route(
        "invoicing.approve_invoicedraft",           expect(403, 403, 200, 403, 403, 302),
        method="POST", data=lambda: {"ids": [invoice_draft().pk]},
    ),
    "invoicing:detail": Route(
        "invoicing.view_invoicedraft",              expect(200, 403, 200, 403, 403, 302),
        kwargs=lambda: {"pk": invoice_draft().pk},
    ),
    "invoicing:approve": Route(
        "invoicing.approve_invoicedraft",           expect(403, 403, 200, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": invoice_draft().pk},
    ),
    "invoicing:reject": Route(
        "invoicing.approve_invoicedraft",           expect(403, 403, 200, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": invoice_draft().pk},
        data=lambda: {"reason": "Duplicate"},
    ),
    "invoicing:line-correct": Route(
        "invoicing.approve_invoicedraft",           expect(403, 403, 200, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": invoice_draft().lines.get().pk},
        data=lambda: {"account_code": "201", "tax_type": "OUTPUT2"},
    ),
    "invoicing:reconciliation": Route(
        "invoicing.view_invoicedraft",              expect(200, 403, 200, 403, 403, 302),
    ),
    "invoicing:reconciliation-csv": Route(
        "invoicing.view_invoicedraft",              expect(200, 403, 200, 403, 403, 302),
    ),
    "invoicing:reconciliation-check": Route(
        "invoicing.approve_invoicedraft",           expect(403, 403, 200, 403, 403, 302),
        method="POST",
    ),
    "invoicing:xero": Route("invoicing.view_xeroconnection", expect(403, 403, 403, 200, 403, 302)),
    "invoicing:xero-connect": Route(
        "invoicing.connect_xero",                   expect(403, 403, 403, 200, 403, 302),
        method="POST",
    ),
    # Without a code it answers the page with an error (200); tests/invoicing covers the rest.
    "invoicing:xero-callback": Route(
        "invoicing.connect_xero",                   expect(403, 403, 403, 200, 403, 302),
    ),
    "support:ticket-list": Route("support.view_ticket", expect(200, 200, 403, 403, 403, 302)),
    "support:approve-bulk": Route(
        "support.approve_replydraft",               expect(403, 200, 403, 403, 403, 302),
        method="POST", data=lambda: {"ids": [ticket_with_draft().pk]},
    ),
    "support:ticket-new": Route("support.add_ticket", expect(403, 200, 403, 403, 403, 302)),
    "support:ticket": Route(
        "support.view_replydraft",                  expect(200, 200, 403, 403, 403, 302),
        kwargs=lambda: {"pk": ticket_with_draft().ticket_id},
    ),
    "support:relink": Route(
        "support.change_ticket",                    expect(403, 200, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": ticket_with_draft().ticket_id},
        data=lambda: {"order": OrderFactory().name},
    ),
    "support:ticket-audit": Route(
        "support.view_replydraft",                  expect(200, 200, 403, 403, 403, 302),
        kwargs=lambda: {"pk": ticket_with_draft().ticket_id},
    ),
    "support:ticket-audit-csv": Route(
        "support.view_replydraft",                  expect(200, 200, 403, 403, 403, 302),
        kwargs=lambda: {"pk": ticket_with_draft().ticket_id},
    ),
    "support:edit": Route(
        "support.approve_replydraft",               expect(403, 200, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": ticket_with_draft().pk},
        data=lambda: {"body": "Hi Ada, it ships today. The team"},
    ),
    "support:approve": Route(
        "support.approve_replydraft",               expect(403, 200, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": ticket_with_draft().pk},
    ),
    "support:reject": Route(
        "support.approve_replydraft",               expect(403, 200, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": ticket_with_draft().pk},
        data=lambda: {"reason": "Wrong order"},
    ),
    "support:regenerate": Route(
        "support.approve_replydraft",               expect(403, 200, 403, 403, 403, 302),
        method="POST", kwargs=lambda: {"pk": ticket_with_draft().pk},
        data=lambda: {"instruction": "Shorter"},
    ),
}
# fmt: on


def walk(patterns, prefix: str = "", namespace: str | None = None):
    """Yield (route, full URL name) for every pattern, depth first through includes."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield route, name


def project_routes() -> dict[str, str]:
    """Full URL name → route, for every walked pattern (the excluded prefixes left out)."""
    routes, unnamed = {}, []
    for route, name in walk(get_resolver().url_patterns):
        if route.startswith(EXCLUDED_PREFIXES):
            continue
        if not name:
            unnamed.append(route)
            continue
        routes[name] = route
    assert not unnamed, f"URL patterns without a name (name them, then add them here): {unnamed}"
    return routes


def test_every_route_of_the_project_is_in_the_matrix():
    routes = project_routes()
    missing = sorted(set(routes) - set(MATRIX))
    assert not missing, "\n".join(
        f"route {name!r} (/{routes[name]}) is not in tests/test_role_matrix.py: "
        "add it to the matrix with its permission"
        for name in missing
    )


def test_every_row_of_the_matrix_is_a_route_of_the_project():
    stale = sorted(set(MATRIX) - set(project_routes()))
    assert not stale, f"matrix rows for routes that no longer exist (remove them): {stale}"


def check(response, status: int, what: str) -> str | None:
    """None when the response is as expected, else what went wrong."""
    if response.status_code != status:
        return f"{what}: expected {status}, got {response.status_code}"
    login = reverse(settings.LOGIN_URL)
    if status == 302 and not response["Location"].startswith(login):
        return f"{what}: redirected to {response['Location']}, not to sign in ({login})"
    return None


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_the_route_answers_each_persona_as_the_matrix_says(client, personas, name):
    row = MATRIX[name]
    problems = []
    for persona in PERSONAS:
        client.logout()
        if persona != "anonymous":
            client.force_login(personas[persona])
        url = reverse(name, kwargs=row.kwargs())
        status = row.expected[persona]
        if row.method == "GET":
            problems.append(check(client.get(url), status, f"{persona} GET {url}"))
            continue
        # POST-only: a GET does nothing, and tells a denied persona no more than a denial would.
        get_status = 405 if status == 200 else status
        problems.append(check(client.get(url), get_status, f"{persona} GET {url}"))
        response = client.post(url, row.data(), **HX)
        problems.append(check(response, status, f"{persona} POST {url}"))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_the_matrix_agrees_with_the_permissions_the_roles_hold(personas):
    """A row's 200s are exactly the personas whose role holds the row's permission."""
    for name, row in MATRIX.items():
        allowed = {p for p in PERSONAS if row.expected[p] == 200}
        if row.permission is None:
            holders = set(personas)
        else:
            holders = {p for p, user in personas.items() if user.has_perm(row.permission)}
        assert allowed == holders, (
            f"{name}: the matrix allows {allowed}, {row.permission} is held by {holders}"
        )
        denied = {row.expected[p] for p in PERSONAS if p not in allowed}
        assert denied <= {403, 302}, f"{name}: a denial must be 403 (or 302 for anonymous)"
        assert row.expected["anonymous"] == 302, f"{name}: anonymous visitors go to sign in"


def test_django_admin_is_for_staff_only(client, personas):
    for persona in PERSONAS:
        client.logout()
        if persona != "anonymous":
            client.force_login(personas[persona])

        response = client.get(reverse("admin:index"))

        if persona in {"admin", "superuser"}:
            assert response.status_code == 200, persona
        else:
            assert response.status_code == 302, persona
            assert response["Location"].startswith(reverse("admin:login")), persona


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_login_hands_everyone_to_allauths_sign_in(client, personas, persona):
    """/admin/login/ is no sign-in form of its own (no TOTP, no rate limit): it sends visitors to
    allauth's, which brings them back; signed-in staff go straight on, others are refused (no
    bouncing between the admin and the sign-in page)."""
    user = personas.get(persona)
    if user is not None:
        client.force_login(user)

    page = client.get(reverse("admin:login"), {"next": "/admin/accounts/user/"})
    post = client.post(
        reverse("admin:login"), {"username": getattr(user, "email", ""), "password": PASSWORD}
    )

    if persona == "anonymous":
        assert page.status_code == 302
        assert page["Location"] == reverse("account_login") + "?next=%2Fadmin%2Faccounts%2Fuser%2F"
    elif persona in {"admin", "superuser"}:
        assert page.status_code == 302
        assert page["Location"] == "/admin/accounts/user/"
    else:
        assert page.status_code == 403
        assert b"admin-refused" in page.content
    assert post.status_code == 405
