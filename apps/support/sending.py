"""Sending an approved reply: by email (Django's mailers; SMTP in production) through the outbox.

Exactly once: a sending marker (`send_started_at`) is committed before the email goes to the mail
server, and every email carries the draft's own Message-ID. A send that finds the marker set and
no `sent_at` (a crash between the server's acceptance and our commit) does not send again: it asks
the mail backend whether that Message-ID went out, where the backend can tell (the sandbox
mailbox can); where it cannot, the message goes dead with an alert and the runbook's steps.
"""

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.support.models import Message, ReplyDraft, Ticket
from apps.sync.budgets import budget_acquire
from apps.sync.models import OutboxMessage
from apps.sync.outbox import Failed, Sent, outbox_action
from integrations.http import BudgetExhausted, PeerError


def reply_email(draft: ReplyDraft) -> EmailMessage:
    ticket = draft.ticket
    subject = (
        ticket.subject if ticket.subject.lower().startswith("re:") else f"Re: {ticket.subject}"
    )
    return EmailMessage(
        subject=subject.strip() or "Re: your order",
        body=draft.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[ticket.customer_email],
        # One Message-ID per draft: a re-send after a crash threads as the same email.
        headers={"Message-ID": _message_id(draft)},
    )


@transaction.atomic
def _sent(message: OutboxMessage, result: dict) -> None:
    draft = (
        ReplyDraft.objects.select_for_update()
        .select_related("ticket")
        .get(pk=message.payload["draft_id"])
    )
    if draft.status == ReplyDraft.Status.SENT:
        return
    draft.status = ReplyDraft.Status.SENT
    draft.sent_at = timezone.now()
    draft.send_result = result.get("result", "sent")
    draft.save(update_fields=["status", "sent_at", "send_result", "updated_at"])
    Message.objects.create(
        ticket=draft.ticket,
        direction=Message.Direction.OUTBOUND,
        body=draft.body,
        sent_by=draft.approved_by,
    )
    Ticket.objects.filter(pk=draft.ticket_id).update(
        status=Ticket.Status.REPLIED, updated_at=timezone.now()
    )
    audit_record(
        actor=draft.approved_by,
        verb=verbs.REPLY_DRAFT_SENT,
        target=draft,
        data={"to": draft.ticket.customer_email, **result},
    )


UNKNOWN_STATE = "send state unknown"


@transaction.atomic
def _send_dead(message: OutboxMessage, error: PeerError) -> None:
    draft = ReplyDraft.objects.select_for_update().get(pk=message.payload["draft_id"])
    draft.send_result = f"failed: {error.message}"
    # The alert put a person in charge: their replay (after checking the server's log) sends.
    draft.send_started_at = None
    draft.save(update_fields=["send_result", "send_started_at", "updated_at"])


def _message_id(draft: ReplyDraft) -> str:
    return f"<reply-{draft.pk}@{settings.SUPPORT['MESSAGE_ID_DOMAIN']}>"


def _earlier_attempt(draft: ReplyDraft, mailer) -> Sent | Failed | None:
    """None: send now. Otherwise what an earlier, unfinished attempt left (sent, or unknown)."""
    started = ReplyDraft.objects.filter(
        pk=draft.pk, send_started_at__isnull=True, sent_at__isnull=True
    ).update(send_started_at=timezone.now())
    if started:
        return None  # the marker is ours, committed before the mail server sees anything
    message_id = _message_id(draft)
    lookup = getattr(mailer, "message_sent", None)
    if lookup is None:
        return Failed(
            error=PeerError(
                "mail",
                f"{UNKNOWN_STATE}: an earlier attempt began and did not finish. Find Message-ID "
                f"{message_id} in the mail server's log; replay this message only if it was "
                "not sent.",
                retryable=False,
            )
        )
    if lookup(message_id):
        return Sent(result={"result": f"already sent (found {message_id}): not sent again"})
    return None


@outbox_action("mail", "reply_send", on_done=_sent, on_dead=_send_dead)
def mail_reply_send(messages: list[OutboxMessage]) -> list:
    outcomes = []
    for message in messages:
        draft = ReplyDraft.objects.select_related("ticket").get(pk=message.payload["draft_id"])
        if draft.status != ReplyDraft.Status.APPROVED or draft.approved_by_id is None:
            # Never send anything a named person did not approve, whatever queued it.
            outcomes.append(
                Failed(
                    error=PeerError("mail", f"draft {draft.pk} is not approved", retryable=False)
                )
            )
            continue
        try:
            budget_acquire(peer="mail")  # MAIL_BUDGET_*: the mail server's sending rate
        except BudgetExhausted as error:
            outcomes.append(Failed(error=error))
            continue
        earlier = _earlier_attempt(draft, mailers.default)
        if earlier is not None:
            outcomes.append(earlier)
            continue
        try:
            count = reply_email(draft).send()
        except OSError as error:  # refused before acceptance (SMTP, socket): safe to try again
            ReplyDraft.objects.filter(pk=draft.pk).update(send_started_at=None)
            outcomes.append(Failed(error=PeerError("mail", str(error), retryable=True)))
            continue
        outcomes.append(Sent(result={"result": f"{count} email(s) accepted"}))
    return outcomes
