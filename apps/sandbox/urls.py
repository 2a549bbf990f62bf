from django.urls import include, path

from apps.sandbox import views

app_name = "sandbox"
urlpatterns = [
    path("", views.index, name="index"),
    path("faults/<slug:peer>/", views.fault_update, name="fault-update"),
    path("faults/<slug:peer>.json", views.fault_api, name="fault-api"),
    path("mailbox/", views.mailbox, name="mailbox"),
    path("shipbob/restock/", views.shipbob_restock, name="shipbob-restock"),
    # The stand-in peers, one sub-app each (their own URL namespaces).
    path("shopify/", include("apps.sandbox.shopify.urls")),
    path("shipbob/", include("apps.sandbox.shipbob.urls")),
    path("xero/", include("apps.sandbox.xero.urls")),
    path("openai/", include("apps.sandbox.openai.urls")),
    path("teams/", include("apps.sandbox.teams.urls")),
]
