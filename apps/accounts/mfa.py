"""Who must use a second factor, and whether this session has used it.

The rule is by permission, not by group name: anyone who can approve, post, send or administer
(staff and superusers included) signs in with TOTP when O2C_REQUIRE_MFA is on.
"""

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

# Approve (invoices, replies), post or send (replays re-send to the peers), administer.
MFA_PERMISSIONS = (
    "invoicing.approve_invoicedraft",
    "support.approve_replydraft",
    "sync.replay_outboxmessage",
    "sync.replay_webhookreceipt",
    "invoicing.connect_xero",
    "accounts.add_user",
    "accounts.change_user",
    "accounts.assign_roles",
    "auth.change_group",
)


def user_requires_mfa(user) -> bool:
    if not user.is_active:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return any(user.has_perm(permission) for permission in MFA_PERMISSIONS)


def user_has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def session_passed_mfa(request: HttpRequest) -> bool:
    """True when this session answered a second factor for its user (allauth's own record)."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def mfa_record_enrolment(sender, request, user, authenticator, **kwargs) -> None:
    """allauth's `authenticator_added` receiver: enrolling TOTP means this session just typed a
    valid code after re-entering the password, so it counts as the session's second factor."""
    if authenticator.type == Authenticator.Type.TOTP and request is not None:
        record_authentication(
            request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True
        )
