"""Admin pages for the SKU mapping tables: edit, see the open orders a change affects, import/export CSV.

Every saved change (form, delete, CSV import) bumps the mapping version once, with its audit row,
through the mapping service. Only documented admin extension points are used: the form and inline
formset (`clean()` holds the impact review), `change_form_template`, `save_related`,
`delete_model`, `delete_queryset`, `delete_view`'s `extra_context`, and
django-import-export's hooks.
"""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV

from apps.inventory.changes import (
    COMPONENTS_FORMAT_HELP,
    ComponentSpec,
    components_format,
    components_of,
    mapping_state_of,
)
from apps.inventory.forms import SkuMappingForm, WarehouseComponentFormSet
from apps.inventory.models import (
    MappingVersion,
    ShippingMethodMapping,
    SkuMapping,
    TaxTypeMapping,
    WarehouseComponent,
)
from apps.inventory.resources import SkuMappingResource
from apps.inventory.services import (
    mapping_change_record,
    mapping_impact,
    mapping_version_bump,
    mappings_delete,
)
from apps.web import ReadOnlyAdminMixin


class WarehouseComponentInline(admin.TabularInline):
    model = WarehouseComponent
    formset = WarehouseComponentFormSet
    fields = ("inventory_id", "reference", "quantity")
    extra = 1
    verbose_name = "warehouse component"
    verbose_name_plural = "Warehouse components — one row per ShipBob item; several rows = a bundle"

    # Components are part of their mapping: the mapping's permissions govern them.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("inventory.view_skumapping") or self._can_edit(request, obj)

    def has_add_permission(self, request, obj):
        return self._can_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._can_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._can_edit(request, obj)

    @staticmethod
    def _can_edit(request, obj) -> bool:
        if obj is None:
            return request.user.has_perm("inventory.add_skumapping") or request.user.has_perm(
                "inventory.change_skumapping"
            )
        return request.user.has_perm("inventory.change_skumapping")


class BundleFilter(admin.SimpleListFilter):
    title = "bundle"
    parameter_name = "bundle"

    def lookups(self, request, model_admin):
        return [("yes", "Bundle (several items or quantities)"), ("no", "Single item")]

    def queryset(self, request, queryset):
        if self.value() not in {"yes", "no"}:
            return queryset
        queryset = queryset.annotate(
            component_count=Count("components"), component_max=Max("components__quantity")
        )
        bundle = Q(component_count__gt=1) | Q(component_max__gt=1)
        return queryset.filter(bundle) if self.value() == "yes" else queryset.exclude(bundle)


@admin.register(SkuMapping)
class SkuMappingAdmin(ImportExportModelAdmin):
    form = SkuMappingForm
    inlines = [WarehouseComponentInline]
    fieldsets = [
        (None, {"fields": ["shopify_sku", "shopify_variant_id", "title", "warehouse_managed"]}),
        ("Xero", {"fields": ["xero_item_code", "xero_account_code", "xero_tax_type"]}),
    ]
    list_display = [
        "shopify_sku",
        "shopify_variant_id",
        "title",
        "components_summary",
        "xero_item_code",
        "xero_account_code",
        "xero_tax_type",
        "bundle",
        "updated_at",
    ]
    list_filter = ["warehouse_managed", BundleFilter, "xero_tax_type", "xero_account_code"]
    search_fields = [
        "shopify_sku",
        "title",
        "=shopify_variant_id",
        "xero_item_code",
        "components__reference",
        "=components__inventory_id",
    ]
    list_per_page = 100
    actions = ["delete_selected"]
    change_list_template = "admin/inventory/skumapping/change_list.html"
    import_template_name = "admin/inventory/skumapping/import.html"
    resource_classes = [SkuMappingResource]
    import_formats = [CSV]
    export_formats = [CSV]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("components")

    @admin.display(description="Components")
    def components_summary(self, obj: SkuMapping) -> str:
        return components_format(components_of(obj)) or "— (not shipped by the warehouse)"

    @admin.display(description="Bundle", boolean=True)
    def bundle(self, obj: SkuMapping) -> bool:
        return obj.is_bundle

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "mapping_version": MappingVersion.objects.select_related("changed_by").first(),
            "components_format_help": COMPONENTS_FORMAT_HELP,
        }
        return super().changelist_view(request, extra_context)

    # --- Saving: the mapping service records one version per saved change ---------------------

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Inside the admin's transaction: the version, the audit row and the change commit together.
        version = mapping_change_record(
            actor=request.user,
            before=form.state_before if change else None,
            after=mapping_state_of(form.instance, _saved_components(form.instance)),
        )
        if version is not None:
            messages.info(request, f"Mapping version is now v{version.pk}.")

    def delete_model(self, request, obj):
        before = mapping_state_of(obj, _saved_components(obj))
        super().delete_model(request, obj)  # the admin's delete view holds the transaction
        version = mapping_change_record(actor=request.user, before=before, after=None)
        messages.info(request, f"Mapping version is now v{version.pk}.")

    def delete_queryset(self, request, queryset):
        version = mappings_delete(actor=request.user, mappings=queryset)
        if version is not None:
            messages.info(request, f"Mapping version is now v{version.pk}.")

    @admin.action(
        permissions=["delete"],
        description=gettext_lazy("Delete selected %(verbose_name_plural)s"),
    )
    def delete_selected(self, request, queryset):
        response = django_delete_selected(self, request, queryset)
        if isinstance(response, TemplateResponse):
            # Django's "Are you sure?" page, with the open orders the deletion affects.
            mappings = list(queryset)
            response.context_data["mapping_impact"] = mapping_impact(
                skus=[mapping.shopify_sku for mapping in mappings],
                variant_ids=[mapping.shopify_variant_id for mapping in mappings],
            )
        return response

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            extra_context = {
                **(extra_context or {}),
                "mapping_impact": mapping_impact(
                    skus=[obj.shopify_sku], variant_ids=[obj.shopify_variant_id]
                ),
            }
        return super().delete_view(request, object_id, extra_context)

    # --- The review step: which open orders a change affects, before it is saved ---------------
    # WarehouseComponentFormSet.clean() refuses an unconfirmed change that affects open orders or
    # drafts (forms.mapping_review); this template shows that review and its confirmation box.
    change_form_template = "admin/inventory/skumapping/change_form.html"

    # --- CSV import ---------------------------------------------------------------------------

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        # All or nothing: a row that no longer validates at confirm time rolls the whole file back.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        result = getattr(response, "context_data", {}).get("result")
        if result is not None:
            response.context_data["mapping_impact"] = getattr(result, "mapping_impact", [])
        if isinstance(response, TemplateResponse):
            response.context_data["components_format_help"] = COMPONENTS_FORMAT_HELP
        return response

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            messages.error(
                request,
                "Nothing was imported: the file no longer validates (the mapping changed since the "
                "preview). Import it again to see the errors.",
            )
            return HttpResponseRedirect(reverse("admin:inventory_skumapping_import"))
        return super().process_result(result, request)


