"""python manage.py shipbob_ship [--once] [--every 5] [--ship-after 30] [--partial-rate 0.15] …"""

import time

from django.core.management.base import BaseCommand

from apps.sandbox.shipbob.simulator import shipping_tick


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{value} is not a rate between 0 and 1")
    return rate


class Command(BaseCommand):
    help = (
        "Run the ShipBob stand-in's warehouse: ship submitted orders after the delay (sometimes in "
        "two parcels), deliver, and send signed webhooks with duplicates and drops."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--every", type=float, default=5.0, help="Seconds between passes.")
        parser.add_argument("--ship-after", type=float, default=None)
        parser.add_argument("--deliver-after", type=float, default=None)
        for name in (
            "partial-rate",
            "exception-rate",
            "cancel-rate",
            "duplicate-rate",
            "drop-rate",
        ):
            parser.add_argument(f"--{name}", type=_rate, default=None)
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--url", default="", help="Webhook URL (default: O2C_PUBLIC_URL + /webhooks/shipbob/)"
        )

    def handle(self, *args, **options):
        kwargs = {
            "ship_after_seconds": options["ship_after"],
            "deliver_after_seconds": options["deliver_after"],
            "partial_rate": options["partial_rate"],
            "exception_rate": options["exception_rate"],
            "cancel_rate": options["cancel_rate"],
            "duplicate_rate": options["duplicate_rate"],
            "drop_rate": options["drop_rate"],
            "target_url": options["url"] or None,
        }
        seed = options["seed"]
        while True:
            result = shipping_tick(seed=seed, **kwargs)
            self.stdout.write(" ".join(f"{key}={value}" for key, value in result.items()))
            if options["once"]:
                return
            seed = None if seed is None else seed + 1
            time.sleep(options["every"])
