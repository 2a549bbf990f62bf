"""The SKU mapping admin: validation, one version bump per change, and the affected-orders step."""

import pytest
from django.urls import reverse

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.inventory.forms import CONFIRM_FIELD
from apps.inventory.models import MappingVersion, SkuMapping, WarehouseComponent
from apps.orders.models import Order
from tests.inventory.factories import SkuMappingFactory
from tests.orders.factories import order_with_line

ADD_URL = reverse("admin:inventory_skumapping_add")
LIST_URL = reverse("admin:inventory_skumapping_changelist")


def change_url(mapping):
    return reverse("admin:inventory_skumapping_change", args=[mapping.pk])


def form_data(mapping=None, *, components=None, delete_components=(), **fields):
    """What the admin change form posts: the mapping's fields and the component inline formset."""
    data = {
        "shopify_sku": mapping.shopify_sku if mapping else "",
        "shopify_variant_id": (mapping.shopify_variant_id or "") if mapping else "",
        "title": mapping.title if mapping else "",
        "warehouse_managed": "on",
        "xero_item_code": mapping.xero_item_code if mapping else "",
        "xero_account_code": mapping.xero_account_code if mapping else "",
        "xero_tax_type": mapping.xero_tax_type if mapping else "",
        "_save": "Save",
    }
    if mapping and not mapping.warehouse_managed:
        del data["warehouse_managed"]
    existing = list(mapping.components.all()) if mapping else []
    new = list(components or [])
    data.update(
        {
            "components-TOTAL_FORMS": str(len(existing) + len(new)),
            "components-INITIAL_FORMS": str(len(existing)),
            "components-MIN_NUM_FORMS": "0",
            "components-MAX_NUM_FORMS": "1000",
        }
    )
    for index, component in enumerate(existing):
        prefix = f"components-{index}-"
        data[prefix + "id"] = str(component.pk)
        data[prefix + "mapping"] = str(mapping.pk)
        data[prefix + "inventory_id"] = (
            "" if component.inventory_id is None else str(component.inventory_id)
        )
        data[prefix + "reference"] = component.reference
        data[prefix + "quantity"] = str(component.quantity)
        if index in delete_components:
            data[prefix + "DELETE"] = "on"
    for offset, (inventory_id, reference, quantity) in enumerate(new):
        prefix = f"components-{len(existing) + offset}-"
        data[prefix + "inventory_id"] = "" if inventory_id is None else str(inventory_id)
        data[prefix + "reference"] = reference
        data[prefix + "quantity"] = str(quantity)
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def new_mapping_data(*, components=((12345, "", 1),), **fields):
    base = {
        "shopify_sku": "TEE-BLK-M",
        "title": "Tee black M",
        "xero_item_code": "TEE-BLK-M",
        "xero_account_code": "200",
        "xero_tax_type": "OUTPUT2",
    }
    base.update(fields)
    return form_data(**base, components=components)


# --- Access -----------------------------------------------------------------------------------


def test_admin_role_can_open_the_mapping_pages(admin_client):
    SkuMappingFactory(shopify_sku="TEE", components=[(12345, "", 1), (None, "REF-ABC", 2)])
    response = admin_client.get(LIST_URL)
    assert response.status_code == 200
    assert b"12345 x1|REF-ABC x2" in response.content
    assert admin_client.get(ADD_URL).status_code == 200
    assert admin_client.get(reverse("admin:inventory_mappingversion_changelist")).status_code == 200


def test_other_roles_cannot_edit_mappings(client, ops_user, finance_user):
    for user in (ops_user, finance_user):
        client.force_login(user)
        login = f"{reverse('admin:login')}?next={ADD_URL}"
        # Not staff: the admin sends them to its sign-in page, for a look as for a save.
        assert client.get(ADD_URL).url == login
        assert client.post(ADD_URL, new_mapping_data()).url == login
    assert not SkuMapping.objects.exists()


def test_changelist_shows_the_current_version_and_queries_stay_flat(
    admin_client, admin_user, django_assert_max_num_queries
):
    from apps.inventory.services import mapping_version_bump

    for _ in range(15):
        SkuMappingFactory(components=[(1, "", 1), (None, "X", 3)])
    mapping_version_bump(actor=admin_user, summary="seeded")
    version = MappingVersion.objects.get()
    with django_assert_max_num_queries(20):
        response = admin_client.get(LIST_URL)
    assert response.status_code == 200
    assert f"v{version.pk}".encode() in response.content
    assert b"seeded" in response.content


