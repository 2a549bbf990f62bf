"""Mounted at /sandbox/openai/ (include("apps.sandbox.openai.urls") in apps/sandbox/urls.py)."""

from django.urls import path

from apps.sandbox.openai import views

app_name = "sandbox_openai"
urlpatterns = [
    path("", views.behaviour_page, name="behaviour"),
    path("behaviour.json", views.behaviour_api, name="behaviour-api"),
    # The v1 endpoint: AZURE_OPENAI_BASE_URL = <portal>/sandbox/openai/v1
    path("v1/chat/completions", views.chat_completions, name="chat-completions"),
]
