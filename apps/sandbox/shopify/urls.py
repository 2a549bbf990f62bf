"""Mounted at /sandbox/shopify/ (include("apps.sandbox.shopify.urls") in apps/sandbox/urls.py)."""

from django.urls import path

from apps.sandbox.shopify import views

app_name = "sandbox_shopify"
urlpatterns = [
    path("admin/oauth/access_token", views.access_token, name="access-token"),
    path("admin/api/<str:version>/graphql.json", views.graphql, name="graphql"),
]
