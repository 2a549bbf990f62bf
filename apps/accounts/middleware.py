import zoneinfo

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import MFA_ROLES


class RequireMFAMiddleware:
    """Members of the Finance and Admin groups must enrol TOTP before they use any page.

    Once enrolled, allauth asks for the code at every sign-in.
    """

    exempt_prefixes = ("/accounts/", "/static/", "/webhooks/", "/sandbox/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_enrol(request):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    def _must_enrol(self, request) -> bool:
        if not settings.O2C_REQUIRE_MFA or request.path.startswith(self.exempt_prefixes):
            return False
        user = request.user
        if not user.is_authenticated:
            return False
        if not user.groups.filter(name__in=MFA_ROLES).exists():
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class UserTimeZoneMiddleware:
    """Times on every page are shown in the signed-in user's zone, else in settings.TIME_ZONE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = getattr(getattr(request, "user", None), "time_zone", "")
        if name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
