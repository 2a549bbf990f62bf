import html

import pytest
from django.urls import reverse

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.ops.models import ExceptionTriage
from apps.ops.selectors import ExceptionFilters, exception_counts, exception_keys
from apps.sync.exceptions import ExceptionSource, exception_source_register, exception_sources
from apps.sync.models import OutboxMessage, WebhookReceipt
from tests.inventory.factories import SkuMappingFactory
from tests.ops.factories import OutboxMessageFactory, WebhookReceiptFactory
from tests.orders.factories import order_with_line

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def _dead_order_message(**extra):
    order = order_with_line(sku="SKU-1", status="ready")
    order.lines.update(sku_mapping=SkuMappingFactory(shopify_sku="SKU-1", components=[(7, "", 1)]))
    order.email = "ada@example.com"
    order.shipping_address = {
        "first_name": "Ada",
        "address1": "1 Way",
        "city": "London",
        "zip": "N1",
        "country_code": "GB",
    }
    order.save()
    return OutboxMessageFactory(
        dead=True,
        peer="shipbob",
        action="order_create",
        payload={"order_id": order.pk},
        subject_type="orders.order",
        subject_id=str(order.pk),
        **extra,
    ), order


def test_the_queue_lists_every_kind_with_order_error_and_fix(client, ops_user):
    message, order = _dead_order_message()
    WebhookReceiptFactory(failed=True)
    client.force_login(ops_user)

    page = client.get(reverse("ops:exception-list")).content.decode()

    assert "Dead outbox message" in page
    assert "Failed webhook receipt" in page
    assert order.name in page
    assert "Shipbob refused Order create" in page
    assert "retry (dry run first)" in page
    assert {s.kind for s in exception_sources()} >= {
        "hold",
        "outbox_dead",
        "receipt_failed",
        "draft_post_failed",
        "reply_draft_failed",
    }


def test_the_dry_run_lists_the_request_and_changes_nothing(client, ops_user):
    message, order = _dead_order_message()
    client.force_login(ops_user)

    response = client.post(
        reverse("ops:exception-retry-preview"), {"keys": [f"outbox_dead:{message.pk}"]}, **HX
    )

    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "<strong>POST</strong> http" in page
    assert "/order</span>" in page
    assert f'"reference_id": "{order.shopify_id}"' in page
    assert f'value="outbox_dead:{message.pk}"' in page
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DEAD
    assert not AuditEvent.objects.filter(verb=verbs.OUTBOX_REPLAYED).exists()


def test_retry_puts_dead_messages_back_and_is_audited(client, ops_user):
    message, _order = _dead_order_message()
    client.force_login(ops_user)

    response = client.post(
        reverse("ops:exception-retry"), {"keys": [f"outbox_dead:{message.pk}"]}, **HX
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "exceptions-changed"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert AuditEvent.objects.filter(verb=verbs.OUTBOX_REPLAYED, target_id=str(message.pk)).exists()


def test_select_all_matching_a_filter_acts_on_every_match_and_only_those(client, ops_user):
    dead = [OutboxMessageFactory(dead=True) for _ in range(3)]
    receipt = WebhookReceiptFactory(failed=True)
    client.force_login(ops_user)

    client.post(
        reverse("ops:exception-resolve"),
        {"scope": "filter", "kind": "outbox_dead", "reason": "Cancelled in Shopify"},
        **HX,
    )

    assert exception_counts(ExceptionFilters(kind="outbox_dead")) == {"outbox_dead": 0}
    assert exception_counts(ExceptionFilters(kind="receipt_failed")) == {"receipt_failed": 1}
    rows = ExceptionTriage.objects.filter(kind="outbox_dead")
    assert {r.object_id for r in rows} == {m.pk for m in dead}
    assert {r.resolution for r in rows} == {"Cancelled in Shopify"}
    assert AuditEvent.objects.filter(verb="exception.resolved").count() == 3
    receipt.refresh_from_db()
    assert receipt.status == WebhookReceipt.Status.FAILED


def test_resolving_needs_a_reason(client, ops_user):
    message = OutboxMessageFactory(dead=True)
    client.force_login(ops_user)

    page = client.post(
        reverse("ops:exception-resolve"), {"keys": [f"outbox_dead:{message.pk}"]}, **HX
    ).content.decode()

    assert "Say why" in page
    assert not ExceptionTriage.objects.exists()


def test_a_resolved_exception_returns_when_it_fails_again(ops_user):
    from django.utils import timezone

    from apps.ops.services import exceptions_resolve

    message = OutboxMessageFactory(dead=True)
    exceptions_resolve(actor=ops_user, keys=[("outbox_dead", message.pk)], reason="Handled")
    assert exception_keys(ExceptionFilters()) == []

    OutboxMessage.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() + timezone.timedelta(minutes=1)
    )

    assert [k[:2] for k in exception_keys(ExceptionFilters())] == [("outbox_dead", message.pk)]


def test_assign_and_filter_mine(client, ops_user):
    mine = OutboxMessageFactory(dead=True)
    OutboxMessageFactory(dead=True)
    client.force_login(ops_user)

    client.post(
        reverse("ops:exception-assign"),
        {"keys": [f"outbox_dead:{mine.pk}"], "assignee": ops_user.pk},
        **HX,
    )
    page = client.get(reverse("ops:exception-list"), {"mine": "1"}).content.decode()

    assert ExceptionTriage.objects.get(object_id=mine.pk).assignee == ops_user
    assert AuditEvent.objects.filter(verb="exception.assigned").count() == 1
    assert page.count('name="keys"') == 1
    assert f'value="outbox_dead:{mine.pk}"' in page


def test_filter_by_age(client, ops_user):
    from django.utils import timezone

    old = OutboxMessageFactory(dead=True)
    OutboxMessage.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - timezone.timedelta(days=2)
    )
    OutboxMessageFactory(dead=True)

    keys = exception_keys(ExceptionFilters(older_than=timezone.timedelta(days=1)))

    assert [k[1] for k in keys] == [old.pk]


def test_a_lower_app_can_register_its_own_exception_source():
    source = ExceptionSource(
        kind="test_stuck_receipts",
        label="Stuck for a test",
        since="received_at",
        open=lambda: WebhookReceipt.objects.filter(status=WebhookReceipt.Status.APPLYING),
        describe=lambda rows: [],
        fix="Wait",
    )
    exception_source_register(source)
    try:
        WebhookReceiptFactory(status=WebhookReceipt.Status.APPLYING)

        assert exception_counts()["test_stuck_receipts"] == 1
    finally:
        from apps.sync import exceptions

        exceptions._sources.pop("test_stuck_receipts")
