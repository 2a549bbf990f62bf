"""Tickets and reply drafts as ORM rows, in the states the review pages need (no model call)."""

import itertools
from datetime import UTC, datetime

import factory

from apps.orders.models import Shipment
from apps.support.models import Message, ReplyDraft, Ticket
from tests.orders.factories import OrderFactory, next_id

_threads = itertools.count(1)

POLICIES = [
    {
        "id": "returns-30",
        "title": "30-day returns",
        "text": "Unworn items can be returned within 30 days for a refund.",
        "allows": ["refund", "return"],
    },
    {
        "id": "shipping-times",
        "title": "Shipping times",
        "text": "UK orders arrive in 2 to 4 working days.",
        "allows": [],
    },
]


def snapshot_for(order, *, first_name: str = "Ada") -> dict:
    """A context snapshot as drafting stores it (apps/support/context.py's shape)."""
    shipments = [
        {
            "carrier": s.carrier,
            "tracking_number": s.tracking_number,
            "tracking_url": s.tracking_url,
            "shipped_at": s.shipped_at.date().isoformat() if s.shipped_at else None,
            "delivered_at": None,
            "status": s.status,
        }
        for s in order.shipments.all()
    ]
    return {
        "customer": {"first_name": first_name},
        "order": {
            "name": order.name,
            "status": order.get_status_display(),
            "placed_at": "2026-11-20",
            "total": str(order.total_price),
            "currency": order.currency,
            "financial_status": "paid",
            "items": [{"title": "Black tee", "quantity": 1, "sku": "TEE-BLK-M"}],
            "shipments": shipments,
            "refunds": [],
            "invoice": "not invoiced yet",
            "cancelled": False,
        },
        "policies": POLICIES,
        "brand": {"tone": "warm", "sign_off": "The team", "use_phrases": [], "avoid_phrases": []},
    }


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    thread_id = factory.LazyFunction(lambda: f"thread-{next(_threads)}")
    customer_email = "ada@example.com"
    subject = factory.Sequence(lambda n: f"Where is my order? ({n})")
    order = factory.SubFactory(OrderFactory, email="ada@example.com", customer_first_name="Ada")
    linked_by = Ticket.LinkedBy.ORDER_NAME
    source = "helpdesk"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    direction = Message.Direction.INBOUND
    body = "Hi, where is my order? It has been a week."


class ReplyDraftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReplyDraft

    ticket = factory.SubFactory(TicketFactory)
    status = ReplyDraft.Status.READY
    model_reply = "Hi Ada,\n\nYour order is on its way.\n\nThe team"
    body = factory.SelfAttribute("model_reply")
    intent = "where_is_my_order"
    confidence = 0.9
    prompt_version = "2026-11-26.1"
    prompt_system = "You draft email replies for the brand's customer support team."
    prompt_user = "<order_facts>{}</order_facts>\n<customer_message>Where is it?</customer_message>"
    model = "gpt-4o-mini-2024-07-18"
    deployment = "gpt-4o-mini"
    prompt_tokens = 812
    completion_tokens = 96
    latency_ms = 640
    raw_output = '{"reply": "Hi Ada", "intent": "where_is_my_order"}'
    context_snapshot = factory.LazyAttribute(
        lambda draft: snapshot_for(draft.ticket.order) if draft.ticket.order else {}
    )


def shipment(order, *, tracking: str = "1Z999AA10123456784") -> Shipment:
    return Shipment.objects.create(
        order=order,
        shipbob_shipment_id=next_id(),
        status="Completed",
        carrier="UPS",
        tracking_number=tracking,
        tracking_url=f"https://www.ups.com/track?tracknum={tracking}",
        shipped_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
    )


def ticket_with_draft(
    *,
    body: str | None = None,
    flags=None,
    status=ReplyDraft.Status.READY,
    message: str = "",
    **ticket,
) -> ReplyDraft:
    """A ticket with the customer's message, a shipped order and a draft in the given state."""
    ticket = TicketFactory(**ticket)
    if ticket.order:
        shipment(ticket.order)
    MessageFactory(ticket=ticket, body=message or "Hi, where is my order? It has been a week.")
    extra = {"model_reply": body} if body is not None else {}
    return ReplyDraftFactory(ticket=ticket, status=status, flags=flags or [], **extra)
