"""Mounted at /sandbox/shipbob/ (include("apps.sandbox.shipbob.urls") in apps/sandbox/urls.py)."""

from django.urls import path

from apps.sandbox.shipbob import views

app_name = "sandbox_shipbob"
urlpatterns = [
    path("<str:version>/order", views.orders, name="orders"),
    path("<str:version>/order/<int:order_id>", views.order_detail, name="order-detail"),
    path("<str:version>/order/<int:order_id>:cancel", views.order_cancel, name="order-cancel"),
    path("<str:version>/inventory-level", views.inventory_levels, name="inventory-levels"),
]
