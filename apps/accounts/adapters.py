from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """No public sign-up: admins create or invite users."""

    def is_open_for_signup(self, request) -> bool:
        return False
