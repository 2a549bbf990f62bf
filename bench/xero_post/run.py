"""Xero posting bench: N approved invoice drafts posted to the Xero stand-in by the xero pump.

    .venv/bin/python -m bench.xero_post.run [--n 2000] [--known 0.5] [--known-in cache|xero]
        [--window 6] [--limit 60] [--headroom 0.97] [--capacity 1.5] [--pumps 2] [--workers 3]

It prepares the database (DATABASE_URL, default postgres://postgres@127.0.0.1/o2c_xbench: created and
migrated), empties the order, draft, outbox and stand-in tables, and builds N real drafts from
shipped simulator orders, each for its own customer (bench/xero_post/drafts.py): a `--known` share of
the customers already have a Xero contact (in our cache too with `--known-in cache`, the steady
state; only in Xero with `--known-in xero`), the rest are new. Finance approves them all through
`invoice_drafts_approve`, which queues one `xero.invoice_post` message each. The stand-in is served
by gunicorn (o2c_portal/gunicorn.conf.py, O2C_SANDBOX=1, a custom connection, Xero's minute window
scaled to `--window` seconds) and the budget is scaled to match (refill = limit ÷ window × headroom).
A bucket holds to the window only while capacity + refill × window ≤ limit (1.5 + 58.2 = 59.7 by
default; the old default burst of 5 made it 63.2, and one call in the first minute was answered 429).
`--pumps` `manage.py sync_run --pump xero` processes start at once (the lease lets one drain).

Figures come from the stand-in's own counters (accepted and 429-answered calls per kind, sampled
every 0.25 s) and books (invoices per Reference), and from our drafts. docs/benchmarks.md has them.
"""

from __future__ import annotations

import argparse
import bisect
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.common import (
    SAMPLE_SECONDS,
    database_prepare,
    drain_watch,
    free_port,
    lease_holders,
    piped_spawn,
    pump_bench_setup,
    pump_sampler_run,
    result_print,
    sandbox_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1/o2c_xbench"
BATCH = 50
BAR_CALLS_PER_BATCH = 3.0
NOT_API = ("token", "connections")  # identity calls: not counted against the API limits


@dataclass
class PostResult:
    n: int
    known_share: float
    known_in: str
    window_s: float
    limit: int
    capacity: float
    refill: float
    pumps: int
    gunicorn_workers: int
    build_s: float
    mix: dict
    drained: bool
    total_s: float  # pump start → empty queue
    post_span_s: float  # first → last invoice created in the stand-in
    rate_span_s: float  # first API call (sampled) → last invoice created: the rates' interval
    calls: dict[str, int]
    throttled: dict[str, int]
    api_calls: int
    token_calls: int
    calls_per_invoice: float
    calls_per_50: float
    invoices_per_s: float
    invoices_per_window: float
    api_calls_per_window: float  # mean over the posting span, in the scaled minute
    share_of_limit: float
    max_calls_in_window: int  # most API calls in any `window` seconds (sampled, ±1 sample)
    throttled_total: int
    references: int
    invoices: int
    references_posted: int
    duplicates: int
    max_per_reference: int
    drafts_posted: int
    ids_matching: int
    totals_matching: int
    failed: int
    dead: int
    contacts_created: int
    idempotent_replays: int
    lease_holders: list[str] = field(default_factory=list)
    runner_outputs: list[str] = field(default_factory=list)
    logs: str = ""

    @property
    def exactly_once(self) -> bool:
        return (
            self.references_posted == self.references
            and self.invoices == self.references
            and self.duplicates == 0
            and self.max_per_reference == 1
            and self.drafts_posted == self.references
            and self.ids_matching == self.references
        )

    @property
    def passed(self) -> bool:
        return (
            self.drained
            and self.exactly_once
            and self.calls_per_50 <= BAR_CALLS_PER_BATCH
            and self.throttled_total == 0
        )

    def lines(self) -> list[str]:
        by_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(self.calls.items()))
        throttled = ", ".join(f"{k} {v}" for k, v in sorted(self.throttled.items())) or "none"
        mix = self.mix
        return [
            f"N={self.n} drafts ({mix['currencies']}; {mix['inclusive']} tax-inclusive, "
            f"{mix['with_discount']} discounted, {mix['lines']} lines, variance flags "
            f"{mix['variance_flagged']}; built and approved in {self.build_s:g} s)",
            f"customers       {mix['contacts_new']} new to Xero, {mix['contacts_known']} known "
            f"({mix['contacts_cached']} of them in our cache)",
            f"limits          {self.limit}/{self.window_s:g} s window (scaled minute); budget "
            f"capacity {self.capacity:g}, refill {self.refill:.3f}/s (at most "
            f"{self.capacity + self.refill * self.window_s:.1f} per window); sync_run ×{self.pumps}, "
            f"gunicorn workers {self.gunicorn_workers}",
            f"drained         {'yes' if self.drained else 'NO'} in {self.total_s:.1f} s "
            f"(first call to last invoice {self.rate_span_s:.1f} s; invoices created over "
            f"{self.post_span_s:.1f} s)",
            f"calls           {by_kind}",
            f"per invoice     {self.api_calls} API calls for {self.drafts_posted} invoices = "
            f"{self.calls_per_invoice:.3f}/invoice = {self.calls_per_50:.2f} per 50 "
            f"(+ {self.token_calls} token call{'s' if self.token_calls != 1 else ''})",
            f"rate            {self.invoices_per_s:.1f} invoices/s = "
            f"{self.invoices_per_window:.0f} per {self.window_s:g} s window; "
            f"{self.api_calls_per_window:.1f} API calls per window = {self.share_of_limit:.0%} of "
            f"the limit; most in any window {self.max_calls_in_window} (limit {self.limit})",
            f"429             {self.throttled_total} ({throttled})",
            f"exactly once    {self.invoices} invoices for {self.references} references "
            f"({self.references_posted} posted, duplicates {self.duplicates}, most per reference "
            f"{self.max_per_reference}); drafts posted {self.drafts_posted}, ids matching "
            f"{self.ids_matching}, totals matching {self.totals_matching}, failed {self.failed}, "
            f"dead {self.dead}; contacts created {self.contacts_created}, idempotent replays "
            f"{self.idempotent_replays}",
            f"pump processes  {len(self.lease_holders)} held the lease",
            f"bar             {'PASS' if self.passed else 'MISS'} (≤ {BAR_CALLS_PER_BATCH:g} calls "
            f"per 50 invoices, no 429, every draft posted exactly once)",
        ]


