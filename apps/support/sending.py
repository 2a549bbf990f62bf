"""Sending an approved reply: by email (Django's mailers; SMTP in production) through the outbox."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.support.models import Message, ReplyDraft, Ticket
from apps.sync.models import OutboxMessage
from apps.sync.outbox import Failed, Sent, outbox_action
from integrations.http import PeerError


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
        headers={"Message-ID": f"<reply-{draft.pk}@{settings.SUPPORT['MESSAGE_ID_DOMAIN']}>"},
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


@transaction.atomic
def _send_dead(message: OutboxMessage, error: PeerError) -> None:
    draft = ReplyDraft.objects.select_for_update().get(pk=message.payload["draft_id"])
    draft.send_result = f"failed: {error.message}"
    draft.save(update_fields=["send_result", "updated_at"])


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
            count = reply_email(draft).send()
        except OSError as error:  # SMTP and socket errors: try again later
            outcomes.append(Failed(error=PeerError("mail", str(error), retryable=True)))
            continue
        outcomes.append(Sent(result={"result": f"{count} email(s) accepted"}))
    return outcomes
