"""The project's URLs plus the Shopify stand-in, for tests that run before apps/sandbox/urls.py includes it."""

from django.urls import include, path

from o2c_portal.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("sandbox/shopify/", include("apps.sandbox.shopify.urls")),
    *project_urlpatterns,
]
