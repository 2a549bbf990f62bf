"""Audit verbs are constants in apps/audit/verbs.py, one form and one tense, used by every call site."""

import ast
import re
from pathlib import Path

import pytest

from apps.audit import verbs

ROOT = Path(__file__).resolve().parent.parent.parent
FORM = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
# Past participles that do not end in "-ed"; add one here when a verb needs it.
IRREGULAR_PAST = {"sent", "reread", "overridden"}

CONSTANTS = {name: value for name, value in vars(verbs).items() if name.isupper()}


def test_every_verb_is_thing_dot_verb_in_the_past_tense_named_after_itself():
    assert CONSTANTS, "apps/audit/verbs.py defines no verb"
    for name, value in CONSTANTS.items():
        assert FORM.match(value), f"{name} = {value!r} is not thing.verb_past"
        done = value.rsplit(".", 1)[1].rsplit("_", 1)[-1]
        assert done.endswith("ed") or done in IRREGULAR_PAST, f"{value!r} is not in the past tense"
        assert name == value.replace(".", "_").upper(), f"{name} should be named after {value!r}"
    assert len(set(CONSTANTS.values())) == len(CONSTANTS)


def _audit_calls():
    for package in ("apps", "o2c_portal"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "audit_record":
                    yield path.relative_to(ROOT), node


@pytest.mark.parametrize(("path", "call"), list(_audit_calls()), ids=lambda v: str(v)[:60])
def test_every_call_site_names_a_verb_constant(path, call):
    (verb,) = [keyword.value for keyword in call.keywords if keyword.arg == "verb"]
    where = f"{path}:{call.lineno}"
    # One constant, or a choice between two (`verbs.A if invoice else verbs.B`).
    choices = [verb.body, verb.orelse] if isinstance(verb, ast.IfExp) else [verb]
    for choice in choices:
        assert isinstance(choice, ast.Attribute), f"{where}: use a constant from apps.audit.verbs"
        assert isinstance(choice.value, ast.Name), where
        assert choice.value.id == "verbs", where
        assert choice.attr in CONSTANTS, f"{where}: verbs.{choice.attr} does not exist"


def test_the_call_sites_are_found():
    """The scan above reads real code: it finds the sync, orders and support call sites."""
    found = {str(path) for path, _call in _audit_calls()}
    assert {"apps/sync/replay.py", "apps/orders/services.py", "apps/support/services.py"} <= found
