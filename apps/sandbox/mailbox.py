"""An email backend that keeps every sent message in the sandbox mailbox instead of delivering it."""

from django.core.mail.backends.base import BaseEmailBackend


class SandboxMailBackend(BaseEmailBackend):
    def message_sent(self, message_id: str) -> bool:
        """Whether an email with this Message-ID is in the mailbox (the sender's re-send check)."""
        from apps.sandbox.models import SandboxMail

        return SandboxMail.objects.filter(**{"headers__Message-ID": message_id}).exists()

    def send_messages(self, email_messages) -> int:
        from apps.sandbox.models import SandboxMail

        for message in email_messages:
            SandboxMail.objects.create(
                subject=message.subject,
                from_email=message.from_email,
                to=list(message.to),
                body=message.body,
                headers=dict(message.extra_headers),
            )
        return len(email_messages)
