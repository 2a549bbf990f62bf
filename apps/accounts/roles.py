"""The four roles (Django groups) and the permissions each holds.

A data migration applies this table (`roles_apply`); a later issue that adds pages adds its
permissions here and a migration that calls `roles_apply` again.

`accounts.assign_roles` (who may change groups, staff and superuser status) is in no role on
purpose: superusers hold it, and a superuser grants it to a named person or two (docs/deploy.md).
"""

from django.contrib.auth.management import create_permissions

OPS = "Ops"
SUPPORT = "Support"
FINANCE = "Finance"
ADMIN = "Admin"
ROLES = (OPS, SUPPORT, FINANCE, ADMIN)

ROLE_PERMISSIONS: dict[str, list[str]] = {
    OPS: [
        "sync.view_alert",
        "sync.change_alert",
        "sync.view_outboxmessage",
        "sync.replay_outboxmessage",
        "sync.view_webhookreceipt",
        "sync.replay_webhookreceipt",
        "audit.view_auditevent",
        "orders.view_order",
        "orders.release_hold",
        "inventory.view_variantstock",
        "inventory.run_driftreport",
        "invoicing.view_invoicedraft",  # read only: the pipeline's last leg
        "sandbox.change_sandboxfault",
        "sandbox.view_sandboxmail",
        "support.view_ticket",
        "support.view_replydraft",
        "ops.view_dashboard",
        "ops.triage_exception",
    ],
    SUPPORT: [
        "orders.view_order",
        "inventory.view_variantstock",  # read only
        "support.view_ticket",
        "support.add_ticket",
        "support.change_ticket",
        "support.view_replydraft",
        "support.approve_replydraft",
        "sandbox.view_sandboxmail",
    ],
    FINANCE: [
        "orders.view_order",
        "inventory.view_variantstock",  # read only
        "invoicing.view_invoicedraft",
        "invoicing.approve_invoicedraft",
    ],
    ADMIN: [
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "auth.view_group",
        "audit.view_auditevent",
        "sync.view_alert",
        "orders.view_order",
        "inventory.view_skumapping",
        "inventory.add_skumapping",
        "inventory.change_skumapping",
        "inventory.delete_skumapping",
        "inventory.view_mappingversion",
        "inventory.view_shippingmethodmapping",
        "inventory.add_shippingmethodmapping",
        "inventory.change_shippingmethodmapping",
        "inventory.delete_shippingmethodmapping",
        "inventory.view_variantstock",
        "inventory.run_driftreport",
        "inventory.view_stockpolicy",
        "inventory.add_stockpolicy",
        "inventory.change_stockpolicy",
        "inventory.delete_stockpolicy",
        "inventory.view_peakbufferprofile",
        "inventory.add_peakbufferprofile",
        "inventory.change_peakbufferprofile",
        "inventory.view_driftreport",
        "invoicing.connect_xero",
        "invoicing.view_xeroconnection",
        "sandbox.change_sandboxfault",
        "sandbox.view_sandboxmail",
        "support.view_brandguide",
        "support.add_brandguide",
        "support.change_brandguide",
        "ops.view_dashboard",
    ],
}


def roles_apply(apps, schema_editor=None) -> None:
    """Create the groups and give each exactly the permissions in ROLE_PERMISSIONS (idempotent).

    Runs from data migrations (with the historical `apps`) and after every `migrate` (with the
    live registry). Permissions of apps that are not installed — the sandbox in production — or not
    migrated yet are skipped; the post-migrate run then completes the set.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Permissions are normally created after `migrate` finishes; create them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = {tuple(name.split(".", 1)) for name in names}
        permissions = [
            permission
            for permission in Permission.objects.filter(
                content_type__app_label__in={label for label, _ in wanted},
                codename__in={codename for _, codename in wanted},
            ).select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        group.permissions.set(permissions)


def roles_apply_after_migrate(sender, **kwargs) -> None:
    """post_migrate receiver: keep the groups converged on ROLE_PERMISSIONS after every migrate."""
    from django.apps import apps

    roles_apply(apps)
