"""Mounted at /sandbox/teams/: TEAMS_WEBHOOK_URL = <portal>/sandbox/teams/workflows/alerts."""

from django.urls import path

from apps.sandbox.teams import views

app_name = "sandbox_teams"
urlpatterns = [
    path("", views.received_list, name="received"),
    path("behaviour/", views.behaviour_update, name="behaviour"),
    path("workflows/<slug:workflow>", views.workflow_post, name="workflow"),
]
