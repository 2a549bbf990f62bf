from django.urls import path

from apps.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/release/", views.order_release, name="release"),
    path("holds/", views.hold_list, name="hold-list"),
    path("holds/release/", views.hold_release, name="hold-release"),
]
