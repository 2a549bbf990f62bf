from django.urls import path

from apps.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/release/", views.order_release, name="release"),
    path("<int:pk>/hold/override/", views.hold_override, name="hold-override"),
    path("<int:pk>/hold/cancel/", views.hold_cancel, name="hold-cancel"),
    path("lines/<int:pk>/handle/", views.line_handle, name="line-handle"),
    path("lines/<int:pk>/map-title/", views.line_title_map, name="line-title-map"),
    path("holds/", views.hold_list, name="hold-list"),
    path("holds/release/", views.hold_release, name="hold-release"),
]
