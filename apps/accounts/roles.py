"""The four roles (Django groups) and the permissions each holds.

A data migration applies this table (`roles_apply`); a later issue that adds pages adds its
permissions here and a migration that calls `roles_apply` again.
"""

from django.contrib.auth.management import create_permissions

OPS = "Ops"
SUPPORT = "Support"
FINANCE = "Finance"
ADMIN = "Admin"
ROLES = (OPS, SUPPORT, FINANCE, ADMIN)
# Roles whose members must enrol a TOTP authenticator before they can use the portal.
MFA_ROLES = frozenset({FINANCE, ADMIN})

ROLE_PERMISSIONS: dict[str, list[str]] = {
    OPS: [
        "sync.view_alert",
        "sync.change_alert",
        "sync.view_outboxmessage",
        "sync.replay_outboxmessage",
        "sync.view_webhookreceipt",
        "sync.replay_webhookreceipt",
        "audit.view_auditevent",
    ],
    SUPPORT: [],
    FINANCE: [],
    ADMIN: [
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "auth.view_group",
        "audit.view_auditevent",
        "sync.view_alert",
    ],
}


def roles_apply(apps, schema_editor=None) -> None:
    """Create the groups and give each exactly the permissions in ROLE_PERMISSIONS (idempotent)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Permissions are normally created after `migrate` finishes; create them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for name in names:
            app_label, codename = name.split(".", 1)
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)
