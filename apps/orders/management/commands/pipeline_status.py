import json

from django.core.management.base import BaseCommand

from apps.orders.selectors import pipeline_counts


class Command(BaseCommand):
    help = "Counts of orders, receipts and outbox messages by status, for operators' scripts and monitoring."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object (stable keys)"
        )

    def handle(self, *args, **options):
        counts = pipeline_counts()
        if options["json"]:
            self.stdout.write(json.dumps(counts, sort_keys=True))
            return
        self.stdout.write("orders:   " + ", ".join(f"{k} {v}" for k, v in counts["orders"].items()))
        self.stdout.write(
            "receipts: " + ", ".join(f"{k} {v}" for k, v in counts["receipts"].items())
        )
        for peer, statuses in sorted(counts["outbox"].items()):
            self.stdout.write(
                f"outbox {peer}: " + ", ".join(f"{k} {v}" for k, v in statuses.items())
            )
        self.stdout.write(f"open holds: {counts['holds_open']}")
        warehouse = counts["warehouse"]
        self.stdout.write(
            f"warehouse queue: {warehouse['queue']} (dead {warehouse['dead']}), "
            f"drains in about {warehouse['drain_seconds']} s"
        )
        poll = counts["shopify_poll"]
        self.stdout.write(
            f"shopify poll: watermark {poll['watermark']}, lag {poll['lag_seconds']} s"
            + (", pass in progress" if poll["pass_in_progress"] else "")
        )
