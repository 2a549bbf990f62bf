"""Demand for stock, told by the apps that hold orders (inventory knows nothing of orders).

apps.orders registers a provider with `@demand_provider`; the stock computation asks every provider
for, per SKU mapping, the units on orders the warehouse had not yet counted when it reported its
stock, and the units ordered since a moment (for the sales velocity).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Demand:
    pending: dict[int, int] = field(default_factory=dict)  # mapping id → units
    sold: dict[int, int] = field(default_factory=dict)  # mapping id → units since `sold_since`


DemandProvider = Callable[..., Demand]
_providers: list[DemandProvider] = []


def demand_provider(provider: DemandProvider) -> DemandProvider:
    """Register `provider(*, stock_read_at, sold_since) -> Demand`. Usable as a decorator."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def demand_read(*, stock_read_at: datetime | None, sold_since: datetime) -> Demand:
    pending: dict[int, int] = {}
    sold: dict[int, int] = {}
    for provider in _providers:
        found = provider(stock_read_at=stock_read_at, sold_since=sold_since)
        for mapping_id, units in found.pending.items():
            pending[mapping_id] = pending.get(mapping_id, 0) + units
        for mapping_id, units in found.sold.items():
            sold[mapping_id] = sold.get(mapping_id, 0) + units
    return Demand(pending=pending, sold=sold)
