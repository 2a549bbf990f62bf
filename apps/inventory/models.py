"""SKU mapping tables: Shopify variant / SKU → warehouse item(s) → Xero item, account and tax type.

This app knows nothing of orders (DESIGN.md §2); orders resolve their lines through `services.sku_resolve`.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse


class MappingVersion(models.Model):
    """Every change to the mapping tables adds a row; orders and invoices record the number they used."""

    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.CharField(max_length=500)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"v{self.pk}: {self.summary}"


class SkuMapping(models.Model):
    shopify_sku = models.CharField(
        "Shopify SKU", max_length=255, help_text="Matched without regard to case."
    )
    shopify_variant_id = models.BigIntegerField(
        "Shopify variant id",
        null=True,
        blank=True,
        help_text="Optional. Also resolves lines that carry this variant but no SKU.",
    )
    title = models.CharField(max_length=255, blank=True)
    # False for lines the warehouse never ships (gift cards, services): no components then.
    warehouse_managed = models.BooleanField(default=True)
    xero_item_code = models.CharField(
        "Xero ItemCode",
        max_length=30,
        error_messages={"blank": "Give the Xero ItemCode: invoices cannot be posted without it."},
    )
    xero_account_code = models.CharField(
        "Xero AccountCode",
        max_length=10,
        error_messages={"blank": "Give the Xero AccountCode (the sales account, e.g. 200)."},
    )
    xero_tax_type = models.CharField(
        "Xero TaxType",
        max_length=50,
        error_messages={"blank": "Give the Xero TaxType (e.g. OUTPUT2)."},
    )
    # Filled by the Shopify lookup (inventory_lookup), never typed: where this variant's stock lives.
    shopify_inventory_item_id = models.BigIntegerField(
        "Shopify inventory item id", null=True, blank=True, editable=False
    )
    shopify_location_id = models.BigIntegerField(
        "Shopify location id", null=True, blank=True, editable=False
    )
    # Why the lookup could not settle the item (missing, ambiguous): such a variant is never pushed.
    shopify_lookup_problem = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shopify_sku"]
        verbose_name = "SKU mapping"
        constraints = [
            models.UniqueConstraint(
                Upper("shopify_sku"),
                name="skumapping_unique_sku",
                violation_error_message="This SKU is already mapped (SKUs match without regard to case).",
            ),
            models.UniqueConstraint(
                fields=["shopify_variant_id"],
                condition=models.Q(shopify_variant_id__isnull=False),
                name="skumapping_unique_variant",
                violation_error_message="This Shopify variant id is already mapped by another SKU.",
            ),
            models.CheckConstraint(
                condition=~models.Q(shopify_sku="")
                & ~models.Q(xero_item_code="")
                & ~models.Q(xero_account_code="")
                & ~models.Q(xero_tax_type=""),
                name="skumapping_codes_not_empty",
                violation_error_message="The SKU and the three Xero codes must not be empty.",
            ),
        ]

    def __str__(self) -> str:
        return self.shopify_sku

    def clean(self) -> None:
        # Stray spaces from spreadsheets would make "ABC " a second, unreachable SKU.
        self.shopify_sku = (self.shopify_sku or "").strip()
        self.xero_item_code = (self.xero_item_code or "").strip()
        self.xero_account_code = (self.xero_account_code or "").strip()
        self.xero_tax_type = (self.xero_tax_type or "").strip()
        errors: dict[str, str] = {}
        others = SkuMapping.objects.exclude(pk=self.pk) if self.pk else SkuMapping.objects.all()
        if self.shopify_sku:
            twin = (
                others.annotate(sku_upper=Upper("shopify_sku"))
                .filter(sku_upper=self.shopify_sku.upper())
                .first()
            )
            if twin is not None:
                errors["shopify_sku"] = (
                    f"SKU {self.shopify_sku!r} is already mapped (as {twin.shopify_sku!r}). "
                    "A SKU can be mapped only once, whatever its case: edit that mapping instead."
                )
        if self.shopify_variant_id is not None:
            twin = others.filter(shopify_variant_id=self.shopify_variant_id).first()
            if twin is not None:
                errors["shopify_variant_id"] = (
                    f"Variant {self.shopify_variant_id} is already mapped by SKU "
                    f"{twin.shopify_sku!r}. A variant can be mapped only once."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def is_bundle(self) -> bool:
        components = list(self.components.all())
        return len(components) > 1 or any(c.quantity > 1 for c in components)


class WarehouseComponent(models.Model):
    """One warehouse item (and how many of it) that a Shopify SKU ships as. Several = a bundle."""

    mapping = models.ForeignKey(SkuMapping, on_delete=models.CASCADE, related_name="components")
    inventory_id = models.BigIntegerField("ShipBob inventory id", null=True, blank=True)
    reference = models.CharField("ShipBob reference", max_length=300, blank=True)
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(inventory_id__isnull=False) | ~models.Q(reference=""),
                name="component_has_warehouse_item",
                violation_error_message="A component needs a ShipBob inventory id or a reference.",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1),
                name="component_quantity_positive",
                violation_error_message="A component's quantity is at least 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.warehouse_key}"

    def clean(self) -> None:
        self.reference = (self.reference or "").strip()
        if self.inventory_id is None and not self.reference:
            raise ValidationError(
                "Give the ShipBob inventory id (a number) or the ShipBob reference of the item."
            )
        if self.inventory_id is not None and self.reference:
            raise ValidationError(
                "Give the ShipBob inventory id or the reference, not both: one line is one item."
            )

    @property
    def warehouse_key(self) -> str:
        return str(self.inventory_id) if self.inventory_id is not None else self.reference


class ShippingMethodMapping(models.Model):
    """A Shopify shipping line (its code or title) → the warehouse's shipping method."""

    shopify_shipping = models.CharField(
        "Shopify shipping code or title",
        max_length=255,
        help_text="Matched without regard to case against the shipping line's code, then its title.",
    )
    shipbob_shipping_method = models.CharField("ShipBob shipping method", max_length=100)

    class Meta:
        ordering = ["shopify_shipping"]
        constraints = [
            models.UniqueConstraint(
                Upper("shopify_shipping"), name="shippingmethod_unique_shopify"
            ),
            models.CheckConstraint(
                condition=~models.Q(shopify_shipping="") & ~models.Q(shipbob_shipping_method=""),
                name="shippingmethod_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shopify_shipping} → {self.shipbob_shipping_method}"


class TaxTypeMapping(models.Model):
    """A Shopify tax line (title, rate; the order's currency or country) → the Xero tax type it posts
    under. Blank currency / country / rate match any; the most specific row wins."""

    shopify_title = models.CharField(
        "Shopify tax title",
        max_length=255,
        help_text="The tax line's title as Shopify writes it (e.g. 'NY State Tax', 'GB VAT'); "
        "matched without regard to case.",
    )
    shopify_rate = models.DecimalField(
        "Shopify rate",
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="The tax line's rate as a fraction (0.2 for 20%). Blank: any rate.",
    )
    currency = models.CharField(
        max_length=3, blank=True, help_text="The order's currency (e.g. USD). Blank: any."
    )
    country_code = models.CharField(
        "Country",
        max_length=2,
        blank=True,
        help_text="The shipping address's country code (e.g. US). Blank: any.",
    )
    xero_tax_type = models.CharField("Xero TaxType", max_length=50)
    xero_rate = models.DecimalField(
        "Xero rate (%)",
        max_digits=7,
        decimal_places=4,
        help_text="The rate this tax type has in Xero (8.875 for 8.875%): drafts check that Xero's "
        "own per-line rounding comes to Shopify's figures.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shopify_title", "currency", "country_code"]
        verbose_name = "tax type mapping"
        constraints = [
            models.UniqueConstraint(
                Upper("shopify_title"),
                "shopify_rate",
                "currency",
                "country_code",
                name="taxtypemapping_unique_key",
                violation_error_message="This tax title, rate, currency and country are already mapped.",
            ),
            models.CheckConstraint(
                condition=~models.Q(shopify_title="") & ~models.Q(xero_tax_type=""),
                name="taxtypemapping_not_empty",
                violation_error_message="The tax title and the Xero tax type must not be empty.",
            ),
        ]

    def __str__(self) -> str:
        rate = f" {self.shopify_rate:g}" if self.shopify_rate is not None else ""
        where = "/".join(filter(None, [self.currency, self.country_code])) or "any"
        return f"{self.shopify_title}{rate} ({where}) → {self.xero_tax_type}"

    def clean(self) -> None:
        self.shopify_title = (self.shopify_title or "").strip()
        self.xero_tax_type = (self.xero_tax_type or "").strip()
        self.currency = (self.currency or "").strip().upper()
        self.country_code = (self.country_code or "").strip().upper()
        # The database treats two blank rates as different: check "any rate" twins here.
        rate = (
            {"shopify_rate__isnull": True}
            if self.shopify_rate is None
            else {"shopify_rate": self.shopify_rate}
        )
        twins = TaxTypeMapping.objects.annotate(title_upper=Upper("shopify_title")).filter(
            title_upper=self.shopify_title.upper(),
            currency=self.currency,
            country_code=self.country_code,
            **rate,
        )
        if twins.exclude(pk=self.pk).exists():
            raise ValidationError(
                "This tax title, rate, currency and country are already mapped: edit that row."
            )


class TitleMapping(models.Model):
    """A custom item's title (a Shopify line with no SKU and no variant) → the SKU mapping it is.

    Chosen by a person from the holds page: the portal never guesses a SKU.
    """

    shopify_title = models.CharField(
        "Shopify line title", max_length=500, help_text="Matched without regard to case."
    )
    sku_mapping = models.ForeignKey(SkuMapping, on_delete=models.CASCADE, related_name="titles")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["shopify_title"]
        constraints = [
            models.UniqueConstraint(Upper("shopify_title"), name="titlemapping_unique_title"),
        ]

    def __str__(self) -> str:
        return f"{self.shopify_title} → {self.sku_mapping}"


# --- Stock -----------------------------------------------------------------------------------------


class StockLevel(models.Model):
    """One warehouse item's stock as ShipBob last reported it (component level)."""

    inventory_id = models.BigIntegerField("ShipBob inventory id", unique=True)
    sku = models.CharField(max_length=300, blank=True, db_index=True)
    name = models.CharField(max_length=300, blank=True)
    on_hand = models.IntegerField(default=0)
    fulfillable = models.IntegerField(default=0)
    committed = models.IntegerField(default=0)
    read_at = models.DateTimeField()
    # The pull that last saw this item: an item missing from a complete pull is gone at ShipBob.
    pull_number = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sku", "inventory_id"]

    def __str__(self) -> str:
        return f"{self.sku or self.inventory_id}: {self.fulfillable} fulfillable"


class StockPolicy(models.Model):
    """Per-SKU stock settings; a SKU without one uses INVENTORY["DEFAULT_BUFFER"] / ["LOW_STOCK"]."""

    mapping = models.OneToOneField(SkuMapping, on_delete=models.CASCADE, related_name="policy")
    buffer = models.PositiveIntegerField(
        null=True, blank=True, help_text="Units held back from Shopify. Empty: the default buffer."
    )
    low_stock_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Alert when Shopify's available falls to this or below. Empty: the default.",
    )

    class Meta:
        verbose_name = "stock policy"
        verbose_name_plural = "stock policies"

    def __str__(self) -> str:
        return f"{self.mapping}: buffer {self.buffer}, low at {self.low_stock_threshold}"


class PeakBufferProfile(models.Model):
    """Larger buffers for a sale: applies itself at `starts_at` and reverts itself at `ends_at`."""

    name = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Hold back this share of each SKU's availability (rounded up).",
    )
    buffers = models.JSONField(
        default=dict, blank=True, help_text='Buffers per SKU, e.g. {"TEE-BLK-M": 10}.'
    )
    applied_at = models.DateTimeField(null=True, blank=True, editable=False)
    reverted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="peakprofile_ends_after_start",
                violation_error_message="A peak profile must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.buffers, dict) or not all(
            isinstance(value, int) and not isinstance(value, bool) and value >= 0
            for value in self.buffers.values()
        ):
            raise ValidationError({"buffers": "Give whole numbers ≥ 0 per SKU, as a JSON object."})
        if self.percent is None and not self.buffers:
            raise ValidationError("Give a percentage, buffers per SKU, or both.")
        if self.percent is not None and not 0 <= self.percent <= 100:
            raise ValidationError({"percent": "A percentage between 0 and 100."})

    @property
    def state(self) -> str:
        if self.reverted_at:
            return "reverted"
        if self.applied_at:
            return "active"
        return "scheduled"


