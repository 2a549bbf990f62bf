"""Warehouse drain bench: N ready orders drained into the ShipBob stand-in under its scaled window.

    .venv/bin/python -m bench.warehouse_drain.run [--n 5000] [--window 6] [--limit 150]
        [--runner sync_run|qcluster] [--pumps 2] [--contenders 0] [--headroom 0.97] [--capacity 3]

It prepares the database (DATABASE_URL, default postgres://postgres@127.0.0.1/o2c_drain: created and
migrated), empties the order, outbox and stand-in tables, bulk-creates N READY orders whose outbox
messages come from the real `order_submission_enqueue`, serves the stand-in with gunicorn
(o2c_portal/gunicorn.conf.py, O2C_SANDBOX=1, the window scaled by env), then runs the `shipbob` pump
as the app does: `--runner sync_run` starts `--pumps` `manage.py sync_run --pump shipbob` processes
at once (the pump lease lets one drain; the others find it held), `--runner qcluster` runs a django-q2
cluster of `--pumps` workers with the schedules synced (production's cadence: a run every minute
draining for SYNC_PUMP_RUN_SECONDS). `--contenders K` adds K processes reading orders through the
same client and DB budget, to show the bucket pacing several processes at once.

Figures come from the stand-in's own records: the accepted creates' timestamps (WarehouseOrder),
its window counters (calls let through, 429s; sampled every 0.25 s), creates per reference
(OrderCreateAttempt). Steady state excludes the first and last window. docs/benchmarks.md has the
figures.
"""

from __future__ import annotations

