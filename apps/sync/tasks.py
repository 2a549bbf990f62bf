"""django-q2 task bodies. A schedule runs each pump once a minute; each run drains for
SYNC["PUMP_RUN_SECONDS"], so work is picked up within about a second while the schedule stays coarse."""

from django.conf import settings

from apps.sync.pumps import pump_run


def pump_task(name: str) -> dict:
    """Run one pump until its run time is up (a no-op if another worker holds its lease)."""
    return pump_run(name, seconds=float(settings.SYNC["PUMP_RUN_SECONDS"])).as_dict()
