"""The mail leg sends each approved reply once: a crash after the mail server accepted it and
before the outbox settled does not send it again."""

import pytest

from apps.sandbox.models import SandboxMail
from apps.support.models import ReplyDraft
from apps.support.sending import mail_reply_send
from apps.support.services import reply_draft_approve
from apps.sync.models import OutboxMessage
from apps.sync.outbox import Failed, Sent
from tests.support.factories import ticket_with_draft

pytestmark = pytest.mark.django_db


def approved(support_user) -> tuple[ReplyDraft, OutboxMessage]:
    draft = ticket_with_draft()
    reply_draft_approve(actor=support_user, draft=draft)
    return draft, OutboxMessage.objects.get(peer="mail", payload__draft_id=draft.pk)


def test_a_resend_after_a_crash_finds_the_message_id_and_does_not_send_again(
    support_user, settings
):
    settings.MAILERS = {"default": {"BACKEND": "apps.sandbox.mailbox.SandboxMailBackend"}}
    draft, message = approved(support_user)

    # The first attempt reaches the mail server, then the process dies before settling.
    (first,) = mail_reply_send([message])
    assert isinstance(first, Sent)
    draft.refresh_from_db()
    assert draft.send_started_at is not None
    assert draft.sent_at is None

    (second,) = mail_reply_send([message])  # the outbox's retry
    assert isinstance(second, Sent)
    assert "not sent again" in second.result["result"]
    assert SandboxMail.objects.count() == 1
    assert SandboxMail.objects.get().headers["Message-ID"] == f"<reply-{draft.pk}@o2c.portal>"


def test_where_the_mail_backend_cannot_tell_the_state_is_unknown_and_nothing_is_resent(
    support_user, mailoutbox
):
    draft, message = approved(support_user)
    mail_reply_send([message])
    assert len(mailoutbox) == 1

    (second,) = mail_reply_send([message])

    assert isinstance(second, Failed)
    assert not second.error.retryable  # dead: an alert puts a person in charge
    assert "send state unknown" in second.error.message
    assert f"<reply-{draft.pk}@o2c.portal>" in second.error.message
    assert len(mailoutbox) == 1


def test_a_refusal_before_the_server_accepted_clears_the_marker_for_a_retry(
    support_user, settings, monkeypatch
):
    draft, message = approved(support_user)

    def refused(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refused)
    (outcome,) = mail_reply_send([message])
    assert isinstance(outcome, Failed)
    assert outcome.error.retryable
    draft.refresh_from_db()
    assert draft.send_started_at is None


def test_the_sender_draws_on_the_mail_budget(support_user, settings):
    settings.RATE_BUDGETS = {**settings.RATE_BUDGETS, "mail": {"capacity": 1, "refill": 0.001}}
    draft, message = approved(support_user)
    other, other_message = approved(support_user)
    (sent, refused) = mail_reply_send([other_message, message])  # one token for two emails
    assert isinstance(sent, Sent)
    assert isinstance(refused, Failed)
    assert type(refused.error).__name__ == "BudgetExhausted"
    draft.refresh_from_db()
    assert draft.send_started_at is None
    assert draft.sent_at is None
