"""CSV import/export of the SKU mapping, one row per SKU (format: docs/mapping-csv.md).

The import key is the SKU without regard to case. A file is all or nothing: any invalid row blocks
the import, and a confirmed import bumps the mapping version once.
"""

from collections import defaultdict

from diff_match_patch import diff_match_patch
from django.core.exceptions import ValidationError
from django.db.models.functions import Upper
from django.utils.encoding import force_str
from django.utils.html import format_html_join
from import_export import resources, widgets
from import_export.fields import Field
from import_export.results import RowResult

from apps.inventory.changes import (
    BIGINT_MAX,
    components_format,
    components_of,
    components_parse,
    components_problems,
)
from apps.inventory.models import SkuMapping
from apps.inventory.services import (
    mapping_components_replace,
    mapping_impact,
    mapping_version_bump,
)

COLUMNS = (
    "shopify_sku",
    "shopify_variant_id",
    "title",
    "warehouse_managed",
    "components",
    "xero_item_code",
    "xero_account_code",
    "xero_tax_type",
)


class TrimmedTextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return super().clean(value, row=row, **kwargs).strip()


class VariantIdWidget(widgets.Widget):
    """A 64-bit Shopify id, read as text so it never passes through a float."""

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        if text.endswith(".0"):  # a spreadsheet that turned the id into a number
            text = text[:-2]
        if not text.isdigit() or int(text) > BIGINT_MAX:
            raise ValueError(
                f"Shopify variant id {text!r} is not a whole number (or is too large)."
            )
        return int(text)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class YesNoWidget(widgets.Widget):
    TRUE = {"yes", "y", "true", "1"}
    FALSE = {"no", "n", "false", "0"}

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip().lower()
        if not text:
            return True  # the model's default: most SKUs ship from the warehouse
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"warehouse_managed must be yes or no, not {value!r}.")

    def render(self, value, obj=None, **kwargs):
        return "yes" if value else "no"


class ComponentsField(Field):
    """`12345 x1|REF-ABC x2`: parsed into the row's instance, written after the mapping is saved."""

    def __init__(self):
        super().__init__(attribute="components", column_name="components")

    def get_value(self, instance):
        pending = getattr(instance, "_csv_components", None)
        return components_format(pending if pending is not None else components_of(instance))

    def save(self, instance, row, is_m2m=False, **kwargs):
        instance._csv_components = components_parse(row[self.column_name])


class ClassedDiff(resources.Diff):
    """The import preview's per-cell diff, marked up with classes instead of inline styles.

    import-export's default (`diff_prettyHtml`) writes `style="background:…"` on every change,
    which the portal's Content Security Policy refuses; static/css/admin-import.css styles these.
    """

    TAGS = {-1: "del", 0: "span", 1: "ins"}

    def as_html(self):
        cells = []
        dmp = diff_match_patch()
        for before, after in zip(self.left, self.right, strict=False):
            if before != after and self.new:
                before = ""
            diff = dmp.diff_main(force_str(before), force_str(after))
            dmp.diff_cleanupSemantic(diff)
            cells.append(
                format_html_join(
                    "",
                    '<{0} class="diff-{0}">{1}</{0}>',
                    ((self.TAGS[op], text) for op, text in diff),
                )
            )
        return cells


def _text_field(name: str) -> Field:
    return Field(attribute=name, column_name=name, widget=TrimmedTextWidget())


