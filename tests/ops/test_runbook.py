"""The runbook in the product: every alert kind the code can raise has an entry with the five lines,
and /ops/runbook/ renders it (signed-in only) with an anchor per kind."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

import apps
from apps.ops.runbook import runbook_html, runbook_kinds, runbook_path
from apps.sync.alerts import ALERT_KINDS

ENTRY_LINES = ("**Means:**", "**The customer sees:**", "**First:**", "**Replay:**", "**Escalate:**")


def _import_every_app_module() -> None:
    """Every module registers its kinds at import time: import them all, as a worker would."""
    for module in pkgutil.walk_packages(apps.__path__, prefix="apps."):
        if ".migrations" in module.name or ".tests" in module.name:
            continue
        if module.name.startswith("apps.sandbox") and not settings.O2C_SANDBOX:
            continue
        importlib.import_module(module.name)


def _kinds_raised_in_code() -> set[str]:
    """Literal `kind=` arguments of every alert_raise call under apps/ (f-strings are prefixes)."""
    found = set()
    for path in Path(apps.__path__[0]).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "alert_raise"):
                continue
            for keyword in node.keywords:
                if keyword.arg == "kind" and isinstance(keyword.value, ast.Constant):
                    found.add(keyword.value.value)
    return found


def every_kind() -> set[str]:
    _import_every_app_module()
    return set(ALERT_KINDS) | _kinds_raised_in_code()


def test_every_alert_kind_the_code_can_raise_is_registered():
    _import_every_app_module()
    unregistered = _kinds_raised_in_code() - set(ALERT_KINDS)
    assert not unregistered, f"register these with alert_kind_register: {sorted(unregistered)}"


def test_the_registry_holds_the_kinds_of_every_layer():
    kinds = every_kind()
    for kind in (
        "outbox.dead",
        "receipt.failed",
        "order.hold.unknown_sku",
        "order.hold.no_shipping_address",
        "shopify.poll_failed",
        "xero.reconciliation",
        "teams.delivery_failed",
    ):
        assert kind in kinds


def test_every_alert_kind_has_a_runbook_entry_with_the_five_lines():
    text = runbook_path().read_text(encoding="utf-8")
    entries = runbook_kinds(text)
    missing = sorted(every_kind() - set(entries))
    assert not missing, f"docs/runbook.md has no `### \\`kind\\`` entry for {missing}"
    sections = text.split("\n### ")
    for kind in every_kind():
        heading = entries[kind]
        (section,) = [s for s in sections if s.startswith(heading)]
        lacking = [line for line in ENTRY_LINES if line not in section]
        assert not lacking, f"the runbook entry of {kind} lacks {lacking}"


def test_a_kind_without_an_entry_is_noticed():
    entries = runbook_kinds("### `a.kind`\n\n### 2.1 Some heading about `b.kind` and `a.kind`\n")
    assert entries == {
        "a.kind": "`a.kind`",
        "b.kind": "2.1 Some heading about `b.kind` and `a.kind`",
    }


def test_every_kind_gets_its_anchor_in_the_rendered_runbook():
    html = runbook_html()
    for kind in every_kind():
        assert html.count(f'id="{kind}"') == 1, kind


@pytest.mark.django_db
def test_the_runbook_page_needs_sign_in_and_renders_the_entries(client, support_user):
    url = reverse("ops:runbook")
    assert client.get(url).status_code == 302
    client.force_login(support_user)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<span id="outbox.dead" class="anchor"></span>' in body
    assert "<table>" in body
