"""The control room's own rows: who owns an exception and how it was closed; the cluster's pulse."""

from django.conf import settings
from django.db import models


class ExceptionTriage(models.Model):
    """A person's hand on one exception of the queue: assigned to someone, or resolved with a reason.

    Keyed by the exception source's kind and the row's id. A resolution hides the row only while
    the row stays stuck since before it: if the same row fails again later, it is back in the queue.
    """

    kind = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "object_id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="triage_one_per_exception"),
        ]
        permissions = [("triage_exception", "Can assign, retry and resolve exceptions")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class ClusterHeartbeat(models.Model):
    """Written by a task-cluster worker every minute (schedule `ops.heartbeat`): the cluster is alive."""

    name = models.CharField(max_length=64, unique=True)
    worker = models.CharField(max_length=128, blank=True)
    beat_at = models.DateTimeField()

    class Meta:
        permissions = [("view_dashboard", "Can see the ops dashboard")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class BudgetSample(models.Model):
    """A peer budget's call and 429 counters, sampled each minute with the heartbeat.

    The budget row only keeps running totals; the difference to a sample a minute (an hour) ago is
    the calls in the last minute (the 429s in the last hour) that the dashboard and /metrics show.
    """

    peer = models.CharField(max_length=32)
    at = models.DateTimeField()
    calls_total = models.PositiveBigIntegerField()
    throttled_total = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["peer", "at"]
        indexes = [models.Index(fields=["at"], name="budgetsample_at_idx")]

    def __str__(self) -> str:
        return f"{self.peer} @ {self.at:%H:%M}: {self.calls_total} calls"


class ThroughputHour(models.Model):
    """How many items went through one flow (orders received, shipped, invoices posted…) in one hour.

    A rollup the heartbeat keeps (`throughput_rollup`): the 7-day chart reads 168 rows per flow
    instead of counting a week of orders on every refresh. Hours are UTC hour starts.
    """

    flow = models.CharField(max_length=32)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["flow", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "hour"], name="throughput_one_per_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.flow} @ {self.hour:%Y-%m-%d %H}: {self.count}"