def _saved_components(mapping: SkuMapping) -> list[ComponentSpec]:
    # Not `mapping.components.all()`: the admin's queryset prefetched them before the formset saved.
    return [
        ComponentSpec(component.inventory_id, component.reference, component.quantity)
        for component in WarehouseComponent.objects.filter(mapping=mapping).order_by("id")
    ]


@admin.register(MappingVersion)
class MappingVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["version", "changed_at", "changed_by", "summary"]
    list_select_related = ["changed_by"]
    search_fields = ["summary", "changed_by__email"]
    date_hierarchy = "changed_at"

    @admin.display(description="Version", ordering="id")
    def version(self, obj: MappingVersion) -> str:
        return f"v{obj.pk}"


@admin.register(ShippingMethodMapping)
class ShippingMethodMappingAdmin(admin.ModelAdmin):
    """Shopify shipping line → ShipBob shipping method; unmapped lines use SHIPBOB_DEFAULT_SHIPPING_METHOD."""

    list_display = ("shopify_shipping", "shipbob_shipping_method")
    search_fields = ("shopify_shipping", "shipbob_shipping_method")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            mapping_version_bump(actor=request.user, summary=f"shipping method {obj}")

    def delete_model(self, request, obj):
        with transaction.atomic():
            super().delete_model(request, obj)
            mapping_version_bump(actor=request.user, summary=f"shipping method {obj} deleted")


@admin.register(TaxTypeMapping)
class TaxTypeMappingAdmin(admin.ModelAdmin):
    """Shopify tax line (title, rate, currency, country) → Xero tax type and its rate in Xero.

    Saving bumps the mapping version; orders held only for a tax line this row now maps are
    released in the same transaction.
    """

    list_display = (
        "shopify_title",
        "shopify_rate",
        "currency",
        "country_code",
        "xero_tax_type",
        "xero_rate",
    )
    list_filter = ("currency", "country_code", "xero_tax_type")
    search_fields = ("shopify_title", "xero_tax_type")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            mapping_version_bump(actor=request.user, summary=f"tax type {obj}")

    def delete_model(self, request, obj):
        with transaction.atomic():
            super().delete_model(request, obj)
            mapping_version_bump(actor=request.user, summary=f"tax type {obj} deleted")


# --- Stock (apps/inventory/stock.py, sync.py) -------------------------------------------------------
# Imported here, apart from the mapping admin above, which is being reworked on its own.
from apps.inventory.models import DriftReport, PeakBufferProfile, StockPolicy  # noqa: E402


@admin.register(StockPolicy)
class StockPolicyAdmin(admin.ModelAdmin):
    list_display = ("mapping", "buffer", "low_stock_threshold")
    search_fields = ("mapping__shopify_sku",)
    autocomplete_fields = ("mapping",)


@admin.register(PeakBufferProfile)
class PeakBufferProfileAdmin(admin.ModelAdmin):
    """A profile applies and reverts itself (the inventory tick, audited); people only plan it."""

    list_display = ("name", "starts_at", "ends_at", "percent", "state")
    readonly_fields = ("applied_at", "reverted_at")
    fields = ("name", "starts_at", "ends_at", "percent", "buffers", "applied_at", "reverted_at")


@admin.register(DriftReport)
class DriftReportAdmin(admin.ModelAdmin):
    list_display = ("__str__", "trigger", "started_at", "finished_at", "items_read")
    readonly_fields = [f.name for f in DriftReport._meta.fields] + ["differences"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