def test_bundle_filter_and_search(admin_client):
    SkuMappingFactory(shopify_sku="SINGLE", components=[(1, "", 1)])
    SkuMappingFactory(
        shopify_sku="BUNDLE", shopify_variant_id=4242, components=[(1, "", 1), (2, "", 1)]
    )
    response = admin_client.get(LIST_URL, {"bundle": "yes"})
    assert [m.shopify_sku for m in response.context["cl"].result_list] == ["BUNDLE"]
    response = admin_client.get(LIST_URL, {"bundle": "no"})
    assert [m.shopify_sku for m in response.context["cl"].result_list] == ["SINGLE"]
    response = admin_client.get(LIST_URL, {"q": "4242"})
    assert [m.shopify_sku for m in response.context["cl"].result_list] == ["BUNDLE"]
    response = admin_client.get(LIST_URL, {"q": "single"})
    assert [m.shopify_sku for m in response.context["cl"].result_list] == ["SINGLE"]


# --- Add / change / delete: one version bump each ------------------------------------------------


def test_add_with_a_bundle_bumps_the_version_once_with_an_audit_row(admin_client, admin_user):
    data = new_mapping_data(components=[(12345, "", 1), (None, "REF-ABC", 2)])
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    mapping = SkuMapping.objects.get()
    assert [(c.inventory_id, c.reference, c.quantity) for c in mapping.components.all()] == [
        (12345, "", 1),
        (None, "REF-ABC", 2),
    ]
    assert mapping.is_bundle
    version = MappingVersion.objects.get()
    assert version.changed_by == admin_user
    assert version.summary.startswith("Added TEE-BLK-M")
    assert "12345 x1|REF-ABC x2" in version.summary
    audit = AuditEvent.objects.get(verb=verbs.MAPPING_CHANGED)
    assert audit.actor == admin_user
    assert audit.target_id == str(version.pk)


def test_change_of_codes_and_components_bumps_once_and_says_what_changed(admin_client):
    mapping = SkuMappingFactory(shopify_sku="TEE", xero_item_code="OLD", components=[(1, "", 1)])
    data = form_data(
        mapping, xero_item_code="NEW", components=[(None, "REF-B", 2)], delete_components=[0]
    )
    response = admin_client.post(change_url(mapping), data)
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.xero_item_code == "NEW"
    assert [(c.inventory_id, c.reference, c.quantity) for c in mapping.components.all()] == [
        (None, "REF-B", 2)
    ]
    version = MappingVersion.objects.get()
    assert "Xero ItemCode OLD → NEW" in version.summary
    assert "Components 1 x1 → REF-B x2" in version.summary
    assert AuditEvent.objects.filter(verb=verbs.MAPPING_CHANGED).count() == 1


def test_saving_without_a_change_does_not_bump(admin_client):
    mapping = SkuMappingFactory()
    response = admin_client.post(change_url(mapping), form_data(mapping))
    assert response.status_code == 302
    assert not MappingVersion.objects.exists()


def test_delete_bumps_the_version_once(admin_client):
    mapping = SkuMappingFactory(shopify_sku="GONE")
    url = reverse("admin:inventory_skumapping_delete", args=[mapping.pk])
    page = admin_client.get(url)
    assert b"No open orders affected" in page.content
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not SkuMapping.objects.exists()
    assert not WarehouseComponent.objects.exists()
    assert MappingVersion.objects.get().summary.startswith("Deleted GONE")


def test_bulk_delete_shows_affected_orders_then_bumps_once(admin_client):
    first, second = SkuMappingFactory(shopify_sku="A-1"), SkuMappingFactory(shopify_sku="B-2")
    order = order_with_line(sku="a-1")
    selection = {"action": "delete_selected", "_selected_action": [first.pk, second.pk]}
    page = admin_client.post(LIST_URL, selection)
    assert page.status_code == 200
    assert order.name.encode() in page.content
    assert [impact.label for impact in page.context["mapping_impact"]] == [order.name]
    response = admin_client.post(LIST_URL, {**selection, "post": "yes"})
    assert response.status_code == 302
    assert not SkuMapping.objects.exists()
    (version,) = MappingVersion.objects.all()
    assert version.summary == "Deleted 2 mapping(s): A-1, B-2"


