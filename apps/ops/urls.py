from django.urls import path

from apps.ops import views

app_name = "ops"
urlpatterns = [
    path("alerts/", views.alert_list, name="alert-list"),
    path("outbox/", views.outbox_list, name="outbox-list"),
    path("audit/", views.audit_list, name="audit-list"),
]
