import zoneinfo
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from apps.accounts.mfa import session_passed_mfa, user_has_totp, user_requires_mfa


class RequireMFAMiddleware:
    """Everyone who can approve, post, send or administer uses TOTP in this very session.

    Not enrolled yet: every page but allauth's own sends them to enrol. Enrolled, but this session
    never answered a code (it signed in some other way): it is signed out, on every page.
    """

    # Pages that never carry a person's session.
    sessionless_prefixes = ("/static/", "/webhooks/", "/sandbox/", "/healthz")
    # allauth's pages: enrolment itself, re-authentication, recovery codes, sign out.
    enrol_prefixes = ("/accounts/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self._gate(request) or self.get_response(request)

    def _gate(self, request):
        if not settings.O2C_REQUIRE_MFA or request.path.startswith(self.sessionless_prefixes):
            return None
        user = request.user
        if not user.is_authenticated or not user_requires_mfa(user):
            return None
        if not user_has_totp(user):
            if request.path.startswith(self.enrol_prefixes):
                return None
            return redirect(reverse("mfa_activate_totp"))
        if session_passed_mfa(request):
            return None
        logout(request)
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('account_login')}?{query}")


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