import argparse
import bisect
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.common import (
    ROOT,
    counter_at,
    database_prepare,
    drain_watch,
    free_port,
    lease_holders,
    max_in_window,
    piped_spawn,
    pump_bench_setup,
    pump_sampler_run,
    result_print,
    sandbox_env,
    spawn,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1/o2c_drain"
BAR_SHARE, BAR_429 = 0.95, 0.01


@dataclass
class DrainResult:
    n: int
    window_s: float
    limit: int
    capacity: float
    refill: float
    runner: str
    pumps: int
    contenders: int
    gunicorn_workers: int
    drained: bool
    # Seconds from the pump processes' start to an empty queue, and first to last accepted create.
    total_s: float
    create_span_s: float
    estimate_s: float | None  # outbox_backlog's drain estimate when the run started
    steady_s: float
    limit_per_s: float
    steady_creates_per_s: float
    steady_calls_per_s: float  # every call the window let through (creates, 422 look-ups, reads)
    share_of_limit: float
    steady_429_share: float
    calls_total: int
    throttled_total: int
    share_429: float
    max_creates_in_window: int
    references: int
    creates: int
    duplicates: int
    resent: int
    orders_submitted: int
    warehouse_id_matches: int
    dead: int
    lease_holders: list[str] = field(default_factory=list)
    runner_outputs: list[str] = field(default_factory=list)
    logs: str = ""

    @property
    def passed(self) -> bool:
        return (
            self.drained
            and self.share_of_limit >= BAR_SHARE
            and self.steady_429_share < BAR_429
            and self.share_429 < BAR_429
            and self.duplicates == 0
        )

    def lines(self) -> list[str]:
        estimate = (
            f"{self.estimate_s:.0f} s estimated ({(self.total_s / self.estimate_s - 1):+.0%})"
            if self.estimate_s
            else "no estimate"
        )
        return [
            f"N={self.n} window {self.limit}/{self.window_s:g} s ({self.limit_per_s:g}/s); budget "
            f"capacity {self.capacity:g}, refill {self.refill:.3f}/s; runner {self.runner} ×{self.pumps}"
            f", contenders {self.contenders}, gunicorn workers {self.gunicorn_workers}",
            f"drained         {'yes' if self.drained else 'NO'} in {self.total_s:.1f} s "
            f"(creates spanned {self.create_span_s:.1f} s; {estimate})",
            f"steady state    {self.steady_s:.1f} s: {self.steady_calls_per_s:.2f} calls/s = "
            f"{self.share_of_limit:.1%} of the limit ({self.steady_creates_per_s:.2f} creates/s), "
            f"429 share {self.steady_429_share:.2%}",
            f"whole run       {self.calls_total} calls let through, {self.throttled_total} answered "
            f"429 ({self.share_429:.2%}); most creates in any {self.window_s:g} s: "
            f"{self.max_creates_in_window} (limit {self.limit})",
            f"exactly once    {self.creates} created for {self.references} references, "
            f"duplicates {self.duplicates}, re-sent (422) {self.resent}, dead {self.dead}; "
            f"orders submitted {self.orders_submitted}/{self.n}, ids matching "
            f"{self.warehouse_id_matches}",
            f"pump processes  {len(self.lease_holders)} held the lease: {', '.join(self.lease_holders)}",
            f"bar             {'PASS' if self.passed else 'MISS'} (≥ {BAR_SHARE:.0%} of the limit, "
            f"< {BAR_429:.0%} answered 429, 0 duplicates)",
        ]


# --- Children ------------------------------------------------------------------------------------


def child_env(
    *, url: str, port: int, window: float, limit: int, capacity: float, refill: float
) -> dict:
    """What every child gets: the sandbox on, DEBUG off, the scaled window and the bench budget."""
    return {
        **sandbox_env(url=url, port=port),
        "SHIPBOB_BASE_URL": f"http://127.0.0.1:{port}/sandbox/shipbob",
        "SANDBOX_SHIPBOB_WINDOW_SECONDS": str(window),
        "SANDBOX_SHIPBOB_LIMIT": str(limit),
        "SHIPBOB_BUDGET_CAPACITY": str(capacity),
        "SHIPBOB_BUDGET_REFILL": str(refill),
    }


# --- Sampling and figures -------------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # epoch seconds (the stand-in stamps with the same clock)
    calls: int
    throttled: int
    waiting: int
    holder: str


def sampler_run(*, samples: list[Sample], stop: threading.Event) -> None:
    from bench.warehouse_drain.orders import window_counters

    def sample(*, at: float, counted: tuple[int, int], waiting: int, holder: str) -> Sample:
        calls, throttled = counted
        return Sample(at, calls, throttled, waiting, holder)

    pump_sampler_run(
        samples=samples,
        stop=stop,
        peer="shipbob",
        action="order_create",
        counters=window_counters,
        sample=sample,
    )


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


# --- The run --------------------------------------------------------------------------------------


def bench_run(
    *,
    database_url: str,
    n: int = 5000,
    window: float = 6.0,
    limit: int = 150,
    headroom: float = 0.97,
    capacity: float = 3.0,
    runner: str = "sync_run",
    pumps: int = 2,
    contenders: int = 0,
    workers: int = 3,
    pump_run_seconds: float | None = None,
    timeout: float | None = None,
    prepare: bool = True,
    reset: bool = True,
    seed: int = 7,
    log_dir: Path | None = None,
) -> DrainResult:
    """One drain; Django must already be configured on `database_url` (main() does it)."""
    from django.test import override_settings

    from apps.sync.models import OutboxMessage
    from apps.sync.selectors import outbox_backlog
    from bench.warehouse_drain.orders import (
        drain_tables_reset,
        orders_submitted,
        ready_orders_create,
        stand_in_records,
    )

    if prepare:
        database_prepare(url=database_url)
    if reset:
        drain_tables_reset()
    refill = limit / window * headroom
    shopify_ids = ready_orders_create(n=n, seed=seed)
    with override_settings(RATE_BUDGETS={"shipbob": {"capacity": capacity, "refill": refill}}):
        estimate = outbox_backlog(peer="shipbob")["drain_seconds"]
    timeout = timeout or max(60.0, (estimate or n / refill) * 3 + 60)

    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="warehouse_drain-"))
    log_path = log_dir / "children.log"
    port = free_port()
    env = child_env(
        url=database_url, port=port, window=window, limit=limit, capacity=capacity, refill=refill
    )
    samples: list[Sample] = []

    def children_start(log) -> list[subprocess.Popen]:
        manage = [sys.executable, "manage.py"]
        children = []
        if runner == "qcluster":
            q_env = {**env, "Q_WORKERS": str(pumps)}
            if pump_run_seconds:
                q_env["SYNC_PUMP_RUN_SECONDS"] = str(pump_run_seconds)
            subprocess.run([*manage, "schedules_sync"], cwd=ROOT, env=q_env, check=True, stdout=log)
            children.append(spawn([*manage, "qcluster"], env=q_env, log=log))
        else:
            pump = [*manage, "sync_run", "--pump", "shipbob", "--seconds", str(timeout)]
            children.extend(piped_spawn(pump, env=env, log=log) for _ in range(pumps))
        contend = [sys.executable, "-m", "bench.warehouse_drain.contend", "--seconds", str(timeout)]
        children.extend(piped_spawn(contend, env=env, log=log) for _ in range(contenders))
        return children

    with log_path.open("ab") as log:
        started, drained_at, outputs = drain_watch(
            env=env,
            port=port,
            workers=workers,
            log=log,
            timeout=timeout,
            samples=samples,
            sampler=sampler_run,
            children_start=children_start,
        )

    records = stand_in_records()
    ours = orders_submitted(shopify_ids)
    creates = [_epoch(moment) for moment in records.create_times]
    first, last = (creates[0], creates[-1]) if creates else (started, started)
    steady_from, steady_to = first + window, last - window
    if steady_to - steady_from < window:
        steady_from, steady_to = first, last  # a short run: no steady part to cut out
    steady = max(steady_to - steady_from, 1e-9)
    in_steady = bisect.bisect_right(creates, steady_to) - bisect.bisect_left(creates, steady_from)
    calls = counter_at(samples, steady_to, "calls") - counter_at(samples, steady_from, "calls")
    refused = counter_at(samples, steady_to, "throttled") - counter_at(
        samples, steady_from, "throttled"
    )
    calls_total, throttled_total = samples[-1].calls, samples[-1].throttled
    return DrainResult(
        n=n,
        window_s=window,
        limit=limit,
        capacity=capacity,
        refill=refill,
        runner=runner,
        pumps=pumps,
        contenders=contenders,
        gunicorn_workers=workers,
        drained=drained_at is not None,
        total_s=round((drained_at or time.time()) - started, 2),
        create_span_s=round(last - first, 2),
        estimate_s=estimate,
        steady_s=round(steady, 2),
        limit_per_s=limit / window,
        steady_creates_per_s=in_steady / steady,
        steady_calls_per_s=calls / steady,
        share_of_limit=calls / steady / (limit / window),
        steady_429_share=refused / max(calls + refused, 1),
        calls_total=calls_total,
        throttled_total=throttled_total,
        share_429=throttled_total / max(calls_total + throttled_total, 1),
        max_creates_in_window=max_in_window(creates, window) if creates else 0,
        references=records.references,
        creates=records.creates,
        duplicates=records.duplicates,
        resent=records.resent,
        orders_submitted=ours["submitted"],
        warehouse_id_matches=ours["warehouse_id_matches"],
        dead=OutboxMessage.objects.filter(peer="shipbob", status=OutboxMessage.Status.DEAD).count(),
        lease_holders=lease_holders(samples),
        runner_outputs=[line for line in outputs if line],
        logs=str(log_path),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--window", type=float, default=6.0, help="stand-in window, seconds")
    parser.add_argument("--limit", type=int, default=150, help="stand-in calls per window")
    parser.add_argument("--headroom", type=float, default=0.97, help="budget refill ÷ the limit")
    parser.add_argument("--capacity", type=float, default=3.0, help="budget burst (tokens)")
    parser.add_argument("--runner", choices=["sync_run", "qcluster"], default="sync_run")
    parser.add_argument("--pumps", type=int, default=2, help="sync_run processes or Q workers")
    parser.add_argument("--contenders", type=int, default=0)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--pump-run-seconds", type=float, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args()

    url = pump_bench_setup(default_url=DEFAULT_DATABASE_URL, bench="drain")
    result = bench_run(
        database_url=url,
        n=args.n,
        window=args.window,
        limit=args.limit,
        headroom=args.headroom,
        capacity=args.capacity,
        runner=args.runner,
        pumps=args.pumps,
        contenders=args.contenders,
        workers=args.workers,
        pump_run_seconds=args.pump_run_seconds,
        prepare=False,
        seed=args.seed,
    )
    result_print(result, as_json=args.json)


if __name__ == "__main__":
    main()
