import html

import pytest
from django.urls import reverse

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.sync.models import WebhookReceipt
from tests.ops.factories import WebhookReceiptFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_failed_receipts_show_their_error_and_filters_apply(client, ops_user):
    WebhookReceiptFactory(source="shopify", delivery_id="shop-ok")
    WebhookReceiptFactory(
        source="shopify", delivery_id="shop-bad", failed=True, error="KeyError: 'x'"
    )
    WebhookReceiptFactory(source="shipbob", delivery_id="ship-ok")
    client.force_login(ops_user)
    url = reverse("ops:receipt-list")

    failed = html.unescape(client.get(url, {"status": "failed"}).content.decode())
    shipbob = client.get(url, {"source": "shipbob"}).content.decode()

    assert "shop-bad" in failed
    assert "KeyError: 'x'" in failed
    assert "shop-ok" not in failed
    assert "ship-ok" in shipbob
    assert "shop-ok" not in shipbob


def test_the_list_never_loads_bodies_and_has_a_query_budget(
    client, ops_user, django_assert_max_num_queries
):
    WebhookReceiptFactory.create_batch(30, failed=True)
    client.force_login(ops_user)

    with django_assert_max_num_queries(8) as captured:
        response = client.get(reverse("ops:receipt-list"))

    assert response.status_code == 200
    assert response.content.decode().count('name="ids"') == 30
    listing = [q["sql"] for q in captured.captured_queries if "sync_webhookreceipt" in q["sql"]]
    assert listing
    assert all('"body"' not in sql for sql in listing)


def test_detail_shows_the_raw_body_headers_and_error(client, ops_user):
    receipt = WebhookReceiptFactory(
        failed=True,
        body=b'{"id": 820982911946154508, "note": "caf\\u00e9"}',
        headers={"X-Shopify-Webhook-Id": "abc-123"},
        error="Traceback: boom",
    )
    client.force_login(ops_user)

    response = client.get(reverse("ops:receipt-detail", args=[receipt.pk]))

    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "820982911946154508" in body  # a 64-bit id survives (never through a float)
    assert "café" in body
    assert "abc-123" in body
    assert "Traceback: boom" in body


def test_a_body_that_is_not_json_is_shown_as_text(client, ops_user):
    receipt = WebhookReceiptFactory(body=b"not json <b>", status="failed")
    client.force_login(ops_user)

    body = client.get(reverse("ops:receipt-detail", args=[receipt.pk])).content.decode()

    assert "not json &lt;b&gt;" in body


def test_replay_dry_run_then_replay(client, ops_user):
    failed = WebhookReceiptFactory(failed=True)
    applied = WebhookReceiptFactory()
    client.force_login(ops_user)
    url = reverse("ops:receipt-replay")

    preview = client.post(url, {"ids": [failed.pk, applied.pk], "dry_run": "1"}, **HX)
    failed.refresh_from_db()
    status_after_preview = failed.status
    replay = client.post(url, {"ids": [failed.pk]}, **HX)

    assert "Dry run: 1 receipt would be applied again" in preview.content.decode()
    assert status_after_preview == WebhookReceipt.Status.FAILED
    assert replay.status_code == 200
    assert replay["HX-Trigger"] == "receipts-changed"
    assert "1 of 1 receipt queued" in replay.content.decode()
    failed.refresh_from_db()
    assert failed.status == WebhookReceipt.Status.PENDING
    assert AuditEvent.objects.filter(verb=verbs.RECEIPT_REPLAYED, target_id=str(failed.pk)).exists()


def test_replay_without_a_selection_is_a_message_not_an_error(client, ops_user):
    client.force_login(ops_user)

    response = client.post(reverse("ops:receipt-replay"), {"dry_run": "1"}, **HX)

    assert response.status_code == 200
    assert "Select at least one failed receipt." in response.content.decode()


def test_a_plain_form_post_keeps_the_list_filtered_as_it_was_shown(client, ops_user):
    failed = WebhookReceiptFactory(status=WebhookReceipt.Status.FAILED, source="shipbob")
    applied = WebhookReceiptFactory(status=WebhookReceipt.Status.APPLIED, source="shipbob")
    client.force_login(ops_user)

    response = client.post(
        reverse("ops:receipt-replay"),
        {"ids": [failed.pk], "dry_run": "1", "status": "failed", "source": "shipbob"},
    )

    body = response.content.decode()
    assert 'data-testid="replay-preview"' in body
    assert f'{reverse("ops:receipt-detail", args=[failed.pk])}"' in body
    assert f'{reverse("ops:receipt-detail", args=[applied.pk])}"' not in body
