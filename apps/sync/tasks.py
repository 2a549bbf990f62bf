"""django-q2 task bodies. A schedule runs each pump once a minute; each run drains for
SYNC["PUMP_RUN_SECONDS"], so work is picked up within about a second while the schedule stays coarse."""

from typing import Any

from django.conf import settings
from django_q.tasks import async_task

from apps.sync.pumps import pump_run

# The dotted path schedules and the dashboard's pump-duration metric name it by.
PUMP_TASK = "apps.sync.tasks.pump_task"


def pump_task(name: str) -> dict[str, Any]:
    """Run one pump until its run time is up (a no-op if another worker holds its lease).

    A run that ends while work is still flowing queues the next one at once: waiting for the
    schedule would leave the peer's budget unused for up to a minute (a sixth of it at 50 s runs).
    """
    stats = pump_run(name, seconds=float(settings.SYNC["PUMP_RUN_SECONDS"]))
    if stats.backlog:
        async_task(PUMP_TASK, name, task_name=f"sync.pump.{name}.next")
    return stats.as_dict()
