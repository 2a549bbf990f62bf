"""Read queries for the support pages: the ticket queue, one ticket under review, its audit trail."""

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Left

from apps.audit.models import AuditEvent
from apps.orders.models import Order
from apps.support.models import Message, ReplyDraft, Ticket
from apps.sync.models import OutboxMessage

Status = ReplyDraft.Status
TICKET_TARGET = Ticket._meta.label_lower  # "support.ticket"
DRAFT_TARGET = ReplyDraft._meta.label_lower  # "support.replydraft"

# The queue's views, by the status of each ticket's latest draft; "all" shows every ticket.
QUEUE_VIEWS: dict[str, tuple[str, ...] | None] = {
    "review": (Status.DRAFTING, Status.READY),
    "human": (Status.NEEDS_HUMAN, Status.FAILED),
    "sent": (Status.APPROVED, Status.SENT),
    "all": None,
}
# What the queue page shows of a draft: not the prompts and raw output, which can be large.
QUEUE_DRAFT_FIELDS = ("id", "ticket_id", "status", "flags", "claims", "created_at")


def _latest_draft() -> QuerySet[ReplyDraft]:
    return ReplyDraft.objects.filter(ticket=OuterRef("pk")).order_by("-created_at", "-id")


def order_name_normalise(value: str) -> str:
    """ "1001", "#1001" and " # 1001 " all name order #1001."""
    value = value.strip().lstrip("#").strip()
    return f"#{value}" if value else ""


def tickets_search(*, view: str = "all", query: str = "") -> QuerySet[Ticket]:
    """Tickets for the queue, each annotated with its latest draft's id and status and the start
    of the customer's latest message; filtered by that status and by customer email or order name."""
    latest = _latest_draft()
    last_inbound = Message.objects.filter(
        ticket=OuterRef("pk"), direction=Message.Direction.INBOUND
    ).order_by("-at", "-id")
    tickets = Ticket.objects.select_related("order").annotate(
        latest_draft_id=Subquery(latest.values("pk")[:1]),
        latest_status=Subquery(latest.values("status")[:1]),
        last_message=Subquery(last_inbound.annotate(start=Left("body", 160)).values("start")[:1]),
    )
    statuses = QUEUE_VIEWS.get(view)
    if statuses:
        tickets = tickets.filter(latest_status__in=statuses)
    query = query.strip()
    if query:
        tickets = tickets.filter(
            Q(customer_email__icontains=query)
            | Q(order__name__iexact=order_name_normalise(query))
            | Q(subject__icontains=query)
        )
    return tickets.order_by("-updated_at", "-id")


def tickets_attach_latest_drafts(tickets) -> None:
    """Set `latest_draft` on each ticket of a page (one query for the whole page)."""
    ids = [ticket.latest_draft_id for ticket in tickets if ticket.latest_draft_id]
    drafts = ReplyDraft.objects.only(*QUEUE_DRAFT_FIELDS).in_bulk(ids)
    for ticket in tickets:
        ticket.latest_draft = drafts.get(ticket.latest_draft_id)


def ticket_for_page(pk: int) -> QuerySet[Ticket]:
    """One ticket with its thread and its drafts (newest first) and who acted on them."""
    return (
        Ticket.objects.select_related("order")
        .prefetch_related(
            Prefetch("messages", Message.objects.select_related("sent_by").order_by("at", "id")),
            Prefetch(
                "drafts",
                ReplyDraft.objects.select_related("approved_by", "rejected_by").order_by(
                    "-created_at", "-id"
                ),
            ),
        )
        .filter(pk=pk)
    )


def order_by_name(name: str) -> Order | None:
    name = order_name_normalise(name)
    if not name:
        return None
    return Order.objects.filter(name=name).order_by("-shopify_created_at", "-id").first()


def ticket_audit_events(ticket: Ticket, draft_ids: list[int]) -> QuerySet[AuditEvent]:
    """Every audit row about the ticket or one of its drafts, oldest first."""
    return AuditEvent.objects.filter(
        Q(target_type=TICKET_TARGET, target_id=str(ticket.pk))
        | Q(target_type=DRAFT_TARGET, target_id__in=[str(pk) for pk in draft_ids])
    ).order_by("at", "id")


def reply_send_messages(draft_ids: list[int]) -> dict[int, OutboxMessage]:
    """Each draft's send in the outbox (status, attempts, last error), by draft id."""
    keys = {f"mail.reply_send:{pk}": pk for pk in draft_ids}
    return {
        keys[message.idempotency_key]: message
        for message in OutboxMessage.objects.filter(idempotency_key__in=list(keys))
    }
