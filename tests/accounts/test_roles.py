"""Who may change roles: holders of `accounts.assign_roles` (no role holds it), never on their
own account; every change of groups, staff or superuser status is an audit event on /ops/audit/."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from apps.accounts.roles import ADMIN, FINANCE, OPS, SUPPORT
from apps.accounts.services import user_roles, user_roles_record
from apps.audit import verbs
from apps.audit.models import AuditEvent
from tests.conftest import make_persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def role_assigner(db):
    """An Admin who was also given the one permission to change roles."""
    user = make_persona(ADMIN, "assigner@example.com")
    user.user_permissions.add(Permission.objects.get(codename="assign_roles"))
    return user


def change_form(
    user, *, groups: list[str], is_staff: bool, is_superuser: bool, permissions=()
) -> dict:
    data = {
        "user_permissions": [p.pk for p in permissions],
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "groups": [g.pk for g in Group.objects.filter(name__in=groups)],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    if is_staff:
        data["is_staff"] = "on"
    if is_superuser:
        data["is_superuser"] = "on"
    return data


def post_change(client, actor, user, **roles):
    client.force_login(actor)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    return client.post(url, change_form(user, **roles))


def test_no_role_holds_the_right_to_change_roles():
    assert not Group.objects.filter(permissions__codename="assign_roles").exists()


def test_an_admin_cannot_grant_itself_superuser_finance_and_support(client, admin_user):
    response = post_change(
        client,
        admin_user,
        admin_user,
        groups=[ADMIN, FINANCE, SUPPORT],
        is_staff=True,
        is_superuser=True,
    )

    assert response.status_code == 302  # the rest of the form saves; the roles are read-only
    admin_user.refresh_from_db()
    assert user_roles(admin_user) == {
        "groups": [ADMIN],
        "permissions": [],
        "is_staff": True,
        "is_superuser": False,
    }
    assert not admin_user.has_perm("invoicing.approve_invoicedraft")
    assert not AuditEvent.objects.filter(verb=verbs.USER_ROLES_CHANGED).exists()


def test_an_admin_without_the_permission_cannot_change_anyones_roles(client, admin_user, ops_user):
    post_change(client, admin_user, ops_user, groups=[FINANCE], is_staff=True, is_superuser=True)

    ops_user.refresh_from_db()
    assert user_roles(ops_user) == {
        "groups": [OPS],
        "permissions": [],
        "is_staff": False,
        "is_superuser": False,
    }


def test_the_role_assigner_changes_another_users_roles_and_it_is_audited(
    client, role_assigner, ops_user, settings
):
    response = post_change(
        client, role_assigner, ops_user, groups=[OPS, FINANCE], is_staff=True, is_superuser=False
    )

    assert response.status_code == 302
    ops_user.refresh_from_db()
    assert user_roles(ops_user) == {
        "groups": [FINANCE, OPS],
        "permissions": [],
        "is_staff": True,
        "is_superuser": False,
    }
    event = AuditEvent.objects.get(verb=verbs.USER_ROLES_CHANGED)
    assert event.actor == role_assigner
    assert event.target_id == str(ops_user.pk)
    assert event.data["added_groups"] == [FINANCE]
    assert event.data["before"]["is_staff"] is False
    assert event.data["after"]["is_staff"] is True
    page = client.get(reverse("ops:audit-list"), {"verb": "user."})
    assert verbs.USER_ROLES_CHANGED in page.content.decode()
    assert ops_user.email in page.content.decode() or str(ops_user) in page.content.decode()


def test_the_role_assigner_cannot_change_its_own_roles(client, role_assigner):
    post_change(
        client,
        role_assigner,
        role_assigner,
        groups=[ADMIN, FINANCE],
        is_staff=True,
        is_superuser=True,
    )

    role_assigner.refresh_from_db()
    assert user_roles(role_assigner) == {
        "groups": [ADMIN],
        "permissions": ["accounts.assign_roles"],
        "is_staff": True,
        "is_superuser": False,
    }


def test_a_change_on_ones_own_account_is_refused_by_the_service_too(role_assigner):
    before = user_roles(role_assigner)
    role_assigner.groups.add(Group.objects.get(name=FINANCE))

    with pytest.raises(PermissionDenied):
        user_roles_record(actor=role_assigner, user=role_assigner, before=before)


def test_the_role_assigner_cannot_grant_itself_a_right_directly(client, role_assigner):
    approve = Permission.objects.get(codename="approve_invoicedraft")

    post_change(
        client,
        role_assigner,
        role_assigner,
        groups=[ADMIN],
        is_staff=True,
        is_superuser=False,
        permissions=[approve],
    )

    role_assigner.refresh_from_db()
    assert not role_assigner.user_permissions.filter(pk=approve.pk).exists()


def test_a_superuser_cannot_change_its_own_roles_either(client, superuser):
    post_change(client, superuser, superuser, groups=[FINANCE], is_staff=True, is_superuser=True)

    superuser.refresh_from_db()
    assert list(superuser.groups.all()) == []


def test_without_the_permission_the_add_form_offers_no_groups(client, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("admin:accounts_user_add"))

    assert page.status_code == 200
    assert 'name="groups"' not in page.content.decode()
