from django.urls import path

from apps.invoicing import credit_views, views

app_name = "invoicing"
urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("approve/", views.invoice_approve_bulk, name="approve-bulk"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/approve/", views.invoice_approve, name="approve"),
    path("<int:pk>/reject/", views.invoice_reject, name="reject"),
    path("lines/<int:pk>/correct/", views.invoice_line_correct, name="line-correct"),
    path("credit-notes/", credit_views.credit_note_list, name="credit-list"),
    path(
        "credit-notes/approve/", credit_views.credit_note_approve_bulk, name="credit-approve-bulk"
    ),
    path("credit-notes/<int:pk>/", credit_views.credit_note_detail, name="credit-detail"),
    path("credit-notes/<int:pk>/approve/", credit_views.credit_note_approve, name="credit-approve"),
    path(
        "credit-notes/<int:pk>/reject/", credit_views.credit_note_reject_view, name="credit-reject"
    ),
    path("reconciliation/", views.reconciliation_report, name="reconciliation"),
    path("reconciliation.csv", views.reconciliation_csv, name="reconciliation-csv"),
    path("reconciliation/check/", views.reconciliation_check, name="reconciliation-check"),
    path("xero/", views.xero_status, name="xero"),
    path("xero/connect/", views.xero_connect, name="xero-connect"),
    path("xero/callback/", views.xero_callback, name="xero-callback"),
]
