from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe


@require_safe
def admin_login(request: HttpRequest) -> HttpResponse:
    """Django admin's own sign-in form is closed: it knows neither TOTP nor allauth's rate limits.
    Staff sign in through allauth and come back to the admin page they asked for."""
    next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if request.user.is_authenticated:
        # Signed in already: staff go on; anyone else would bounce between the two pages.
        if request.user.is_staff:
            return HttpResponseRedirect(next_url)
        return render(request, "accounts/admin_refused.html", status=403)
    query = urlencode({REDIRECT_FIELD_NAME: next_url})
    return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
