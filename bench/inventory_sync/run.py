"""Inventory sync bench: 5,000 SKUs (200 bundles) from the ShipBob stand-in to the Shopify stand-in,
with a backlog of orders being submitted to ShipBob at the same time.

    .venv/bin/python -m bench.inventory_sync.run [--skus 5000] [--bundles 200] [--backlog 1500]
        [--window 6] [--limit 150] [--shopify-scale 10] [--change 0.05]

It prepares the database (DATABASE_URL, default postgres://postgres@127.0.0.1/o2c_inventory_bench),
empties the tables it uses, bulk-creates the catalogue (catalogue.py), serves the stand-ins with
gunicorn (ShipBob's window scaled as in the drain bench, 150 per 6 s; Shopify's cost bucket restoring
`--shopify-scale` × 100 points/s, our budgets scaled alike) and runs one `sync_run` process per pump.
Three phases, each with a fresh backlog of `--backlog` READY orders (bench/warehouse_drain):

1. baseline: the backlog alone — the order-submission rate without the sync;
2. cold: the backlog and a first inventory pull (lookups included: a fresh install);
3. change: `--change` of the warehouse items change, the backlog again, and a pull.

Figures: the time from the pull's start to Shopify matching every computed value (and from the
moment the order lane emptied: the pull waits behind it, by design); ShipBob pages and Shopify calls
against the minimum (pages + ⌈changed / 250⌉ sets); 429s and THROTTLED answers; stale sets; the
order-submission rate while the sync ran as a share of the baseline's.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    database_prepare,
    free_port,
    piped_spawn,
    process_stop,
    pump_bench_setup,
    result_print,
    sandbox_env,
    server_start,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1/o2c_inventory_bench"
BAR_CALLS, BAR_SHARE = 1.1, 0.95
SET_QUANTITIES_MAX = 250


@dataclass
class Phase:
    name: str
    orders: int
    orders_s: float  # first to last accepted create
    orders_per_s: float
    converged: bool = True
    converge_s: float = 0.0  # pull start → Shopify matches every computed value
    after_orders_s: float = 0.0  # the order lane empty → converged
    pages: int = 0
    lookups: int = 0
    sets: int = 0
    changed: int = 0
    minimum: int = 0
    stale_sets: int = 0
    shipbob_429: int = 0
    shopify_throttled: int = 0

    @property
    def calls(self) -> int:
        return self.pages + self.sets

    def line(self) -> str:
        head = f"{self.name:9} {self.orders} orders at {self.orders_per_s:.2f}/s"
        if self.name == "baseline":
            return head
        ratio = self.calls / self.minimum if self.minimum else float("nan")
        return (
            f"{head}; {'converged' if self.converged else 'NOT converged'} "
            f"{self.converge_s:.1f} s after the pull started ({self.after_orders_s:.1f} s after "
            f"the order lane emptied); calls {self.pages} pages + {self.sets} sets = {self.calls} "
            f"vs minimum {self.minimum} ({ratio:.2f}×) for {self.changed} changed; "
            f"+{self.lookups} one-time lookups; stale sets {self.stale_sets}; "
            f"ShipBob 429 {self.shipbob_429}, Shopify THROTTLED {self.shopify_throttled}"
        )


@dataclass
class InventoryResult:
    skus: int
    bundles: int
    backlog: int
    window_s: float
    limit: int
    shopify_restore: float
    phases: list[Phase] = field(default_factory=list)
    logs: str = ""
    runner_outputs: list[str] = field(default_factory=list)

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)

    @property
    def order_share(self) -> float:
        base = self.phase("baseline").orders_per_s
        return min(p.orders_per_s for p in self.phases if p.name != "baseline") / base

    @property
    def passed(self) -> bool:
        synced = [p for p in self.phases if p.name != "baseline"]
        return (
            all(p.converged for p in synced)
            and all(p.calls <= BAR_CALLS * p.minimum for p in synced)
            and all(p.stale_sets == 0 for p in synced)
            and self.order_share >= BAR_SHARE
        )

    def lines(self) -> list[str]:
        return [
            f"{self.skus} SKUs ({self.bundles} bundles); backlog {self.backlog} orders per phase; "
            f"ShipBob {self.limit}/{self.window_s:g} s; Shopify restore {self.shopify_restore:g} pts/s",
            *(phase.line() for phase in self.phases),
            f"order submission while syncing: {self.order_share:.1%} of the baseline rate",
            f"bar       {'PASS' if self.passed else 'MISS'} (calls ≤ {BAR_CALLS}× the minimum, "
            f"0 stale overwrites, order submission ≥ {BAR_SHARE:.0%})",
        ]


def _orders_phase(*, name: str, backlog: int, seed: int) -> tuple[Phase, list[int]]:
    from bench.inventory_sync.catalogue import orders_reset
    from bench.warehouse_drain.orders import ready_orders_create

    orders_reset()
    ids = ready_orders_create(n=backlog, seed=seed)
    return Phase(name=name, orders=backlog, orders_s=0.0, orders_per_s=0.0), ids


def _orders_done(phase: Phase) -> float | None:
    """When the backlog's last create was accepted (None while some wait); fills the rate."""
    from apps.sandbox.shipbob.models import WarehouseOrder
    from apps.sync.models import OutboxMessage

    waiting = OutboxMessage.objects.filter(
        action="order_create",
        status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT),
    ).exists()
    if waiting:
        return None
    stamps = list(
        WarehouseOrder.objects.order_by("created_at").values_list("created_at", flat=True)
    )
    first, last = stamps[0].timestamp(), stamps[-1].timestamp()
    phase.orders_s = round(last - first, 2)
    phase.orders_per_s = (len(stamps) - 1) / max(last - first, 1e-9)
    return last


