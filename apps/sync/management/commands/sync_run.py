"""Run the sync pumps from a shell: `sync_run --once` drains everything due and exits."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.sync.pumps import pump_names, pump_run


class Command(BaseCommand):
    help = "Run the sync pumps (receipts and one per peer): once, or for a number of seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Drain what is due now and exit.")
        parser.add_argument(
            "--pump",
            action="append",
            dest="pumps",
            metavar="NAME",
            help="Only this pump (repeatable).",
        )
        parser.add_argument(
            "--seconds", type=float, default=None, help="Keep each pump draining this long."
        )

    def handle(
        self,
        *args: object,
        once: bool,
        pumps: list[str] | None,
        seconds: float | None,
        **options: object,
    ) -> None:
        known = pump_names()
        names = pumps or known
        unknown = [name for name in names if name not in known]
        if unknown:
            raise CommandError(f"Unknown pump(s): {', '.join(unknown)}. Known: {', '.join(known)}")
        for name in names:
            stats = pump_run(name, seconds=seconds, once=once or seconds is None)
            self.stdout.write(json.dumps(stats.as_dict()))
