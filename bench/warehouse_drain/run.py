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
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1/o2c_drain"
SAMPLE_SECONDS = 0.25
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


# --- Database, processes ---------------------------------------------------------------------------


def database_prepare(*, url: str) -> None:
    """Create the database if it does not exist, then apply the migrations."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(
    *, url: str, port: int, window: float, limit: int, capacity: float, refill: float
) -> dict:
    """What every child gets: the sandbox on, DEBUG off, the scaled window and the bench budget."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "o2c_portal.settings",
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "O2C_SANDBOX": "1",
        "O2C_SIMULATOR": "0",
        "O2C_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SHIPBOB_BASE_URL": f"http://127.0.0.1:{port}/sandbox/shipbob",
        "SANDBOX_SHIPBOB_WINDOW_SECONDS": str(window),
        "SANDBOX_SHIPBOB_LIMIT": str(limit),
        "SHIPBOB_BUDGET_CAPACITY": str(capacity),
        "SHIPBOB_BUDGET_REFILL": str(refill),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def _spawn(args: list[str], *, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def server_start(
    *, env: dict, port: int, workers: int, log, timeout: float = 60
) -> subprocess.Popen:
    """gunicorn with the production config on the bench port; waits for /healthz."""
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = _spawn(
        [gunicorn, "o2c_portal.wsgi", "-c", "o2c_portal/gunicorn.conf.py"], env=env, log=log
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    process_stop(proc)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def process_stop(proc: subprocess.Popen, *, grace: float = 10.0) -> None:
    """SIGTERM the child's process group, SIGKILL it if it outlives the grace period."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


# --- Sampling and figures -------------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # epoch seconds (the stand-in stamps with the same clock)
    calls: int
    throttled: int
    waiting: int
    holder: str


def sampler_run(*, samples: list[Sample], stop: threading.Event) -> None:
    from django.db import connection

    from apps.sync.models import OutboxMessage, PumpLease
    from bench.warehouse_drain.orders import window_counters

    waiting_statuses = (OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT)
    try:
        while not stop.is_set():
            calls, throttled = window_counters()
            waiting = OutboxMessage.objects.filter(
                peer="shipbob", action="order_create", status__in=waiting_statuses
            ).count()
            lease = (
                PumpLease.objects.filter(name="shipbob").values_list("holder", flat=True).first()
            )
            samples.append(Sample(time.time(), calls, throttled, waiting, lease or ""))
            stop.wait(SAMPLE_SECONDS)
    finally:
        connection.close()


def _counter_at(samples: list[Sample], moment: float, attr: str) -> float:
    """A sampled counter at `moment`, linearly interpolated between the samples around it."""
    times = [s.at for s in samples]
    index = bisect.bisect_left(times, moment)
    if index <= 0:
        return getattr(samples[0], attr)
    if index >= len(samples):
        return getattr(samples[-1], attr)
    before, after = samples[index - 1], samples[index]
    span = after.at - before.at or 1e-9
    weight = (moment - before.at) / span
    return getattr(before, attr) + weight * (getattr(after, attr) - getattr(before, attr))


def max_in_window(times: list[float], window: float) -> int:
    """The most stamps inside any half-open interval of `window` seconds (the stand-in's view)."""
    best = start = 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


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
    stop = threading.Event()
    children: list[subprocess.Popen] = []
    outputs: list[str] = []
    with log_path.open("ab") as log:
        server = server_start(env=env, port=port, workers=workers, log=log)
        sampler = threading.Thread(target=sampler_run, kwargs={"samples": samples, "stop": stop})
        sampler.start()
        started = time.time()
        drained_at = None
        try:
            manage = [sys.executable, "manage.py"]
            if runner == "qcluster":
                q_env = {**env, "Q_WORKERS": str(pumps)}
                if pump_run_seconds:
                    q_env["SYNC_PUMP_RUN_SECONDS"] = str(pump_run_seconds)
                subprocess.run(
                    [*manage, "schedules_sync"], cwd=ROOT, env=q_env, check=True, stdout=log
                )
                children.append(_spawn([*manage, "qcluster"], env=q_env, log=log))
            else:
                seconds = str(timeout)
                for _ in range(pumps):
                    children.append(
                        subprocess.Popen(
                            [*manage, "sync_run", "--pump", "shipbob", "--seconds", seconds],
                            cwd=ROOT,
                            env=env,
                            stdout=subprocess.PIPE,
                            stderr=log,
                            text=True,
                            start_new_session=True,
                        )
                    )
            contend = [sys.executable, "-m", "bench.warehouse_drain.contend", "--seconds"]
            for _ in range(contenders):
                children.append(
                    subprocess.Popen(
                        [*contend, str(timeout)],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=log,
                        text=True,
                        start_new_session=True,
                    )
                )
            deadline = started + timeout
            while time.time() < deadline:
                time.sleep(SAMPLE_SECONDS)
                if samples and samples[-1].at > started + 1 and samples[-1].waiting == 0:
                    drained_at = samples[-1].at
                    break
        finally:
            for child in children:
                process_stop(child, grace=5)
                if child.stdout is not None:
                    outputs.append(child.stdout.read().strip())
            stop.set()
            sampler.join()
            process_stop(server, grace=30)

    records = stand_in_records()
    ours = orders_submitted(shopify_ids)
    creates = [_epoch(moment) for moment in records.create_times]
    first, last = (creates[0], creates[-1]) if creates else (started, started)
    steady_from, steady_to = first + window, last - window
    if steady_to - steady_from < window:
        steady_from, steady_to = first, last  # a short run: no steady part to cut out
    steady = max(steady_to - steady_from, 1e-9)
    in_steady = bisect.bisect_right(creates, steady_to) - bisect.bisect_left(creates, steady_from)
    calls = _counter_at(samples, steady_to, "calls") - _counter_at(samples, steady_from, "calls")
    refused = _counter_at(samples, steady_to, "throttled") - _counter_at(
        samples, steady_from, "throttled"
    )
    calls_total, throttled_total = samples[-1].calls, samples[-1].throttled
    holders = list(dict.fromkeys(s.holder.split(":")[1] for s in samples if s.holder))
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
        lease_holders=[f"pid {pid}" for pid in holders],
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

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith("postgres"):
        raise SystemExit("The drain bench needs PostgreSQL (several processes share the database).")
    database_prepare(url=url)
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="o2c_portal.settings")
    os.environ.setdefault("O2C_SANDBOX", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
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
    for line in result.lines():
        print(line)
    for line in result.runner_outputs:
        print("  runner:", line)
    print(f"  logs: {result.logs}")
    if args.json:
        print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
