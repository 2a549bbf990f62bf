"""Accounts: verified addresses for the people admins create, and audited role changes."""

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.audit import verbs
from apps.audit.services import audit_record

ASSIGN_ROLES = "accounts.assign_roles"


def user_email_verify(*, user) -> EmailAddress:
    """Record the user's address as verified and primary: an administrator created the account
    for it (there is no public sign-up), and allauth lets nobody enrol MFA with an unverified one."""
    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).update(primary=False)
    address, _ = EmailAddress.objects.update_or_create(
        user=user,
        email__iexact=user.email,
        defaults={"email": user.email, "verified": True, "primary": True},
    )
    return address


def user_roles(user) -> dict:
    """What a role change is about: groups, permissions held directly, staff and superuser status."""
    permissions = user.user_permissions.values_list("content_type__app_label", "codename")
    return {
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(f"{app_label}.{codename}" for app_label, codename in permissions),
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    }


def user_can_assign_roles(*, actor, user) -> bool:
    """Separation of duties: roles are changed by a holder of `accounts.assign_roles`, and never
    on their own account, so no one grants themselves a right to approve without a second person."""
    return actor.has_perm(ASSIGN_ROLES) and (user is None or user.pk != actor.pk)


@transaction.atomic
def user_roles_record(*, actor, user, before: dict) -> dict | None:
    """Check and audit a change of `user`'s roles from `before` to what is stored now.

    Raises PermissionDenied (rolling the change back) when `actor` may not make it; returns the
    audit data, or None when nothing changed.
    """
    after = user_roles(user)
    if after == before:
        return None
    if not user_can_assign_roles(actor=actor, user=user):
        raise PermissionDenied("You may not change this user's roles.")
    data = {
        "before": before,
        "after": after,
        "added_groups": sorted(set(after["groups"]) - set(before["groups"])),
        "removed_groups": sorted(set(before["groups"]) - set(after["groups"])),
    }
    audit_record(actor=actor, verb=verbs.USER_ROLES_CHANGED, target=user, data=data)
    return data
