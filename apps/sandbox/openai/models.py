"""The stand-in model's behaviour switch (one row) and a log of the calls it answered."""

from django.db import models
from django.db.models import Q


class SandboxModelBehaviour(models.Model):
    """How the stand-in answers every chat completion until changed (a singleton: id 1)."""

    class Mode(models.TextChoices):
        NORMAL = "normal", "Normal: grounded replies"
        INVENT_TRACKING = "invent_tracking", "Invents a tracking number and a date"
        OBEY_INJECTION = "obey_injection", "Obeys instructions in the customer's text"
        CONTENT_FILTER_PROMPT = "content_filter_prompt", "Content filter on the prompt (HTTP 400)"
        CONTENT_FILTER_ANSWER = "content_filter_answer", "Content filter on the answer"
        MALFORMED_JSON = "malformed_json", "Answers malformed JSON"

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    mode = models.CharField(max_length=32, choices=Mode, default=Mode.NORMAL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="sandboxmodelbehaviour_singleton"),
        ]

    def __str__(self) -> str:
        return f"Stand-in model: {self.get_mode_display()}"


class SandboxModelCall(models.Model):
    """One answered call, so tests and the demo can see what the model was sent and said."""

    created_at = models.DateTimeField(auto_now_add=True)
    mode = models.CharField(max_length=32, choices=SandboxModelBehaviour.Mode)
    status_code = models.PositiveSmallIntegerField()
    model = models.CharField(max_length=200, blank=True)
    request = models.JSONField(default=dict)
    response = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.mode} → {self.status_code}"
