from django.urls import path

from apps.inventory import views

app_name = "inventory"
urlpatterns = [
    path("", views.stock_list, name="list"),
    path("export.csv", views.stock_export, name="export"),
    path("drift-reports/run/", views.drift_report_run, name="drift-report-run"),
    path("drift-reports/<int:pk>/", views.drift_report_detail, name="drift-report"),
]
