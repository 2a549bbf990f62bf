"""The ops pages' links, registered for the layers below that point at them (apps.sync.links)."""

from urllib.parse import urlencode

from django.urls import reverse

from apps.sync.links import OUTBOX_DEAD, OUTBOX_MESSAGE, RECEIPT, link_builder


@link_builder(OUTBOX_DEAD)
def outbox_dead_link(*, peer: str, action: str) -> str:
    query = urlencode({"status": "dead", "peer": peer, "action": action})
    return f"{reverse('ops:outbox-list')}?{query}"


@link_builder(OUTBOX_MESSAGE)
def outbox_message_link(*, pk: int) -> str:
    return reverse("ops:outbox-detail", args=[pk])


@link_builder(RECEIPT)
def receipt_link(*, pk: int) -> str:
    return reverse("ops:receipt-detail", args=[pk])
