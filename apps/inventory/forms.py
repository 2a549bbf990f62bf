"""Admin forms for the SKU mapping: the mapping itself and its warehouse components (a bundle = several).

The impact review is part of validation (Django's documented form and formset `clean()`): a change
that touches open orders or drafts does not validate until the person confirms the exact review
they were shown, so the admin's own change view re-renders the form, edits kept, with the review.
"""

import hashlib
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError

from apps.inventory.changes import (
    ComponentSpec,
    FieldChange,
    MappingState,
    components_problems,
    mapping_state_diff,
    mapping_state_of,
)
from apps.inventory.models import SkuMapping
from apps.inventory.services import Impact, mapping_impact

# The review's checkbox; its value is the review's key, so a changed review asks again.
CONFIRM_FIELD = "_mapping_change_confirmed"


@dataclass(frozen=True)
class MappingReview:
    """What saving would change and which open orders and drafts it affects."""

    changes: list[FieldChange]
    impacts: list[Impact]
    skus: list[str]
    variant_ids: list[int]
    key: str  # what the confirmation must carry: the same changes and the same affected rows
    confirmed: bool


def _review_key(changes: list[FieldChange], impacts: list[Impact]) -> str:
    seen = repr(([(c.field, c.old, c.new) for c in changes], [(i.label, i.url) for i in impacts]))
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


def mapping_review(
    *, before: MappingState | None, after: MappingState, confirmation: str | None
) -> MappingReview | None:
    """The review of a valid change, or None when it changes nothing or affects nothing open."""
    changes = mapping_state_diff(before, after)
    if not changes:
        return None
    skus = {after.shopify_sku} | ({before.shopify_sku} if before else set())
    variants = {after.shopify_variant_id} | ({before.shopify_variant_id} if before else set())
    variants.discard(None)
    impacts = mapping_impact(skus=skus, variant_ids=variants)
    if not impacts:
        return None
    key = _review_key(changes, impacts)
    return MappingReview(
        changes=changes,
        impacts=impacts,
        skus=sorted(sku for sku in skus if sku),
        variant_ids=sorted(variants),
        key=key,
        confirmed=confirmation == key,
    )


class SkuMappingForm(forms.ModelForm):
    """Remembers the mapping as it was before this edit, for the impact page and the version summary."""

    class Meta:
        model = SkuMapping
        fields = [
            "shopify_sku",
            "shopify_variant_id",
            "title",
            "warehouse_managed",
            "xero_item_code",
            "xero_account_code",
            "xero_tax_type",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("xero_item_code", "xero_account_code", "xero_tax_type"):
            # The model's message names the code and why it matters; the form's default does not.
            message = SkuMapping._meta.get_field(name).error_messages["blank"]
            self.fields[name].error_messages["required"] = message
        # Read now: validation copies the posted values onto the same instance.
        self.state_before: MappingState | None = (
            mapping_state_of(self.instance) if self.instance.pk else None
        )


class WarehouseComponentFormSet(forms.BaseInlineFormSet):
    mapping_review: MappingReview | None = None
    confirm_field = CONFIRM_FIELD

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        components = formset_components(self)
        problems = components_problems(
            warehouse_managed=self.instance.warehouse_managed, components=components
        )
        if problems:
            raise ValidationError(problems)
        # The saved mapping, not the instance: validation already copied the posted values onto it.
        saved = SkuMapping.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        self.mapping_review = mapping_review(
            before=mapping_state_of(saved) if saved else None,
            after=mapping_state_of(self.instance, components),
            confirmation=self.data.get(CONFIRM_FIELD),
        )
        if self.mapping_review and not self.mapping_review.confirmed:
            count = len(self.mapping_review.impacts)
            raise ValidationError(
                f"Nothing is saved yet: this change affects {count} open order(s) or draft(s), "
                "listed below the form. Check them, tick the confirmation and save again.",
                code="unconfirmed",
            )


def formset_components(formset: forms.BaseInlineFormSet) -> list[ComponentSpec]:
    """The components a valid formset will leave on the mapping (deleted and blank extra rows dropped)."""
    components = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or formset._should_delete_form(form):
            continue
        if form not in formset.initial_forms and not form.has_changed():
            continue
        components.append(
            ComponentSpec(
                data.get("inventory_id"),
                (data.get("reference") or "").strip(),
                data.get("quantity") or 1,
            )
        )
    return components
