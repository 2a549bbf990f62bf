from django.urls import path

from apps.support import views

app_name = "support"
urlpatterns = [
    path("", views.ticket_list, name="ticket-list"),
    path("approve/", views.ticket_approve_bulk, name="approve-bulk"),
    path("new/", views.ticket_new, name="ticket-new"),
    path("<int:pk>/", views.ticket_detail, name="ticket"),
    path("<int:pk>/relink/", views.ticket_relink, name="relink"),
    path("<int:pk>/audit/", views.ticket_audit, name="ticket-audit"),
    path("<int:pk>/audit.csv", views.ticket_audit_csv, name="ticket-audit-csv"),
    path("drafts/<int:pk>/edit/", views.draft_edit, name="edit"),
    path("drafts/<int:pk>/approve/", views.draft_approve, name="approve"),
    path("drafts/<int:pk>/reject/", views.draft_reject, name="reject"),
    path("drafts/<int:pk>/regenerate/", views.draft_regenerate, name="regenerate"),
]
