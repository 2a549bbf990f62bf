from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

# Where a role lands after signing in when no `next` page was asked for: Ops watch the dashboard.
LANDING_PAGES = (("ops.triage_exception", "ops:dashboard"),)


class AccountAdapter(DefaultAccountAdapter):
    """No public sign-up: admins create or invite users."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_redirect_url(self, request) -> str:
        for permission, url_name in LANDING_PAGES:
            if request.user.has_perm(permission):
                return reverse(url_name)
        return super().get_login_redirect_url(request)
