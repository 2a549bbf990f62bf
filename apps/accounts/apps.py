from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added
        from django.db.models.signals import post_migrate

        from apps.accounts.mfa import mfa_record_enrolment
        from apps.accounts.roles import roles_apply_after_migrate

        # Last: after every app's own post_migrate work (permissions, content types) has run.
        post_migrate.connect(roles_apply_after_migrate, dispatch_uid="accounts.roles_apply")
        authenticator_added.connect(mfa_record_enrolment, dispatch_uid="accounts.mfa_enrolment")