def child_env(
    *, url: str, port: int, window: float, limit: int, capacity: float, refill: float
) -> dict:
    """What every child gets: the sandbox on, DEBUG off, a custom connection, the scaled window."""
    return {
        **sandbox_env(url=url, port=port),
        "XERO_CONNECTION": "custom",
        "SANDBOX_XERO_MINUTE_WINDOW_SECONDS": str(window),
        "SANDBOX_XERO_MINUTE_LIMIT": str(limit),
        "XERO_BUDGET_CAPACITY": str(capacity),
        "XERO_BUDGET_REFILL": str(refill),
    }


@dataclass
class Sample:
    at: float  # epoch seconds
    api_calls: int
    throttled: int
    waiting: int
    holder: str


def sampler_run(*, samples: list[Sample], stop: threading.Event) -> None:
    from bench.xero_post.drafts import stand_in_counters

    def sample(*, at: float, counted: tuple[dict, dict], waiting: int, holder: str) -> Sample:
        calls, throttled = counted
        return Sample(
            at=at,
            api_calls=sum(v for k, v in calls.items() if k not in NOT_API),
            throttled=sum(throttled.values()),
            waiting=waiting,
            holder=holder,
        )

    pump_sampler_run(
        samples=samples,
        stop=stop,
        peer="xero",
        action="invoice_post",
        counters=stand_in_counters,
        sample=sample,
    )


def max_calls_in_window(samples: list[Sample], window: float) -> int:
    """The largest rise of the sampled API-call counter over any `window` seconds."""
    times = [s.at for s in samples]
    best = 0
    for sample in samples:
        start = bisect.bisect_left(times, sample.at - window)
        best = max(best, sample.api_calls - samples[start].api_calls)
    return best


