"""python manage.py storefront_simulate --orders N [--seed S] [--duplicate-rate R …]"""

from django.core.management.base import BaseCommand, CommandError

from apps.sandbox.shopify.simulator import SimulatorConfig, storefront_simulate


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{value} is not a rate between 0 and 1")
    return rate


class Command(BaseCommand):
    help = (
        "Create realistic orders in the Shopify stand-in and deliver them as signed webhooks "
        "(with duplicate, out-of-order, late and dropped deliveries at the given rates)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=5)
        parser.add_argument("--seed", type=int, default=None)
        for name, default in (
            ("duplicate-rate", 0.0),
            ("out-of-order-rate", 0.0),
            ("late-rate", 0.0),
            ("drop-rate", 0.0),
            ("sku-missing-rate", 0.05),
            ("unknown-sku-rate", 0.03),
            ("discount-rate", 0.4),
            ("cancel-rate", 0.08),
            ("refund-rate", 0.1),
            ("no-address-rate", 0.0),
        ):
            parser.add_argument(f"--{name}", type=_rate, default=default)
        parser.add_argument(
            "--url", default="", help="Webhook URL (default: O2C_PUBLIC_URL + /webhooks/shopify/)"
        )
        parser.add_argument(
            "--no-deliver", action="store_true", help="Only write the orders to the stand-in store."
        )

    def handle(self, *args, **options):
        if options["orders"] < 0:
            raise CommandError("--orders must be 0 or more")
        config = SimulatorConfig(
            orders=options["orders"],
            seed=options["seed"],
            duplicate_rate=options["duplicate_rate"],
            out_of_order_rate=options["out_of_order_rate"],
            late_rate=options["late_rate"],
            drop_rate=options["drop_rate"],
            sku_missing_rate=options["sku_missing_rate"],
            unknown_sku_rate=options["unknown_sku_rate"],
            discount_rate=options["discount_rate"],
            cancel_rate=options["cancel_rate"],
            refund_rate=options["refund_rate"],
            no_address_rate=options["no_address_rate"],
            target_url=options["url"],
            deliver=not options["no_deliver"],
        )
        result = storefront_simulate(config=config)
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result.statuses.items())) or "-"
        self.stdout.write(
            f"orders={len(result.order_ids)} deliveries={len(result.deliveries)} sent={result.sent} "
            f"dropped={result.dropped} duplicated={result.duplicated} reordered={result.reordered} "
            f"late={result.late} statuses=[{statuses}]"
        )
        for failure in result.failures[:20]:
            self.stderr.write(f"failed: {failure}")
        if result.failures:
            raise CommandError(f"{len(result.failures)} deliveries failed")
