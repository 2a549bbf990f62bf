from django.urls import path

from apps.invoicing import views

app_name = "invoicing"
urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("approve/", views.invoice_approve_bulk, name="approve-bulk"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/approve/", views.invoice_approve, name="approve"),
    path("<int:pk>/reject/", views.invoice_reject, name="reject"),
    path("lines/<int:pk>/correct/", views.invoice_line_correct, name="line-correct"),
    path("reconciliation/", views.reconciliation_report, name="reconciliation"),
    path("reconciliation.csv", views.reconciliation_csv, name="reconciliation-csv"),
    path("reconciliation/check/", views.reconciliation_check, name="reconciliation-check"),
    path("xero/", views.xero_status, name="xero"),
    path("xero/connect/", views.xero_connect, name="xero-connect"),
    path("xero/callback/", views.xero_callback, name="xero-callback"),
]
