from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.roles import ADMIN, FINANCE, OPS, SUPPORT


@dataclass(frozen=True)
class DemoUser:
    email: str
    role: str
    password: str
    first_name: str
    superuser: bool = False


# Fixed passwords so the README can list them; seed_demo refuses to run outside a demo/sandbox setup.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("ops@demo.local", OPS, "demo-ops-pass", "Olivia"),
    DemoUser("support@demo.local", SUPPORT, "demo-support-pass", "Sam"),
    DemoUser("finance@demo.local", FINANCE, "demo-finance-pass", "Farah"),
    DemoUser("admin@demo.local", ADMIN, "demo-admin-pass", "Ada", superuser=True),
)


def demo_users_seed() -> list[tuple[DemoUser, bool]]:
    """Create or reset the demo users (password, role, flags); return (user, created) pairs."""
    User = get_user_model()
    results = []
    with transaction.atomic():
        for demo in DEMO_USERS:
            group = Group.objects.get(name=demo.role)
            user, created = User.objects.get_or_create(
                email=demo.email, defaults={"first_name": demo.first_name}
            )
            user.first_name = user.first_name or demo.first_name
            user.is_active = True
            user.is_staff = demo.superuser or demo.role == ADMIN
            user.is_superuser = demo.superuser
            user.set_password(demo.password)
            user.save()
            user.groups.set([group])
            results.append((demo, created))
    return results


# The demo shops' Shopify tax lines → the sandbox organisation's tax types (apps/sandbox/xero):
# New York's state and county taxes post together under one 8.5% type, as Xero's US orgs do.
DEMO_TAX_TYPES = (
    ("NY State Tax", "0.04", "USD", "US", "TAX002", "8.5"),
    ("New York County Tax", "0.045", "USD", "US", "TAX002", "8.5"),
    ("GB VAT", "0.2", "GBP", "GB", "OUTPUT2", "20"),
    ("DE MwSt", "0.19", "EUR", "DE", "TAX003", "19"),
)
DEMO_LOW_STOCK_THRESHOLDS = {"TEE-BLK-M": 30}


def demo_mappings_seed() -> int:
    """Map the demo storefront's catalogue (bundles as their components); leave NEW-* SKUs unmapped
    so some simulated orders are held. Returns how many mappings were created."""
    from apps.inventory.models import SkuMapping, StockPolicy, TaxTypeMapping, WarehouseComponent
    from apps.inventory.services import mapping_version_bump
    from apps.sandbox.catalogue import BUNDLES, CATALOGUE, warehouse_items

    inventory_ids = {item.sku: inventory_id for inventory_id, item in warehouse_items()}
    created = 0
    with transaction.atomic():
        for item in CATALOGUE:
            if SkuMapping.objects.filter(shopify_sku__iexact=item.sku).exists():
                continue
            mapping = SkuMapping.objects.create(
                shopify_sku=item.sku,
                shopify_variant_id=item.variant_id,
                title=f"{item.title} {item.variant_title}".strip(),
                xero_item_code=item.sku[:30],
                xero_account_code="200",
                xero_tax_type="OUTPUT2",
            )
            parts = BUNDLES.get(item.sku, ((item.sku, 1),))
            WarehouseComponent.objects.bulk_create(
                WarehouseComponent(
                    mapping=mapping, inventory_id=inventory_ids[sku], quantity=quantity
                )
                for sku, quantity in parts
            )
            created += 1
        for title, rate, currency, country, tax_type, xero_rate in DEMO_TAX_TYPES:
            _, made = TaxTypeMapping.objects.get_or_create(
                shopify_title=title,
                shopify_rate=Decimal(rate),
                currency=currency,
                country_code=country,
                defaults={"xero_tax_type": tax_type, "xero_rate": Decimal(xero_rate)},
            )
            created += made
        if created:
            mapping_version_bump(actor=None, summary=f"demo seed: {created} catalogue rows mapped")
        # The SKU the warehouse stand-in starts short of: its low-stock alert shows within minutes.
        for sku, threshold in DEMO_LOW_STOCK_THRESHOLDS.items():
            mapping = SkuMapping.objects.filter(shopify_sku__iexact=sku).first()
            if mapping is not None:
                StockPolicy.objects.get_or_create(
                    mapping=mapping, defaults={"low_stock_threshold": threshold}
                )
    return created


DEMO_POLICIES = [
    {
        "id": "returns-30",
        "title": "Returns within 30 days",
        "text": "Unworn items can be returned within 30 days of delivery for a refund to the original payment.",
        "allows": ["return", "refund"],
    },
    {
        "id": "shipping-times",
        "title": "Shipping times",
        "text": "Orders ship within 2 business days; delivery takes 3-5 business days.",
        "allows": [],
    },
    {
        "id": "damaged-items",
        "title": "Damaged or wrong items",
        "text": "If an item arrives damaged or wrong, we send a replacement once the customer sends a photo.",
        "allows": ["replacement"],
    },
]


def demo_brand_guide_seed() -> bool:
    """A first brand guide so drafts have a voice and policies (admins edit it in the admin)."""
    from apps.support.models import BrandGuide

    if BrandGuide.objects.exists():
        return False
    BrandGuide.objects.create(
        version=1,
        tone="Warm, plain and brief. Short sentences. No jargon, no exclamation marks.",
        sign_off="Warmly, the Good Threads team",
        use_phrases=["thanks for getting in touch"],
        avoid_phrases=["unfortunately", "as per"],
        policies=DEMO_POLICIES,
    )
    return True


def demo_logins_table() -> str:
    width = max(len(demo.email) for demo in DEMO_USERS)
    lines = [f"  {'email':{width}}  {'password':18}  role"]
    for demo in DEMO_USERS:
        role = demo.role + (" (staff, superuser)" if demo.superuser else "")
        lines.append(f"  {demo.email:{width}}  {demo.password:18}  {role}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Create (or reset) one demo user per role, with known passwords. Demo and sandbox only."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG and O2C_SANDBOX off (never on a real deployment).",
        )

    def handle(self, *args, **options):
        # Known passwords on a production database would be an open door.
        if not (settings.DEBUG or settings.O2C_SANDBOX or options["force"]):
            raise CommandError("seed_demo runs only with DEBUG or O2C_SANDBOX on (or --force).")
        for demo, created in demo_users_seed():
            self.stdout.write(f"seed_demo: {'created' if created else 'reset  '} {demo.email}")
        mapped = demo_mappings_seed()
        if demo_brand_guide_seed():
            self.stdout.write("seed_demo: brand guide v1 created")
        self.stdout.write(f"seed_demo: {mapped} SKU mappings created for the demo catalogue")
        self.stdout.write("Demo logins:\n" + demo_logins_table())
