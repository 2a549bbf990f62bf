"""Validate request bodies against the component schemas of Xero's official OpenAPI document.

The whole document fails strict OpenAPI validation, so only what request bodies touch is checked:
`type`, `enum`, `required`, `properties`, `items`, `maxLength`, `format: uuid` and `$ref` to
`#/components/schemas/…` (siblings of a `$ref` are ignored, as OpenAPI 3.0 says). In a request a
property marked `readOnly: true` (SubTotal, Total, UpdatedDateUTC…) is an error, and so is a
property the schema does not name (Xero would ignore it silently — a typo we want to hear about).

The spec is parsed once per process with PyYAML (its C loader when built with libyaml).
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
SPEC_PARTS = ("xero", "xero_accounting.yaml")
_REF_PREFIX = "#/components/schemas/"


@functools.lru_cache(maxsize=4)
def spec_load(path: str) -> dict[str, Any]:
    """The parsed spec (cached per path). ImportError when PyYAML is missing."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with Path(path).open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader, chosen above
    return spec


def spec_path(contracts_dir: Path) -> Path:
    return contracts_dir.joinpath(*SPEC_PARTS)


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = spec["components"]["schemas"]
    return schemas


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith(_REF_PREFIX):
            raise ValueError(f"unsupported $ref {ref}")
        schema = _schemas(spec)[ref[len(_REF_PREFIX) :]]
        seen += 1
        if seen > 20:
            raise ValueError(f"$ref loop at {ref}")
    return schema


def _type_ok(expected: str, value: Any) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if expected == "array":
        return isinstance(value, list | tuple)
    if expected == "object":
        return isinstance(value, dict)
    return True


def _check(
    spec: dict[str, Any],
    schema: dict[str, Any],
    value: Any,
    where: str,
    errors: list[str],
    *,
    request: bool,
    allow_unknown: bool,
) -> None:
    schema = _resolve(spec, schema)
    expected = schema.get("type")
    if expected is None and "properties" in schema:
        expected = "object"
    if value is None:
        # Xero's serialisers send and accept null for absent optional values.
        return
    if expected and not _type_ok(expected, value):
        errors.append(f"{where}: expected {expected}, got {type(value).__name__}")
        return
    if "enum" in schema and value not in schema["enum"]:
        shown = ", ".join(map(str, schema["enum"][:8]))
        more = "…" if len(schema["enum"]) > 8 else ""
        errors.append(f"{where}: {value!r} is not one of {shown}{more}")
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > int(schema["maxLength"]):
            errors.append(f"{where}: longer than {schema['maxLength']} characters")
        if schema.get("format") == "uuid" and not UUID_RE.match(value):
            errors.append(f"{where}: {value!r} is not a UUID")
    if expected == "array":
        items = schema.get("items") or {}
        for index, item in enumerate(value):
            _check(
                spec,
                items,
                item,
                f"{where}[{index}]",
                errors,
                request=request,
                allow_unknown=allow_unknown,
            )
    if expected == "object" and isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if value.get(name) is None:
                errors.append(f"{where}.{name}: required")
        for name, item in value.items():
            sub = properties.get(name)
            if sub is None:
                if not allow_unknown:
                    errors.append(f"{where}.{name}: not a property of this schema")
                continue
            if request and (sub.get("readOnly") or _resolve(spec, sub).get("readOnly")):
                errors.append(f"{where}.{name}: read-only, must not be sent")
                continue
            _check(
                spec,
                sub,
                item,
                f"{where}.{name}",
                errors,
                request=request,
                allow_unknown=allow_unknown,
            )


def schema_errors(
    spec: dict[str, Any],
    schema_name: str,
    value: Any,
    *,
    request: bool = True,
    allow_unknown: bool = False,
) -> list[str]:
    """Every way `value` breaks components/schemas/<schema_name> (empty list: valid)."""
    errors: list[str] = []
    _check(
        spec,
        {"$ref": f"{_REF_PREFIX}{schema_name}"},
        value,
        schema_name,
        errors,
        request=request,
        allow_unknown=allow_unknown,
    )
    return errors
