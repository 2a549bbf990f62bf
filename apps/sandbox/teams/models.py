"""What the Teams stand-in received, and how it answers (a singleton switch)."""

from django.db import models
from django.db.models import Q


class SandboxTeamsBehaviour(models.Model):
    class Mode(models.TextChoices):
        ACCEPT = "accept", "Accept valid cards (202)"
        BARE_400 = "bare_400", "Answer a bare 400 (as Workflows does for some tenants)"
        SERVER_ERROR = "server_error", "Answer 503 (Teams is down)"
        TIMEOUT = "timeout", "Stall past the client's timeout"

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    mode = models.CharField(max_length=16, choices=Mode, default=Mode.ACCEPT)
    timeout_seconds = models.FloatField(default=20.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="sandboxteamsbehaviour_singleton"),
        ]

    def __str__(self) -> str:
        return f"Teams stand-in: {self.get_mode_display()}"


class SandboxTeamsPost(models.Model):
    """One request to a workflow URL, with what the stand-in answered."""

    workflow = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status_code = models.PositiveSmallIntegerField()
    error = models.TextField(blank=True)
    size = models.PositiveIntegerField(default=0)
    cards = models.JSONField(default=list)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.workflow} {self.received_at:%H:%M:%S} → {self.status_code}"
