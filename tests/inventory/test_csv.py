"""CSV import/export of the mapping through the admin: preview with diff and impact, all-or-nothing."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.inventory.changes import ComponentSpec, components_format, components_parse
from apps.inventory.models import MappingVersion, SkuMapping
from apps.inventory.resources import COLUMNS
from apps.orders.models import Order
from tests.inventory.factories import SkuMappingFactory
from tests.orders.factories import order_with_line

IMPORT_URL = reverse("admin:inventory_skumapping_import")
PROCESS_URL = reverse("admin:inventory_skumapping_process_import")
EXPORT_URL = reverse("admin:inventory_skumapping_export")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in COLUMNS})
    return out.getvalue().encode()


def row(sku, **values):
    base = {
        "shopify_sku": sku,
        "title": f"Item {sku}",
        "warehouse_managed": "yes",
        "components": "12345 x1",
        "xero_item_code": sku[:30],
        "xero_account_code": "200",
        "xero_tax_type": "OUTPUT2",
    }
    base.update(values)
    return base


def upload(client, content: bytes, name="mappings.csv"):
    return client.post(
        IMPORT_URL,
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile(name, content, "text/csv"),
        },
    )


def confirm(client, preview):
    form = preview.context["confirm_form"]
    return client.post(
        PROCESS_URL, {name: form.initial[name] for name in form.initial} | {"confirm": "1"}
    )


def snapshot():
    return sorted(
        (
            m.shopify_sku,
            m.shopify_variant_id,
            m.title,
            m.warehouse_managed,
            m.xero_item_code,
            tuple((c.inventory_id, c.reference, c.quantity) for c in m.components.all()),
        )
        for m in SkuMapping.objects.prefetch_related("components")
    )


# --- The component text format ----------------------------------------------------------------


def test_components_text_round_trips_and_reads_loose_spellings():
    parsed = components_parse(" 12345x1 | REF-ABC X2|ref:00123 ×3|BOXx2 x1|MUG ")
    assert parsed == [
        ComponentSpec(12345, "", 1),
        ComponentSpec(None, "REF-ABC", 2),
        ComponentSpec(None, "00123", 3),
        ComponentSpec(None, "BOXx2", 1),
        ComponentSpec(None, "MUG", 1),
    ]
    assert components_format(parsed) == "12345 x1|REF-ABC x2|ref:00123 x3|BOXx2 x1|MUG x1"
    assert components_parse(components_format(parsed)) == parsed
    assert components_parse("") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 x1||2 x1", "is empty"),
        ("A x0", "quantity 0"),
        ("ref: x1", "empty reference"),
        (str(2**63) + " x1", "too large"),
    ],
)
def test_bad_components_text_says_which_part(text, message):
    with pytest.raises(ValueError, match=message):
        components_parse(text)


# --- Import ---------------------------------------------------------------------------------


def test_preview_shows_the_diff_and_the_affected_orders_and_changes_nothing(admin_client):
    SkuMappingFactory(shopify_sku="TEE", xero_item_code="OLD", components=[(1, "", 1)])
    SkuMappingFactory(shopify_sku="SAME", xero_item_code="SAME", components=[(7, "", 1)])
    tee_order = order_with_line(sku="tee", status=Order.Status.READY)
    mug_order = order_with_line(sku="MUG")  # held: unknown SKU, which the file adds
    order_with_line(sku="OTHER")
    before = snapshot()
    content = csv_bytes(
        [
            row("tee", xero_item_code="NEW", components="1 x1|REF-B x2"),
            row("MUG", shopify_variant_id="9007199254741993"),
            row("SAME", title="Item SAME", components="7 x1", xero_item_code="SAME"),
        ]
    )

    preview = upload(admin_client, content)

    assert preview.status_code == 200
    assert preview.context["confirm_form"] is not None
    result = preview.context["result"]
    assert [r.import_type for r in result.rows] == ["update", "new", "skip"]
    diff = dict(zip(result.diff_headers, result.rows[0].diff, strict=True))
    assert "NEW" in diff["xero_item_code"]
    assert "OLD" in diff["xero_item_code"]
    assert "REF-B x2" in diff["components"]
    assert {impact.label for impact in preview.context["mapping_impact"]} == {
        tee_order.name,
        mug_order.name,
    }
    assert tee_order.get_absolute_url().encode() in preview.content
    assert b"Open orders affected (2)" in preview.content
    # The CSP (style-src 'self' + nonce) refuses inline styles: the diff is marked up with classes.
    assert b'class="diff-ins"' in preview.content
    assert b"style=" not in preview.content
    assert snapshot() == before
    assert not MappingVersion.objects.exists()
    assert not AuditEvent.objects.filter(verb=verbs.MAPPING_CHANGED).exists()


def test_confirmed_import_writes_rows_components_and_one_version(admin_client, admin_user):
    SkuMappingFactory(shopify_sku="TEE", xero_item_code="OLD", components=[(1, "", 1)])
    content = csv_bytes(
        [
            row("tee", xero_item_code="NEW", components="1 x1|REF-B x2"),
            row("MUG", shopify_variant_id="9007199254741993", components="ref:00123 x4"),
            row("GIFT", warehouse_managed="no", components=""),
        ]
    )
    preview = upload(admin_client, content)

    response = confirm(admin_client, preview)

    assert response.status_code == 302
    tee = SkuMapping.objects.get(shopify_sku__iexact="tee")
    assert tee.xero_item_code == "NEW"
    assert [(c.inventory_id, c.reference, c.quantity) for c in tee.components.all()] == [
        (1, "", 1),
        (None, "REF-B", 2),
    ]
    mug = SkuMapping.objects.get(shopify_sku="MUG")
    assert mug.shopify_variant_id == 9007199254741993
    assert [(c.inventory_id, c.reference, c.quantity) for c in mug.components.all()] == [
        (None, "00123", 4)
    ]
    gift = SkuMapping.objects.get(shopify_sku="GIFT")
    assert not gift.warehouse_managed
    assert gift.components.count() == 0
    assert SkuMapping.objects.count() == 3
    version = MappingVersion.objects.get()
    assert version.changed_by == admin_user
    assert version.summary == "CSV import of mappings.csv: 2 added (MUG, GIFT); 1 updated (tee)"
    assert AuditEvent.objects.filter(verb=verbs.MAPPING_CHANGED).count() == 1


def test_unchanged_file_imports_without_a_version(admin_client):
    SkuMappingFactory(
        shopify_sku="TEE", title="Item TEE", xero_item_code="TEE", components=[(12345, "", 1)]
    )
    preview = upload(admin_client, csv_bytes([row("TEE")]))
    assert [r.import_type for r in preview.context["result"].rows] == ["skip"]
    assert confirm(admin_client, preview).status_code == 302
    assert not MappingVersion.objects.exists()


def test_invalid_rows_are_listed_and_block_the_import(admin_client):
    SkuMappingFactory(shopify_sku="TAKEN", shopify_variant_id=555)
    before = snapshot()
    content = csv_bytes(
        [
            row("DUP"),
            row("dup"),
            row("NOCODE", xero_item_code="", xero_tax_type=" "),
            row("BADCOMP", components="12345 x1||x"),
            row("NOCOMP", components=""),
            row("GIFT", warehouse_managed="no", components="1 x1"),
            row("BADFLAG", warehouse_managed="maybe"),
            row("BADVARIANT", shopify_variant_id="12ab"),
            row("VARIANT", shopify_variant_id="555"),
            row("FINE"),
        ]
    )

    preview = upload(admin_client, content)

    assert preview.status_code == 200
    assert "confirm_form" not in preview.context
    result = preview.context["result"]
    errors = {
        invalid.number: " ".join(
            str(message) for messages in invalid.error_dict.values() for message in messages
        )
        for invalid in result.invalid_rows
    }
    assert set(errors) == {1, 2, 3, 4, 5, 6, 7, 8, 9}
    assert "on rows 1 and 2 of the file" in errors[1]
    assert "on rows 1 and 2 of the file" in errors[2]
    assert "Give the Xero ItemCode" in errors[3]
    assert "Give the Xero TaxType" in errors[3]
    assert "Component 2 is empty" in errors[4]
    assert "needs at least one warehouse component" in errors[5]
    assert "cannot have warehouse components" in errors[6]
    assert "must be yes or no" in errors[7]
    assert "not a whole number" in errors[8]
    assert "Variant 555 is already mapped by SKU 'TAKEN'" in errors[9]
    assert b"Nothing will be imported until every row is valid" in preview.content
    assert snapshot() == before
    assert not MappingVersion.objects.exists()


def test_confirm_is_all_or_nothing_when_a_row_went_stale(admin_client):
    preview = upload(admin_client, csv_bytes([row("NEW-1"), row("NEW-2", shopify_variant_id="42")]))
    assert preview.context["confirm_form"] is not None
    # Someone maps variant 42 elsewhere between the preview and the confirmation.
    SkuMappingFactory(shopify_sku="ELSEWHERE", shopify_variant_id=42)
    response = confirm(admin_client, preview)
    assert response.status_code == 302
    assert response.url == IMPORT_URL
    assert set(SkuMapping.objects.values_list("shopify_sku", flat=True)) == {"ELSEWHERE"}
    assert not MappingVersion.objects.exists()


def test_a_file_without_the_sku_column_is_refused(admin_client):
    preview = upload(admin_client, b"title,xero_item_code\nA,B\n")
    assert "confirm_form" not in preview.context
    assert not SkuMapping.objects.exists()


# --- Export ---------------------------------------------------------------------------------


def export_csv(client) -> str:
    fields = {f"skumappingresource_{column}": "on" for column in COLUMNS}
    response = client.post(EXPORT_URL, {"format": "0", "resource": "0", **fields})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    return response.content.decode("utf-8-sig")


def test_export_round_trips_through_import(admin_client):
    SkuMappingFactory(
        shopify_sku="TEE", shopify_variant_id=2**62 + 1, components=[(1, "", 1), (None, "REF-B", 2)]
    )
    SkuMappingFactory(shopify_sku="NUMREF", components=[(None, "00123", 1)])
    SkuMappingFactory(shopify_sku="GIFT", warehouse_managed=False)
    before = snapshot()

    text = export_csv(admin_client)

    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(COLUMNS)
    by_sku = {r["shopify_sku"]: r for r in rows}
    assert by_sku["TEE"]["components"] == "1 x1|REF-B x2"
    assert by_sku["TEE"]["shopify_variant_id"] == str(2**62 + 1)
    assert by_sku["NUMREF"]["components"] == "ref:00123 x1"
    assert by_sku["GIFT"]["warehouse_managed"] == "no"

    preview = upload(admin_client, text.encode())
    assert [r.import_type for r in preview.context["result"].rows] == ["skip", "skip", "skip"]
    SkuMapping.objects.all().delete()
    preview = upload(admin_client, text.encode())
    assert confirm(admin_client, preview).status_code == 302
    assert snapshot() == before


def test_export_escapes_formulae_so_a_spreadsheet_does_not_run_them(admin_client):
    SkuMappingFactory(shopify_sku="EVIL", title="=cmd|' /C calc'!A0", xero_item_code="=1+1")

    text = export_csv(admin_client)

    (row,) = csv.DictReader(io.StringIO(text))
    assert row["title"] == "cmd|' /C calc'!A0"
    assert row["xero_item_code"] == "1+1"
    assert not any(cell.startswith("=") for cell in row.values())