class SkuMappingResource(resources.ModelResource):
    shopify_sku = _text_field("shopify_sku")
    shopify_variant_id = Field(
        attribute="shopify_variant_id", column_name="shopify_variant_id", widget=VariantIdWidget()
    )
    title = _text_field("title")
    warehouse_managed = Field(
        attribute="warehouse_managed", column_name="warehouse_managed", widget=YesNoWidget()
    )
    components = ComponentsField()
    xero_item_code = _text_field("xero_item_code")
    xero_account_code = _text_field("xero_account_code")
    xero_tax_type = _text_field("xero_tax_type")

    class Meta:
        model = SkuMapping
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("shopify_sku",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rows_by_sku: dict[str, list[int]] = {}
        self._rows_by_variant: dict[int, list[int]] = {}
        self._touched_skus: set[str] = set()
        self._touched_variants: set[int] = set()

    def get_queryset(self):
        return super().get_queryset().prefetch_related("components")

    def get_diff_class(self):
        return ClassedDiff

    def before_import(self, dataset, **kwargs):
        # Duplicates inside the file are found up front so each of their rows can say so.
        by_sku: dict[str, list[int]] = defaultdict(list)
        by_variant: dict[int, list[int]] = defaultdict(list)
        headers = dataset.headers or []
        for number, values in enumerate(dataset, start=1):
            row = dict(zip(headers, values, strict=False))
            sku = str(row.get("shopify_sku") or "").strip()
            if sku:
                by_sku[sku.upper()].append(number)
                self._touched_skus.add(sku)
            try:
                variant = VariantIdWidget().clean(row.get("shopify_variant_id"))
            except ValueError:
                variant = None  # reported on its row by the field
            if variant is not None:
                by_variant[variant].append(number)
                self._touched_variants.add(variant)
        self._rows_by_sku = {key: rows for key, rows in by_sku.items() if len(rows) > 1}
        self._rows_by_variant = {key: rows for key, rows in by_variant.items() if len(rows) > 1}

    def get_instance(self, instance_loader, row):
        sku = str(row.get("shopify_sku") or "").strip()
        if not sku:
            return None
        return (
            SkuMapping.objects.annotate(sku_upper=Upper("shopify_sku"))
            .filter(sku_upper=sku.upper())
            .first()
        )

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # A duplicated SKU or variant is refused even when one of its rows changes nothing.
        if (instance.shopify_sku or "").strip().upper() in self._rows_by_sku:
            return False
        if instance.shopify_variant_id in self._rows_by_variant:
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def after_init_instance(self, instance, new, row, **kwargs):
        if not new:
            # Orders still carrying the old SKU or variant are affected too.
            self._touched_skus.add(instance.shopify_sku)
            if instance.shopify_variant_id is not None:
                self._touched_variants.add(instance.shopify_variant_id)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = {key: list(value) for key, value in (import_validation_errors or {}).items()}
        rows = self._rows_by_sku.get((instance.shopify_sku or "").strip().upper())
        if rows:
            errors.setdefault("shopify_sku", []).append(
                ValidationError(
                    f"SKU {instance.shopify_sku!r} is on rows {_rows_text(rows)} of the file "
                    "(SKUs match without regard to case): keep one row per SKU."
                )
            )
        rows = self._rows_by_variant.get(instance.shopify_variant_id)
        if rows:
            errors.setdefault("shopify_variant_id", []).append(
                ValidationError(
                    f"Variant {instance.shopify_variant_id} is on rows {_rows_text(rows)} of the "
                    "file: a variant can be mapped only once."
                )
            )
        if "components" not in errors and "warehouse_managed" not in errors:
            pending = getattr(instance, "_csv_components", None)
            components = pending if pending is not None else components_of(instance)
            problems = components_problems(
                warehouse_managed=instance.warehouse_managed, components=components
            )
            if problems:
                errors["components"] = [ValidationError(problem) for problem in problems]
        super().validate_instance(instance, errors or None, validate_unique)

    def after_save_instance(self, instance, row, **kwargs):
        pending = getattr(instance, "_csv_components", None)
        if pending is None:
            return
        if kwargs.get("dry_run") and not kwargs.get("using_transactions"):
            return
        mapping_components_replace(mapping=instance, components=list(pending))

    def after_import(self, dataset, result, **kwargs):
        # The preview shows these; the template reads `result.mapping_impact`.
        result.mapping_impact = mapping_impact(
            skus=self._touched_skus, variant_ids=self._touched_variants
        )
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        added = [
            row.object_repr for row in result.rows if row.import_type == RowResult.IMPORT_TYPE_NEW
        ]
        updated = [
            row.object_repr
            for row in result.rows
            if row.import_type == RowResult.IMPORT_TYPE_UPDATE
        ]
        if not added and not updated:
            return
        parts = []
        if added:
            parts.append(f"{len(added)} added ({', '.join(added)})")
        if updated:
            parts.append(f"{len(updated)} updated ({', '.join(updated)})")
        name = kwargs.get("file_name") or "a file"
        mapping_version_bump(
            actor=kwargs.get("user"), summary=f"CSV import of {name}: " + "; ".join(parts)
        )


def _rows_text(rows: list[int]) -> str:
    return ", ".join(str(number) for number in rows[:-1]) + f" and {rows[-1]}"
