from django.urls import path

from apps.ops import views

app_name = "ops"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tiles/<slug:tile>/", views.dashboard_tile, name="dashboard-tile"),
    path("exceptions/", views.exception_list, name="exception-list"),
    path(
        "exceptions/retry/preview/", views.exception_retry_preview, name="exception-retry-preview"
    ),
    path("exceptions/retry/", views.exception_retry, name="exception-retry"),
    path("exceptions/resolve/", views.exception_resolve, name="exception-resolve"),
    path("exceptions/assign/", views.exception_assign, name="exception-assign"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve/", views.alert_resolve, name="alert-resolve"),
    path("alerts/bulk/", views.alert_bulk, name="alert-bulk"),
    path("alerts/ack/<str:token>/", views.alert_ack_link, name="alert-ack-link"),
    path("alerts/teams-test/", views.teams_test_card, name="teams-test-card"),
    path("runbook/", views.runbook, name="runbook"),
    path("outbox/", views.outbox_list, name="outbox-list"),
    path("outbox/<int:pk>/", views.outbox_detail, name="outbox-detail"),
    path("outbox/replay/preview/", views.outbox_replay_preview, name="outbox-replay-preview"),
    path("outbox/replay/", views.outbox_replay, name="outbox-replay"),
    path("receipts/", views.receipt_list, name="receipt-list"),
    path("receipts/<int:pk>/", views.receipt_detail, name="receipt-detail"),
    path("receipts/replay/", views.receipt_replay, name="receipt-replay"),
    path("audit/", views.audit_list, name="audit-list"),
]
