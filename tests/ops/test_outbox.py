import html

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.sync.models import OutboxMessage
from tests.factories import UserFactory
from tests.ops.factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_the_list_filters_by_peer_status_and_action(client, ops_user):
    OutboxMessageFactory(peer="shipbob", action="create_order", idempotency_key="ship-1")
    OutboxMessageFactory(peer="xero", action="create_invoices", idempotency_key="xero-1")
    OutboxMessageFactory(peer="shipbob", action="cancel_order", idempotency_key="ship-2", dead=True)
    client.force_login(ops_user)
    url = reverse("ops:outbox-list")

    by_peer = client.get(url, {"peer": "xero"}).content.decode()
    by_status = client.get(url, {"status": "dead"}).content.decode()
    by_action = client.get(url, {"action": "create_order"}).content.decode()

    assert "xero-1" in by_peer
    assert "ship-1" not in by_peer
    assert "ship-2" in by_status
    assert "ship-1" not in by_status
    assert "xero-1" not in by_status
    assert "ship-1" in by_action
    assert "ship-2" not in by_action


def test_dead_messages_show_their_last_error_and_a_checkbox(client, ops_user):
    dead = OutboxMessageFactory(dead=True, last_error="422: SKU-X unknown")
    pending = OutboxMessageFactory()
    client.force_login(ops_user)

    body = client.get(reverse("ops:outbox-list")).content.decode()

    assert "422: SKU-X unknown" in body
    assert f'name="ids" value="{dead.pk}"' in body
    assert f'name="ids" value="{pending.pk}"' not in body


def test_the_list_is_paginated_with_a_fixed_number_of_queries(
    client, ops_user, django_assert_max_num_queries
):
    OutboxMessageFactory.create_batch(60, dead=True)
    client.force_login(ops_user)

    with django_assert_max_num_queries(8):
        first = client.get(reverse("ops:outbox-list"))
    second = client.get(reverse("ops:outbox-list"), {"page": 2}, **HX)

    assert first.content.decode().count('name="ids"') == 50
    assert "Page 1 of 2" in first.content.decode()
    assert second.content.decode().count('name="ids"') == 10
    assert "<html" not in second.content.decode()


def test_detail_shows_payload_result_error_and_attempts(client, ops_user):
    message = OutboxMessageFactory(
        dead=True,
        payload={"reference_id": "gid-77", "items": [{"sku": "SKU-X"}]},
        result={"id": 555},
        last_error="422: SKU-X unknown",
    )
    client.force_login(ops_user)

    response = client.get(reverse("ops:outbox-detail", args=[message.pk]))

    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "gid-77" in body
    assert "SKU-X" in body
    assert '"id": 555' in body
    assert "422: SKU-X unknown" in body
    assert "<dt>Attempts</dt><dd>8</dd>" in body
    assert f"target=sync.outboxmessage:{message.pk}" in body


def test_detail_of_a_missing_message_is_404(client, ops_user):
    client.force_login(ops_user)
    assert client.get(reverse("ops:outbox-detail", args=[999999])).status_code == 404


