"""The sync tables' admin: read only, and "replay selected" through the audited replay services."""

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.sync.models import OutboxMessage, WebhookReceipt
from tests.ops.factories import OutboxMessageFactory, WebhookReceiptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(admin_user):
    admin_user.is_superuser = True
    admin_user.save()
    return admin_user


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.parametrize(
    ("row", "changelist", "pending", "says"),
    [
        (
            lambda: OutboxMessageFactory(dead=True),
            "admin:sync_outboxmessage_changelist",
            OutboxMessage.Status.PENDING,
            "1 message(s) back to pending.",
        ),
        (
            lambda: WebhookReceiptFactory(status=WebhookReceipt.Status.FAILED, error="boom"),
            "admin:sync_webhookreceipt_changelist",
            WebhookReceipt.Status.PENDING,
            "1 receipt(s) back to pending.",
        ),
    ],
)
def test_replay_selected_puts_the_row_back_to_pending_audited(
    admin_client, superuser, row, changelist, pending, says
):
    failed = row()

    response = admin_client.post(
        reverse(changelist), {"action": "replay", "_selected_action": [failed.pk]}, follow=True
    )

    failed.refresh_from_db()
    assert failed.status == pending
    assert says in [str(message) for message in response.context["messages"]]
    assert AuditEvent.objects.get(target_id=str(failed.pk)).actor == superuser


def test_sync_rows_cannot_be_added_changed_or_deleted_in_the_admin(admin_client):
    message = OutboxMessageFactory(dead=True)

    add = admin_client.get(reverse("admin:sync_outboxmessage_add"))
    delete = admin_client.post(
        reverse("admin:sync_outboxmessage_delete", args=[message.pk]), {"post": "yes"}
    )
    audit_add = admin_client.get(reverse("admin:audit_auditevent_add"))

    assert add.status_code == 403
    assert delete.status_code == 403
    assert audit_add.status_code == 403
    assert OutboxMessage.objects.filter(pk=message.pk).exists()