def _sync_phase(phase: Phase, *, timeout: float, before: dict) -> None:
    """Start a pull and wait until Shopify matches every computed value and the backlog is in."""
    from apps.inventory.models import InventorySyncState
    from apps.inventory.sync import inventory_pull_start
    from bench.inventory_sync.catalogue import convergence, counters

    started = time.time()
    inventory_pull_start()
    orders_done = converged_at = None
    while time.time() < started + timeout:
        time.sleep(0.5)
        orders_done = orders_done or _orders_done(phase)
        state = InventorySyncState.objects.get(pk=1)
        if state.pull_finished_at is None or state.pull_finished_at.timestamp() < started:
            continue
        now = convergence()
        if not (now.mismatched or now.pushes_waiting or now.inventory_waiting):
            converged_at = time.time()
            if orders_done:
                break
    phase.converged = converged_at is not None
    converged_at = converged_at or time.time()
    phase.converge_s = round(converged_at - started, 2)
    phase.after_orders_s = round(converged_at - (orders_done or started), 2)
    after = counters()
    delta = {key: after[key] - before.get(key, 0) for key in after}
    phase.pages, phase.lookups, phase.sets = delta["pages"], delta["lookups"], delta["sets"]
    phase.changed = delta["applied_quantities"]
    phase.minimum = phase.pages + math.ceil(phase.changed / SET_QUANTITIES_MAX)
    phase.stale_sets = delta["stale_sets"]
    phase.shipbob_429, phase.shopify_throttled = delta["shipbob_429"], delta["shopify_throttled"]


def bench_run(
    *,
    database_url: str,
    skus: int = 5000,
    bundles: int = 200,
    backlog: int = 1500,
    window: float = 6.0,
    limit: int = 150,
    headroom: float = 0.97,
    capacity: float = 3.0,
    shopify_scale: float = 10.0,
    change: float = 0.05,
    workers: int = 3,
    timeout: float = 900.0,
    prepare: bool = True,
    seed: int = 7,
    log_dir: Path | None = None,
) -> InventoryResult:
    """Three phases (baseline, cold, change); Django must be configured on `database_url`."""
    from bench.inventory_sync.catalogue import (
        catalogue_create,
        counters,
        inventory_tables_reset,
        stock_change,
    )

    if prepare:
        database_prepare(url=database_url)
    inventory_tables_reset()
    catalogue_create(skus=skus, bundles=bundles, seed=seed)
    refill = limit / window * headroom
    port = free_port()
    env = {
        **sandbox_env(url=database_url, port=port),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "SHIPBOB_BASE_URL": f"http://127.0.0.1:{port}/sandbox/shipbob",
        "SHOPIFY_BASE_URL": f"http://127.0.0.1:{port}/sandbox/shopify",
        "SANDBOX_SHIPBOB_WINDOW_SECONDS": str(window),
        "SANDBOX_SHIPBOB_LIMIT": str(limit),
        "SHIPBOB_BUDGET_CAPACITY": str(capacity),
        "SHIPBOB_BUDGET_REFILL": str(refill),
        "SANDBOX_SHOPIFY_RESTORE_RATE": str(100 * shopify_scale),
        "SHOPIFY_BUDGET_REFILL": str(2 * shopify_scale),
        "INVENTORY_PULL_PAGE_SIZE": str(SET_QUANTITIES_MAX),
    }
    result = InventoryResult(
        skus=skus,
        bundles=bundles,
        backlog=backlog,
        window_s=window,
        limit=limit,
        shopify_restore=100 * shopify_scale,
    )
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="inventory_sync-"))
    log_path = log_dir / "children.log"
    result.logs = str(log_path)
    with log_path.open("ab") as log:
        server = server_start(env=env, port=port, log=log)
        manage = [sys.executable, "manage.py", "sync_run", "--seconds", str(timeout * 3)]
        pumps = [
            piped_spawn([*manage, "--pump", peer], env=env, log=log)
            for peer in ("shipbob", "shopify")
        ]
        try:
            phase, _ = _orders_phase(name="baseline", backlog=backlog, seed=seed)
            deadline = time.time() + timeout
            while _orders_done(phase) is None and time.time() < deadline:
                time.sleep(0.5)
            result.phases.append(phase)

            phase, _ = _orders_phase(name="cold", backlog=backlog, seed=seed)
            _sync_phase(phase, timeout=timeout, before=counters())
            result.phases.append(phase)

            stock_change(share=change, seed=seed)
            phase, _ = _orders_phase(name="change", backlog=backlog, seed=seed)
            _sync_phase(phase, timeout=timeout, before=counters())
            result.phases.append(phase)
        finally:
            for pump in pumps:
                process_stop(pump, grace=5)
                if pump.stdout is not None:
                    result.runner_outputs.append(pump.stdout.read().strip())
            process_stop(server, grace=30)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--bundles", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=1500, help="orders per phase")
    parser.add_argument("--window", type=float, default=6.0, help="ShipBob window, seconds")
    parser.add_argument("--limit", type=int, default=150, help="ShipBob calls per window")
    parser.add_argument("--shopify-scale", type=float, default=10.0)
    parser.add_argument("--change", type=float, default=0.05, help="share of items changed")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args()
    url = pump_bench_setup(default_url=DEFAULT_DATABASE_URL, bench="inventory sync")
    result = bench_run(
        database_url=url,
        skus=args.skus,
        bundles=args.bundles,
        backlog=args.backlog,
        window=args.window,
        limit=args.limit,
        shopify_scale=args.shopify_scale,
        change=args.change,
        workers=args.workers,
        prepare=False,
        seed=args.seed,
    )
    result_print(result, as_json=args.json)


if __name__ == "__main__":
    main()
