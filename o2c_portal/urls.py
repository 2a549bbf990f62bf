from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from apps.accounts.views import admin_login
from apps.ops.views import metrics, search
from apps.orders.webhooks import shipbob_webhook, shopify_webhook
from apps.support.intake import helpdesk_webhook
from o2c_portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("search/", search, name="search"),
    path("time-zone/", views.time_zone_set, name="time-zone"),
    path("accounts/", include("allauth.urls")),
    # Before admin.site.urls: it replaces the admin's own password-only sign-in form.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("ops/", include("apps.ops.urls")),
    path("orders/", include("apps.orders.urls")),
    path("inventory/", include("apps.inventory.urls")),
    path("invoicing/", include("apps.invoicing.urls")),
    path("support/", include("apps.support.urls")),
    path("webhooks/shopify/", shopify_webhook, name="webhook-shopify"),
    path("webhooks/shipbob/", shipbob_webhook, name="webhook-shipbob"),
    path("webhooks/helpdesk/", helpdesk_webhook, name="webhook-helpdesk"),
]

if settings.O2C_SANDBOX:
    urlpatterns.append(path("sandbox/", include("apps.sandbox.urls")))
