import pytest
from django.urls import reverse

from apps.audit import verbs
from apps.audit.services import audit_record
from tests.ops.factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def trail(ops_user, admin_user):
    message = OutboxMessageFactory(idempotency_key="key-audited")
    other = OutboxMessageFactory(idempotency_key="key-other")
    audit_record(actor=ops_user, verb=verbs.OUTBOX_REPLAYED, target=message)
    audit_record(actor=admin_user, verb=verbs.ALERT_RESOLVED, data={"kind": "stock.drift"})
    audit_record(actor=None, actor_label="system:pump", verb="outbox.dead", target=other)
    return message, other


def test_filter_by_verb_prefix(client, ops_user, trail):
    client.force_login(ops_user)

    body = client.get(reverse("ops:audit-list"), {"verb": "outbox."}).content.decode()

    assert "outbox.replayed" in body
    assert "outbox.dead" in body
    assert "alert.resolved" not in body


def test_filter_by_actor(client, ops_user, trail):
    client.force_login(ops_user)

    body = client.get(reverse("ops:audit-list"), {"actor": "system:"}).content.decode()

    assert "outbox.dead" in body
    assert "outbox.replayed" not in body


def test_filter_by_target_type_and_id(client, ops_user, trail):
    message, _ = trail
    client.force_login(ops_user)

    body = client.get(
        reverse("ops:audit-list"), {"target": f"sync.outboxmessage:{message.pk}"}, **HX
    ).content.decode()

    assert "key-audited" in body
    assert "key-other" not in body
    assert "<html" not in body


def test_the_trail_is_paginated_with_a_query_budget(
    client, admin_user, ops_user, django_assert_max_num_queries
):
    for n in range(75):
        audit_record(actor=ops_user, verb=f"thing.done{n % 3}", data={"n": n})
    client.force_login(admin_user)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("ops:audit-list"))
    page2 = client.get(reverse("ops:audit-list"), {"page": 2})

    assert response.content.decode().count("<tr>") == 51  # header + 50 rows
    assert page2.content.decode().count("<tr>") == 26
    assert "Page 1 of 2" in response.content.decode()
