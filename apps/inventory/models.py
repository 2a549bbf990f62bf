"""SKU mapping tables: Shopify variant / SKU → warehouse item(s) → Xero item, account and tax type.

This app knows nothing of orders (DESIGN.md §2); orders resolve their lines through `services.sku_resolve`.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper


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
