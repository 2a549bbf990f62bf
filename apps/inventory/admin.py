"""Admin pages for the SKU mapping tables: edit, see the open orders a change affects, import/export CSV.

Every saved change (form, delete, CSV import) bumps the mapping version once, with its audit row.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.db import router, transaction
from django.db.models import Count, Max, Q
from django.forms.formsets import all_valid
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
    mapping_change_summary,
    mapping_state_diff,
    mapping_state_of,
)
from apps.inventory.forms import SkuMappingForm, WarehouseComponentFormSet, formset_components
from apps.inventory.models import (
    MappingVersion,
    ShippingMethodMapping,
    SkuMapping,
    WarehouseComponent,
)
from apps.inventory.resources import SkuMappingResource
from apps.inventory.services import mapping_impact, mapping_version_bump

# Posted by the confirmation page: "Confirm and save" and "Back to the form".
CONFIRM_FLAG = "_mapping_change_confirmed"
BACK_FLAG = "_mapping_change_back"


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

    # --- Saving: one version bump per saved change ------------------------------------------------

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        after = mapping_state_of(form.instance, _saved_components(form.instance))
        before = form.state_before if change else None
        if change and not mapping_state_diff(before, after):
            return
        # Runs inside the admin's transaction: the version, the audit row and the change commit together.
        version = mapping_version_bump(
            actor=request.user, summary=mapping_change_summary(before, after)
        )
        messages.info(request, f"Mapping version is now v{version.pk}.")

    def delete_model(self, request, obj):
        before = mapping_state_of(obj, _saved_components(obj))
        super().delete_model(request, obj)
        version = mapping_version_bump(
            actor=request.user, summary=mapping_change_summary(before, None)
        )
        messages.info(request, f"Mapping version is now v{version.pk}.")

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=router.db_for_write(SkuMapping)):
            skus = sorted(mapping.shopify_sku for mapping in queryset)
            super().delete_queryset(request, queryset)
            if skus:
                version = mapping_version_bump(
                    actor=request.user,
                    summary=f"Deleted {len(skus)} mapping(s): {', '.join(skus)}",
                )
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

    # --- The confirmation step: which open orders a change affects, before it is saved -------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and BACK_FLAG in request.POST:
            response = self._unsaved_form_response(request, object_id, form_url, extra_context)
            if response is not None:
                return response
        elif request.method == "POST" and CONFIRM_FLAG not in request.POST:
            response = self._confirmation_response(request, object_id)
            if response is not None:
                return response
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _bound_forms(self, request, object_id):
        """The posted form and formsets, as the admin builds them; None when the admin must refuse."""
        add = object_id is None
        if add:
            if not self.has_add_permission(request):
                return None
            obj = None
        else:
            obj = self.get_object(request, unquote(object_id))
            if obj is None or not self.has_change_permission(request, obj):
                return None
        fieldsets = self.get_fieldsets(request, obj)
        model_form = self.get_form(
            request, obj, change=not add, fields=flatten_fieldsets(fieldsets)
        )
        form = model_form(request.POST, request.FILES, instance=obj)
        formsets, inline_instances = self._create_formsets(request, form.instance, change=not add)
        return obj, fieldsets, form, formsets, inline_instances

    def _confirmation_response(self, request, object_id):
        """The page listing affected orders; None to save directly (invalid, unchanged or no impact)."""
        bound = self._bound_forms(request, object_id)
        if bound is None:
            return None
        obj, _fieldsets, form, formsets, _inlines = bound
        # The form first: the component formset checks the mapping's posted `warehouse_managed`.
        if not form.is_valid() or not all_valid(formsets):
            return None
        components: list[ComponentSpec] = []
        for formset in formsets:
            components.extend(formset_components(formset))
        before = form.state_before
        after = mapping_state_of(form.instance, components)
        changes = mapping_state_diff(before, after)
        if not changes:
            return None
        skus = {after.shopify_sku} | ({before.shopify_sku} if before else set())
        variants = {after.shopify_variant_id} | ({before.shopify_variant_id} if before else set())
        impacts = mapping_impact(skus=skus, variant_ids=variants)
        if not impacts:
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Confirm the change to {before.shopify_sku if before else after.shopify_sku}",
            "opts": self.opts,
            "original": obj,
            "add": obj is None,
            "changes": changes,
            "impacts": impacts,
            "skus": sorted(sku for sku in skus if sku),
            "variant_ids": sorted(variant for variant in variants if variant is not None),
            "hidden_fields": [
                (name, value)
                for name, values in request.POST.lists()
                if name not in {"csrfmiddlewaretoken", CONFIRM_FLAG, BACK_FLAG}
                for value in values
            ],
            "confirm_flag": CONFIRM_FLAG,
            "back_flag": BACK_FLAG,
            "has_view_permission": self.has_view_permission(request, obj),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/inventory/skumapping/change_confirmation.html", context
        )

    def _unsaved_form_response(self, request, object_id, form_url, extra_context):
        """ "Back": the change form again with what was posted, nothing saved."""
        bound = self._bound_forms(request, object_id)
        if bound is None:
            return None
        obj, fieldsets, form, formsets, inline_instances = bound
        add = obj is None
        admin_form = helpers.AdminForm(
            form,
            list(fieldsets),
            self.get_prepopulated_fields(request, obj),
            self.get_readonly_fields(request, obj),
            model_admin=self,
        )
        inline_formsets = self.get_inline_formsets(request, formsets, inline_instances, obj)
        media = self.media + admin_form.media
        for inline_formset in inline_formsets:
            media += inline_formset.media
        title = "Add %s" if add else "Change %s"
        context = {
            **self.admin_site.each_context(request),
            "title": title % self.opts.verbose_name,
            "subtitle": str(obj) if obj else None,
            "adminform": admin_form,
            "object_id": object_id,
            "original": obj,
            "is_popup": False,
            "to_field": None,
            "media": media,
            "inline_admin_formsets": inline_formsets,
            "errors": helpers.AdminErrorList(form, formsets),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return self.render_change_form(
            request, context, add=add, change=not add, obj=obj, form_url=form_url
        )

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
class MappingVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "changed_at", "changed_by", "summary"]
    list_select_related = ["changed_by"]
    search_fields = ["summary", "changed_by__email"]
    date_hierarchy = "changed_at"

    @admin.display(description="Version", ordering="id")
    def version(self, obj: MappingVersion) -> str:
        return f"v{obj.pk}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
