from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from apps.accounts.roles import roles_apply_after_migrate

        # Last: after every app's own post_migrate work (permissions, content types) has run.
        post_migrate.connect(roles_apply_after_migrate, dispatch_uid="accounts.roles_apply")
