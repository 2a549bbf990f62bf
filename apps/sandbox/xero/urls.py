"""Mounted at /sandbox/xero/ (include("apps.sandbox.xero.urls") in apps/sandbox/urls.py).

The layout mirrors settings.XERO: IDENTITY_URL …/identity, AUTHORIZE_URL …/login/authorize,
CONNECTIONS_URL …/connections, API_URL …/api.xro/2.0.
"""

from django.urls import path

from apps.sandbox.xero import views

app_name = "sandbox_xero"
urlpatterns = [
    path("identity/connect/token", views.token, name="token"),
    path("login/authorize", views.authorize, name="authorize"),
    path("connections", views.connections, name="connections"),
    path("stats.json", views.stats, name="stats"),
    path("api.xro/2.0/Invoices", views.invoices, name="invoices"),
    path("api.xro/2.0/Invoices/<str:ref>", views.invoice_detail, name="invoice-detail"),
    path("api.xro/2.0/CreditNotes", views.credit_notes, name="credit-notes"),
    path(
        "api.xro/2.0/CreditNotes/<str:ref>/Allocations",
        views.credit_note_allocations,
        name="credit-note-allocations",
    ),
    path("api.xro/2.0/CreditNotes/<str:ref>", views.credit_note_detail, name="credit-note-detail"),
    path("api.xro/2.0/Contacts", views.contacts, name="contacts"),
    path("api.xro/2.0/Contacts/<str:ref>", views.contact_detail, name="contact-detail"),
]