def test_delete_page_lists_the_orders_using_the_sku(admin_client):
    mapping = SkuMappingFactory(shopify_sku="TEE", shopify_variant_id=555)
    by_variant = order_with_line(sku=None, variant_id=555)
    by_sku = order_with_line(sku="tee")
    order_with_line(sku="tee", status=Order.Status.CANCELLED)
    page = admin_client.get(reverse("admin:inventory_skumapping_delete", args=[mapping.pk]))
    assert {impact.label for impact in page.context["mapping_impact"]} == {
        by_variant.name,
        by_sku.name,
    }
    assert by_variant.get_absolute_url().encode() in page.content


# --- Validation ------------------------------------------------------------------------------


def errors_of(response) -> str:
    assert response.status_code == 200, "expected the form again with errors"
    errors = response.context["errors"]
    return " ".join(str(error) for error in errors)


def test_a_sku_mapped_twice_is_refused_whatever_its_case(admin_client):
    SkuMappingFactory(shopify_sku="TEE-BLK-M")
    response = admin_client.post(ADD_URL, new_mapping_data(shopify_sku="tee-blk-m "))
    assert "SKU &#x27;tee-blk-m&#x27; is already mapped (as &#x27;TEE-BLK-M&#x27;)" in errors_of(
        response
    )
    assert SkuMapping.objects.count() == 1
    assert not MappingVersion.objects.exists()


def test_a_variant_mapped_twice_is_refused(admin_client):
    SkuMappingFactory(shopify_sku="TEE", shopify_variant_id=777)
    response = admin_client.post(
        ADD_URL, new_mapping_data(shopify_sku="MUG", shopify_variant_id="777")
    )
    assert "Variant 777 is already mapped by SKU" in errors_of(response)
    assert SkuMapping.objects.count() == 1


def test_empty_xero_codes_are_refused(admin_client):
    response = admin_client.post(
        ADD_URL, new_mapping_data(xero_item_code="", xero_account_code=" ", xero_tax_type="")
    )
    errors = errors_of(response)
    assert "Give the Xero ItemCode" in errors
    assert "Give the Xero AccountCode" in errors
    assert "Give the Xero TaxType" in errors
    assert not SkuMapping.objects.exists()


def test_a_warehouse_managed_sku_needs_a_component(admin_client):
    response = admin_client.post(ADD_URL, new_mapping_data(components=[]))
    assert "needs at least one warehouse component" in errors_of(response)
    assert not SkuMapping.objects.exists()


def test_a_non_warehouse_sku_cannot_have_components(admin_client):
    data = new_mapping_data(components=[(1, "", 1)], warehouse_managed=None)
    response = admin_client.post(ADD_URL, data)
    assert "not warehouse-managed, so it cannot have warehouse components" in errors_of(response)
    data = new_mapping_data(components=[], warehouse_managed=None)
    assert admin_client.post(ADD_URL, data).status_code == 302
    assert SkuMapping.objects.get().components.count() == 0


def test_a_component_needs_exactly_one_item_and_a_positive_quantity(admin_client):
    response = admin_client.post(ADD_URL, new_mapping_data(components=[(1, "REF", 1)]))
    assert "not both" in errors_of(response)
    response = admin_client.post(ADD_URL, new_mapping_data(components=[(1, "", 0)]))
    assert "greater than or equal to 1" in errors_of(response)
    response = admin_client.post(ADD_URL, new_mapping_data(components=[(1, "", 1), (1, "", 2)]))
    assert "listed twice" in errors_of(response)
    assert not SkuMapping.objects.exists()


# --- The confirmation step -----------------------------------------------------------------------


def review_of(page):
    """The impact review the change form shows, and the key its confirmation box carries."""
    assert page.status_code == 200, "expected the form again with the review"
    assert "admin/inventory/skumapping/change_form.html" in [t.name for t in page.templates]
    (review,) = [
        formset.formset.mapping_review
        for formset in page.context["inline_admin_formsets"]
        if formset.formset.mapping_review
    ]
    checkbox = f'name="{CONFIRM_FIELD}" value="{review.key}"'
    assert checkbox in page.content.decode()
    return review


