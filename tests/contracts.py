"""Access to ../shared/contracts (real peer payloads and specs), which is never copied into the repo."""

import json
from pathlib import Path

import pytest

CONTRACTS = Path(__file__).resolve().parents[1].parent / "shared" / "contracts"


def contract_path(*parts: str) -> Path:
    path = CONTRACTS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared contracts folder beside the repository)")
    return path


def shopify_payload(name: str) -> dict:
    """A real Shopify REST resource, unwrapped from its {"order": …} / {"refund": …} envelope."""
    data = json.loads(contract_path("shopify", name).read_text())
    return data.get("order") or data.get("refund") or data


SHOPIFY_ORDER_FILES = (
    "shopify_python_api_order.json",
    "shopify_app_js_rest_2026_07_order_discounts_partially_refunded.json",
    "shopify_app_js_rest_2026_07_order_cancelled_refunded.json",
)


def shopify_raw(payload: dict) -> bytes:
    """Serialise as Shopify writes it: `/` escaped as `\\/`, `&` as `\\u0026` (a re-dump would differ)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return text.replace("/", "\\/").replace("&", "\\u0026").encode()
