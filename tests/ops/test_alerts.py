import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.sync.models import Alert
from tests.ops.factories import AlertFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_the_inbox_shows_unresolved_alerts_by_default(client, ops_user):
    AlertFactory(kind="stock.drift", message="Drift on SKU-1")
    AlertFactory(kind="order.hold", status=Alert.Status.ACKNOWLEDGED, acknowledged_by=ops_user)
    AlertFactory(kind="old.thing", status=Alert.Status.RESOLVED)
    client.force_login(ops_user)

    response = client.get(reverse("ops:alert-list"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "stock.drift" in body
    assert "order.hold" in body
    assert "old.thing" not in body
    assert response["Vary"]
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("params", "shown", "hidden"),
    [
        ({"status": "resolved"}, "old.thing", "stock.drift"),
        ({"status": "open"}, "stock.drift", "order.hold"),
        ({"status": "all", "severity": "critical"}, "order.hold", "stock.drift"),
    ],
)
def test_filters_narrow_the_inbox(client, ops_user, params, shown, hidden):
    AlertFactory(kind="stock.drift")
    AlertFactory(kind="order.hold", severity=Alert.Severity.CRITICAL, status="acknowledged")
    AlertFactory(kind="old.thing", status=Alert.Status.RESOLVED)
    client.force_login(ops_user)

    body = client.get(reverse("ops:alert-list"), params).content.decode()

    assert shown in body
    assert hidden not in body


def test_htmx_filtering_answers_with_the_table_only(client, ops_user):
    AlertFactory(kind="stock.drift")
    client.force_login(ops_user)

    response = client.get(reverse("ops:alert-list"), {"status": "open"}, **HX)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="alert-table"' in body
    assert "<html" not in body
    assert "stock.drift" in body


def test_the_inbox_runs_a_fixed_number_of_queries(
    client, ops_user, admin_user, django_assert_max_num_queries
):
    for n in range(40):
        AlertFactory(
            status="acknowledged" if n % 2 else "open",
            acknowledged_by=ops_user if n % 2 else None,
        )
    client.force_login(ops_user)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("ops:alert-list"))

    assert response.status_code == 200
    assert response.content.decode().count("acknowledged by ops@example.com") == 20


def test_acknowledge_over_htmx_returns_the_updated_row_and_audits(client, ops_user):
    alert = AlertFactory()
    client.force_login(ops_user)

    response = client.post(reverse("ops:alert-acknowledge", args=[alert.pk]), **HX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="alert-{alert.pk}"')
    assert "Acknowledged" in body
    assert "acknowledged by ops@example.com" in body
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    assert alert.acknowledged_by == ops_user
    assert AuditEvent.objects.filter(verb="alert.acknowledged", target_id=str(alert.pk)).exists()


def test_resolve_without_htmx_redirects_back_to_the_inbox(client, ops_user):
    alert = AlertFactory()
    client.force_login(ops_user)

    response = client.post(reverse("ops:alert-resolve", args=[alert.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("ops:alert-list")
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
    assert alert.resolved_by == ops_user


def test_a_resolved_row_has_no_buttons(client, ops_user):
    alert = AlertFactory()
    client.force_login(ops_user)

    body = client.post(reverse("ops:alert-resolve", args=[alert.pk]), **HX).content.decode()

    assert "Resolved" in body
    assert "Acknowledge</button>" not in body
    assert "Resolve</button>" not in body


def test_admin_may_read_alerts_but_not_change_them(client, admin_user):
    alert = AlertFactory()
    client.force_login(admin_user)

    listing = client.get(reverse("ops:alert-list"))
    post = client.post(reverse("ops:alert-acknowledge", args=[alert.pk]), **HX)

    assert listing.status_code == 200
    assert "Acknowledge</button>" not in listing.content.decode()
    assert post.status_code == 403
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


def test_the_link_to_what_an_alert_is_about_is_shown_only_when_safe(client, ops_user):
    AlertFactory(kind="good", link="/ops/outbox/7/")
    AlertFactory(kind="evil", link="javascript:alert(1)")
    client.force_login(ops_user)

    body = client.get(reverse("ops:alert-list")).content.decode()

    assert 'href="/ops/outbox/7/"' in body
    assert "javascript:" not in body