def test_change_affecting_an_open_order_asks_first_and_lists_it(admin_client):
    mapping = SkuMappingFactory(shopify_sku="TEE", xero_item_code="OLD", components=[(7, "", 1)])
    order = order_with_line(sku="TEE", status=Order.Status.READY)
    data = form_data(mapping, xero_item_code="NEW", components=[(None, "EXTRA", 3)])

    page = admin_client.post(change_url(mapping), data)

    review = review_of(page)
    assert [impact.label for impact in review.impacts] == [order.name]
    assert f'<a href="{order.get_absolute_url()}">{order.name}</a>' in page.content.decode()
    assert [(c.label, c.old, c.new) for c in review.changes] == [
        ("Xero ItemCode", "OLD", "NEW"),
        ("Components", "7 x1", "7 x1|EXTRA x3"),
    ]
    assert "this change affects 1 open order(s)" in errors_of(page)
    # Nothing saved yet; the form is the same form, the edits still in it.
    assert b'value="NEW"' in page.content
    assert b'value="EXTRA"' in page.content
    mapping.refresh_from_db()
    assert mapping.xero_item_code == "OLD"
    assert mapping.components.count() == 1
    assert not MappingVersion.objects.exists()

    response = admin_client.post(change_url(mapping), {**data, CONFIRM_FIELD: review.key})

    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.xero_item_code == "NEW"
    assert mapping.components.count() == 2
    (version,) = MappingVersion.objects.all()
    assert "Xero ItemCode OLD → NEW" in version.summary


def test_a_confirmation_of_another_review_asks_again(admin_client):
    """Ticking the box confirms what was shown: an edit made after it, or a new affected order,
    brings the review back instead of saving."""
    mapping = SkuMappingFactory(shopify_sku="TEE", xero_item_code="OLD")
    order_with_line(sku="TEE")
    shown = review_of(
        admin_client.post(change_url(mapping), form_data(mapping, xero_item_code="A"))
    )

    edited = admin_client.post(
        change_url(mapping), {**form_data(mapping, xero_item_code="B"), CONFIRM_FIELD: shown.key}
    )
    order_with_line(sku="TEE")
    more_orders = admin_client.post(
        change_url(mapping), {**form_data(mapping, xero_item_code="A"), CONFIRM_FIELD: shown.key}
    )

    assert review_of(edited).key != shown.key
    assert len(review_of(more_orders).impacts) == 2
    mapping.refresh_from_db()
    assert mapping.xero_item_code == "OLD"
    assert not MappingVersion.objects.exists()


def test_renaming_a_sku_lists_orders_of_the_old_and_the_new_sku(admin_client):
    mapping = SkuMappingFactory(shopify_sku="OLD-SKU")
    old_order = order_with_line(sku="OLD-SKU")
    new_order = order_with_line(sku="NEW-SKU")
    page = admin_client.post(change_url(mapping), form_data(mapping, shopify_sku="NEW-SKU"))
    review = review_of(page)
    assert {impact.label for impact in review.impacts} == {old_order.name, new_order.name}
    assert review.skus == ["NEW-SKU", "OLD-SKU"]


def test_adding_a_mapping_for_a_held_sku_lists_the_held_order(admin_client):
    held = order_with_line(sku="TEE-BLK-M")
    page = admin_client.post(ADD_URL, new_mapping_data())
    review = review_of(page)
    assert [impact.label for impact in review.impacts] == [held.name]
    assert not SkuMapping.objects.exists()
    response = admin_client.post(ADD_URL, {**new_mapping_data(), CONFIRM_FIELD: review.key})
    assert response.status_code == 302
    assert SkuMapping.objects.count() == 1
    assert MappingVersion.objects.count() == 1


def test_change_affecting_no_open_order_saves_directly(admin_client):
    mapping = SkuMappingFactory(shopify_sku="TEE", xero_item_code="OLD")
    order_with_line(sku="TEE", status=Order.Status.CANCELLED)
    response = admin_client.post(change_url(mapping), form_data(mapping, xero_item_code="NEW"))
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.xero_item_code == "NEW"


def test_invalid_change_shows_errors_not_the_confirmation(admin_client):
    mapping = SkuMappingFactory(shopify_sku="TEE")
    order_with_line(sku="TEE")
    response = admin_client.post(change_url(mapping), form_data(mapping, xero_tax_type=""))
    assert "Give the Xero TaxType" in errors_of(response)
    assert "affects" not in errors_of(response)
    assert b"mapping-review" not in response.content