def bench_run(
    *,
    database_url: str,
    n: int = 2000,
    known_share: float = 0.5,
    known_in: str = "cache",
    window: float = 6.0,
    limit: int = 60,
    headroom: float = 0.97,
    capacity: float = 1.5,
    pumps: int = 2,
    workers: int = 3,
    timeout: float | None = None,
    prepare: bool = True,
    seed: int = 11,
    log_dir: Path | None = None,
) -> PostResult:
    """One posting run; Django must already be configured on `database_url` (main() does it)."""
    from bench.xero_post.drafts import (
        approved_drafts_create,
        bench_tables_reset,
        posting_records,
        stand_in_counters,
    )

    if prepare:
        database_prepare(url=database_url)
    bench_tables_reset()
    built = approved_drafts_create(
        n=n, known_share=known_share, known_cached=known_in == "cache", seed=seed
    )
    refill = limit / window * headroom
    batches = -(-n // BATCH)
    # Three calls a batch at the budget's pace, three times over, plus a minute to start up.
    timeout = timeout or max(60.0, batches * 3 / refill * 3 + 60)

    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="xero_post-"))
    log_path = log_dir / "children.log"
    port = free_port()
    env = child_env(
        url=database_url, port=port, window=window, limit=limit, capacity=capacity, refill=refill
    )
    samples: list[Sample] = []

    def children_start(log) -> list[subprocess.Popen]:
        pump = [sys.executable, "manage.py", "sync_run", "--pump", "xero"]
        return [
            piped_spawn([*pump, "--seconds", str(timeout)], env=env, log=log) for _ in range(pumps)
        ]

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

    calls, throttled = stand_in_counters()
    records = posting_records(built.references, contacts_seeded=built.contacts_known)
    api_calls = sum(v for k, v in calls.items() if k not in NOT_API)
    posted = max(records.drafts_posted, 1)
    first, last = records.first_invoice_at, records.last_invoice_at
    span = (last - first) if first is not None and last is not None else 0.0
    # The rate runs from the first call the stand-in counted (sampled) to the last invoice created.
    first_call = next((s.at for s in samples if s.api_calls), started)
    rate_span = max((last or drained_at or time.time()) - first_call + SAMPLE_SECONDS / 2, 1e-9)
    mix = asdict(built)
    mix.pop("references")
    return PostResult(
        n=n,
        known_share=known_share,
        known_in=known_in,
        window_s=window,
        limit=limit,
        capacity=capacity,
        refill=refill,
        pumps=pumps,
        gunicorn_workers=workers,
        build_s=built.build_seconds,
        mix=mix,
        drained=drained_at is not None,
        total_s=round((drained_at or time.time()) - started, 2),
        post_span_s=round(span, 2),
        rate_span_s=round(rate_span, 2),
        calls=calls,
        throttled=throttled,
        api_calls=api_calls,
        token_calls=calls.get("token", 0),
        calls_per_invoice=api_calls / posted,
        calls_per_50=api_calls / posted * BATCH,
        invoices_per_s=records.drafts_posted / rate_span,
        invoices_per_window=records.drafts_posted / rate_span * window,
        api_calls_per_window=api_calls / rate_span * window,
        share_of_limit=api_calls / rate_span * window / limit,
        max_calls_in_window=max_calls_in_window(samples, window) if samples else 0,
        throttled_total=sum(throttled.values()),
        references=records.references,
        invoices=records.invoices,
        references_posted=records.references_posted,
        duplicates=records.duplicates,
        max_per_reference=records.max_per_reference,
        drafts_posted=records.drafts_posted,
        ids_matching=records.ids_matching,
        totals_matching=records.totals_matching,
        failed=records.failed,
        dead=records.dead,
        contacts_created=records.contacts_created,
        idempotent_replays=records.idempotent_replays,
        lease_holders=lease_holders(samples),
        runner_outputs=[line for line in outputs if line],
        logs=str(log_path),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--known", type=float, default=0.5, help="share of known customers")
    parser.add_argument(
        "--known-in",
        choices=["cache", "xero"],
        default="cache",
        help="known customers are in our contact cache and Xero, or only in Xero",
    )
    parser.add_argument("--window", type=float, default=6.0, help="stand-in minute, seconds")
    parser.add_argument("--limit", type=int, default=60, help="stand-in calls per window")
    parser.add_argument("--headroom", type=float, default=0.97, help="budget refill ÷ the limit")
    parser.add_argument(
        "--capacity", type=float, default=1.5, help="budget burst (≤ limit − refill × window)"
    )
    parser.add_argument("--pumps", type=int, default=2, help="sync_run --pump xero processes")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args()

    url = pump_bench_setup(default_url=DEFAULT_DATABASE_URL, bench="Xero")
    result = bench_run(
        database_url=url,
        n=args.n,
        known_share=args.known,
        known_in=args.known_in,
        window=args.window,
        limit=args.limit,
        headroom=args.headroom,
        capacity=args.capacity,
        pumps=args.pumps,
        workers=args.workers,
        prepare=False,
        seed=args.seed,
    )
    result_print(result, as_json=args.json)


if __name__ == "__main__":
    main()