def test_dry_run_lists_what_would_be_sent_and_changes_nothing(client, ops_user):
    dead = OutboxMessageFactory(dead=True, payload={"reference_id": "would-send"})
    done = OutboxMessageFactory(status=OutboxMessage.Status.DONE)
    client.force_login(ops_user)

    response = client.post(reverse("ops:outbox-replay-preview"), {"ids": [dead.pk, done.pk]}, **HX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Dry run: 1 message would be sent again" in body
    assert "would-send" in body
    assert 'hx-confirm="Replay 1 message?' in body
    assert f'<input type="hidden" name="ids" value="{dead.pk}">' in body
    dead.refresh_from_db()
    assert dead.status == OutboxMessage.Status.DEAD
    assert not AuditEvent.objects.filter(verb=verbs.OUTBOX_REPLAYED).exists()


def test_dry_run_by_filter_covers_every_dead_message_of_the_peer(client, ops_user):
    ours = OutboxMessageFactory.create_batch(3, dead=True, peer="xero", action="create_invoices")
    OutboxMessageFactory(dead=True, peer="shipbob")
    client.force_login(ops_user)

    body = client.post(
        reverse("ops:outbox-replay-preview"), {"scope": "filter", "peer": "xero"}, **HX
    ).content.decode()

    assert "Dry run: 3 messages would be sent again" in body
    for message in ours:
        assert f'name="ids" value="{message.pk}"' in body


def test_dry_run_by_filter_without_a_filter_is_refused(client, ops_user):
    OutboxMessageFactory(dead=True)
    client.force_login(ops_user)

    body = client.post(reverse("ops:outbox-replay-preview"), {"scope": "filter"}, **HX)

    assert body.status_code == 200
    assert "Filter by a peer or an action first." in body.content.decode()


def test_replay_puts_dead_messages_back_to_pending_audited(client, ops_user):
    dead = OutboxMessageFactory.create_batch(2, dead=True)
    client.force_login(ops_user)

    response = client.post(reverse("ops:outbox-replay"), {"ids": [m.pk for m in dead]}, **HX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "outbox-changed"
    assert "2 of 2 messages put back to pending" in response.content.decode()
    assert OutboxMessage.objects.filter(status="pending").count() == 2
    assert AuditEvent.objects.filter(verb=verbs.OUTBOX_REPLAYED, actor=ops_user).count() == 2


def test_replay_without_a_selection_sends_nothing(client, ops_user):
    OutboxMessageFactory(dead=True)
    client.force_login(ops_user)

    response = client.post(reverse("ops:outbox-replay"), {}, **HX)

    assert response.status_code == 200
    assert "run the dry run first" in response.content.decode()
    assert OutboxMessage.objects.filter(status="dead").count() == 1


def test_replay_needs_the_replay_permission_even_for_a_viewer(client):
    viewer = UserFactory()
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_outboxmessage", content_type__app_label="sync")
    )
    dead = OutboxMessageFactory(dead=True)
    client.force_login(viewer)

    preview = client.post(reverse("ops:outbox-replay-preview"), {"ids": [dead.pk]}, **HX)
    replay = client.post(reverse("ops:outbox-replay"), {"ids": [dead.pk]}, **HX)

    assert preview.status_code == 200
    assert "Replaying needs the replay permission" in preview.content.decode()
    assert replay.status_code == 403
    dead.refresh_from_db()
    assert dead.status == OutboxMessage.Status.DEAD


def test_a_plain_form_post_renders_the_whole_page_with_the_preview(client, ops_user):
    dead = OutboxMessageFactory(dead=True)
    client.force_login(ops_user)

    response = client.post(reverse("ops:outbox-replay-preview"), {"ids": [dead.pk]})

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body
    assert 'data-testid="replay-preview"' in body


def test_a_plain_form_post_keeps_the_list_filtered_as_it_was_shown(client, ops_user):
    """The page behind the panel lists what the filters say, not every message."""
    shown = OutboxMessageFactory(peer="xero", action="invoice_post", dead=True)
    other_peer = OutboxMessageFactory(peer="shipbob", action="invoice_post", dead=True)
    other_status = OutboxMessageFactory(peer="xero", action="invoice_post")
    client.force_login(ops_user)

    response = client.post(
        reverse("ops:outbox-replay-preview"),
        {"ids": [shown.pk], "peer": "xero", "action": "invoice_post", "status": "dead"},
    )

    body = response.content.decode()
    table = body.split('data-testid="outbox-table"', 1)[1].split("</table>", 1)[0]
    assert f'{reverse("ops:outbox-detail", args=[shown.pk])}"' in table
    assert f'{reverse("ops:outbox-detail", args=[other_peer.pk])}"' not in table
    assert f'{reverse("ops:outbox-detail", args=[other_status.pk])}"' not in table
    assert 'name="status" value="dead"' in body


def test_the_detail_page_links_to_the_order_it_is_about(client, ops_user):
    from tests.orders.factories import OrderFactory

    order = OrderFactory(name="#4321")
    message = OutboxMessageFactory(subject_type="orders.order", subject_id=str(order.pk))
    gone = OutboxMessageFactory(subject_type="orders.order", subject_id="999999")
    client.force_login(ops_user)

    body = client.get(reverse("ops:outbox-detail", args=[message.pk])).content.decode()
    gone_body = client.get(reverse("ops:outbox-detail", args=[gone.pk])).content.decode()

    about = body.split('data-testid="subject">', 1)[1].split("</dd>", 1)[0]
    assert about == f'<a href="{reverse("orders:detail", args=[order.pk])}">Order #4321</a>'
    assert "orders.order" not in body
    assert "Order 999999 (no longer exists)" in gone_body