class VariantStock(models.Model):
    """What Shopify should show for one mapped variant, what we pushed, and what Shopify said."""

    mapping = models.OneToOneField(
        SkuMapping, on_delete=models.CASCADE, primary_key=True, related_name="stock"
    )
    # Units the warehouse can still give this variant: min over components of
    # ⌊(fulfillable − on orders not yet at the warehouse) / quantity per unit⌋ (may be negative).
    warehouse_units = models.IntegerField(default=0)
    fulfillable = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    buffer = models.PositiveIntegerField(default=0)
    available = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    shopify_known = models.IntegerField(null=True, blank=True)
    shopify_known_at = models.DateTimeField(null=True, blank=True)
    last_pushed = models.IntegerField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    # The outbox message carrying this variant's change, while it is not settled.
    push_key = models.CharField(max_length=200, blank=True)
    velocity_per_hour = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    sell_out_at = models.DateTimeField(null=True, blank=True)
    # Since when Shopify has differed from the computed value by more than the drift threshold.
    drift_since = models.DateTimeField(null=True, blank=True)
    # Why this variant is not pushed (mapping missing or ambiguous, warehouse item unknown).
    problem = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["mapping__shopify_sku"]

    def __str__(self) -> str:
        return f"{self.mapping}: {self.available}"

    @property
    def drift(self) -> int | None:
        return None if self.shopify_known is None else self.shopify_known - self.available


class InventorySyncState(models.Model):
    """The one row of sync bookkeeping: pulls, pushes, drift reports (for stale-sync checks)."""

    pull_number = models.PositiveIntegerField(default=0)
    pull_started_at = models.DateTimeField(null=True, blank=True)
    pull_finished_at = models.DateTimeField(null=True, blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pull {self.pull_number}"


class DriftReport(models.Model):
    """Every difference between Shopify and the computed value at one moment, and the correction."""

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly"
        ON_DEMAND = "on_demand", "On demand"

    trigger = models.CharField(max_length=16, choices=Trigger)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    items_read = models.PositiveIntegerField(default=0)
    # [{"sku", "shopify", "computed", "corrected"}] — corrected: a push was queued for it.
    differences = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at", "-id"]
        permissions = [("run_driftreport", "Can run a drift report on demand")]

    def __str__(self) -> str:
        return f"drift report {self.pk} ({len(self.differences)} differences)"

    def get_absolute_url(self) -> str:
        return reverse("inventory:drift-report", args=[self.pk])
