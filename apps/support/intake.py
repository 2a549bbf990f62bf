"""Customer messages in: a signed helpdesk webhook or the support form, threaded and linked to an order."""

import hashlib
import hmac
import json
import re

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.orders.models import Order
from apps.support.models import Message, Ticket
from apps.sync.models import WebhookReceipt
from apps.sync.receipts import ReceiptRejected, receipt_handler, webhook_receive

SOURCE = "helpdesk"
ORDER_NAME = re.compile(r"#\s?(\d{3,12})\b")


def helpdesk_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _verify(request: HttpRequest, body: bytes) -> bool:
    secret = settings.SUPPORT["HELPDESK_WEBHOOK_SECRET"]
    given = request.headers.get("X-Helpdesk-Signature", "")
    return bool(secret) and hmac.compare_digest(
        helpdesk_signature(body, secret), given.strip().lower()
    )


@csrf_exempt
@require_POST
def helpdesk_webhook(request: HttpRequest) -> HttpResponse:
    return webhook_receive(
        request,
        source=SOURCE,
        verify=_verify,
        delivery_id=lambda r: r.headers.get("X-Helpdesk-Delivery", ""),
        topic=lambda r: "message",
    )


def order_for(*, email: str, text: str) -> tuple[Order | None, str]:
    """The order a message is about: an order number in it (for this customer), else their latest."""
    for number in ORDER_NAME.findall(text):
        order = Order.objects.filter(name=f"#{number}", email__iexact=email).first()
        if order:
            return order, Ticket.LinkedBy.ORDER_NAME
    latest = Order.objects.filter(email__iexact=email).order_by("-shopify_created_at").first()
    return (latest, Ticket.LinkedBy.LATEST_ORDER) if latest else (None, Ticket.LinkedBy.NONE)


def ticket_receive(
    *,
    thread_id: str,
    customer_email: str,
    subject: str,
    body: str,
    message_id: str = "",
    source: str = SOURCE,
) -> Ticket:
    """File a customer message on its thread (a new ticket for a new thread) and ask for a draft."""
    from apps.support.drafting import reply_draft_request

    customer_email = customer_email.strip().lower()
    with transaction.atomic():
        ticket, created = Ticket.objects.select_for_update().get_or_create(
            thread_id=thread_id[:200],
            defaults={"customer_email": customer_email, "subject": subject[:500], "source": source},
        )
        if message_id and ticket.messages.filter(external_id=message_id[:200]).exists():
            return ticket  # the same message delivered again
        Message.objects.create(
            ticket=ticket,
            direction=Message.Direction.INBOUND,
            body=body,
            external_id=message_id[:200],
        )
        if ticket.order_id is None or ticket.linked_by != Ticket.LinkedBy.AGENT:
            order, linked_by = order_for(email=customer_email, text=f"{subject}\n{body}")
            if order is not None and (
                ticket.order_id is None or linked_by == Ticket.LinkedBy.ORDER_NAME
            ):
                ticket.order, ticket.linked_by = order, linked_by
        ticket.status = Ticket.Status.OPEN
        ticket.save()
        reply_draft_request(ticket=ticket)
    return ticket


@receipt_handler(SOURCE)
def helpdesk_receipt_apply(receipt: WebhookReceipt) -> bool:
    try:
        payload = json.loads(receipt.body_bytes())
        fields = {key: str(payload[key]) for key in ("thread_id", "customer_email", "body")}
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ReceiptRejected(
            f"not a helpdesk message (thread_id, customer_email, body): {error}"
        ) from None
    ticket_receive(
        **fields,
        subject=str(payload.get("subject", "")),
        message_id=str(payload.get("message_id") or receipt.delivery_id),
    )
    return True


@transaction.atomic
def ticket_link(*, actor, ticket: Ticket, order: Order | None) -> Ticket:
    """An agent re-links a ticket by hand (audited)."""
    before = ticket.order.name if ticket.order else None
    ticket.order = order
    ticket.linked_by = Ticket.LinkedBy.AGENT if order else Ticket.LinkedBy.NONE
    ticket.save(update_fields=["order", "linked_by", "updated_at"])
    audit_record(
        actor=actor,
        verb=verbs.TICKET_RELINKED,
        target=ticket,
        data={"from": before, "to": order.name if order else None},
    )
    return ticket
