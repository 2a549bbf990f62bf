"""Check the money: every fully shipped order's drafts minus credit notes equal Shopify's current
total, to the cent. Prints the count checked and every difference; exits 1 on any difference.
An order whose newest refund the every-minute invoicing scan has not reviewed yet is counted apart."""

from django.core.management.base import BaseCommand, CommandError

from apps.invoicing.selectors import orders_awaiting_refund_review, orders_money_check


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        checked, differing = orders_money_check()
        waiting = orders_awaiting_refund_review().count()
        for row in differing:
            self.stdout.write(
                f"{row.name} ({row.currency}): drafts {row.invoiced} − credit notes "
                f"{row.credited} = {row.invoiced - row.credited}, Shopify {row.shopify_total}, "
                f"difference {row.difference}"
            )
        self.stdout.write(
            f"invoices_verify: {checked} fully shipped order(s) checked, "
            f"{len(differing)} differ from Shopify's current total; {waiting} with a refund "
            "awaiting the credit-note scan (checked next time)"
        )
        if differing:
            raise CommandError(f"{len(differing)} order(s) differ from Shopify's current total")
