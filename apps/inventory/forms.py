"""Admin forms for the SKU mapping: the mapping itself and its warehouse components (a bundle = several)."""

from django import forms
from django.core.exceptions import ValidationError

from apps.inventory.changes import (
    ComponentSpec,
    MappingState,
    components_problems,
    mapping_state_of,
)
from apps.inventory.models import SkuMapping


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
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        problems = components_problems(
            warehouse_managed=self.instance.warehouse_managed,
            components=formset_components(self),
        )
        if problems:
            raise ValidationError(problems)


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
