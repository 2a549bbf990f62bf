"""Ingest bench: N signed Shopify webhooks at concurrency C against the portal under gunicorn.

    .venv/bin/python -m bench.ingest.run [--n 20000] [--concurrency 32] [--workers 5]

It prepares the database (DATABASE_URL, default postgres://postgres@127.0.0.1/o2c_bench: created and
migrated), empties the receipts, starts gunicorn with production settings (DEBUG=0) on a free port,
warms up, sends N deliveries with wrk, stops gunicorn and checks that every 200 is a stored receipt.
docs/benchmarks.md explains the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from http.client import HTTPConnection
from pathlib import Path

import psycopg

from bench.common import base_env, free_port, percentile, process_stop
from bench.common import database_prepare as _database_prepare
from bench.common import server_start as _server_start
from bench.ingest.payloads import SHOP_DOMAIN, SignedBody, signed_bodies_build

LUA_SCRIPT = Path(__file__).with_name("webhooks.lua")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1/o2c_bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class BenchResult:
    n: int
    concurrency: int
    workers: int
    worker_class: str
    threads: int
    generator: str
    duration_s: float
    deliveries_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    answers: int
    ok: int
    non200: int
    socket_errors: dict
    receipts_stored: int
    rejections: int
    cpu: dict = field(default_factory=dict)
    run_id: str = ""
    rate: float = 0.0

    @property
    def lossless(self) -> bool:
        return self.receipts_stored == self.ok and self.answers == self.n

    def lines(self) -> list[str]:
        cpu = ", ".join(f"{name} {share:.0%}" for name, share in self.cpu["share"].items())
        per = ", ".join(
            f"{name} {seconds / max(self.answers, 1) * 1000:.2f}"
            for name, seconds in self.cpu["seconds"].items()
            if name != "other"
        )
        return [
            f"N={self.n} C={self.concurrency} workers={self.workers} ({self.worker_class}, "
            f"{self.threads} thread(s)) generator={self.generator} "
            + (f"paced at {self.rate:,.0f}/s" if self.rate else "closed loop (capacity)"),
            f"duration        {self.duration_s:.2f} s",
            f"deliveries/s    {self.deliveries_per_s:,.0f}",
            f"latency (ms)    p50 {self.p50_ms:.1f}  p90 {self.p90_ms:.1f}  "
            f"p99 {self.p99_ms:.1f}  max {self.max_ms:.1f}",
            f"answers         {self.answers} (200: {self.ok}, non-200: {self.non200}, "
            f"socket errors: {sum(self.socket_errors.values())})",
            f"receipts stored {self.receipts_stored} "
            f"({'no loss' if self.lossless else 'MISMATCH with the 200s'}); "
            f"signature rejections {self.rejections}",
            f"CPU share       {cpu} (of {os.cpu_count()} cores)",
            f"CPU ms/delivery {per}",
        ]


# --- Tools and database ---------------------------------------------------------------------------


def wrk_ensure() -> str | None:
    """The wrk binary, installed from Debian's packages when missing (needs root); None if impossible."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False, capture_output=True
    )
    return shutil.which("wrk")


def database_prepare(*, url: str, migrate: bool = True) -> None:
    """Create the database if it does not exist, then apply the migrations (sandbox off)."""
    _database_prepare(url=url, migrate=migrate, env={"O2C_SANDBOX": "0"})


def receipts_truncate(*, url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE sync_webhookreceipt, sync_webhookrejection")


def receipts_count(*, url: str, run_id: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM sync_webhookreceipt WHERE source = 'shopify' AND delivery_id LIKE %s",
            [f"{run_id}-%"],
        ).fetchone()
    return row[0]


def rejections_count(*, url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT coalesce(sum(count), 0) FROM sync_webhookrejection").fetchone()
    return int(row[0])


# --- The server under test ------------------------------------------------------------------------


def server_env(
    *, url: str, port: int, secret: str, workers: int, extra: dict | None = None
) -> dict:
    """Production settings: DEBUG off, no sandbox, a real secret key, only the bench's host."""
    return {
        **base_env(url=url),
        "O2C_SANDBOX": "0",
        "SHOPIFY_WEBHOOK_SECRETS": secret,
        "PORT": str(port),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        **(extra or {}),
    }


def server_start(
    *, env: dict, port: int, log_path: Path, timeout: float = 60.0
) -> subprocess.Popen:
    """Start gunicorn in its own process group and wait until /healthz answers 200."""
    log = log_path.open("ab")
    return _server_start(
        env=env, port=port, log=log, timeout=timeout, log_path=log_path, stop=server_stop
    )


def server_stop(proc: subprocess.Popen) -> None:
    """SIGTERM the master (graceful: workers finish their requests), SIGKILL the group if it hangs."""
    process_stop(proc, grace=40, group=False)


# --- CPU accounting (to show what the load generator and PostgreSQL take of the 2 cores) ---------


def _proc_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


def _postgres_pids() -> list[int]:
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
        except OSError:
            continue
    return pids


def _machine_ticks() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]), idle


def machine_idle_wait(*, max_busy: float = 0.15, timeout: float = 0.0) -> float:
    """Wait (up to `timeout` s) for a second in which the machine is at most `max_busy` busy."""
    deadline = time.monotonic() + timeout
    while True:
        total0, idle0 = _machine_ticks()
        time.sleep(1.0)
        total1, idle1 = _machine_ticks()
        busy = 1 - (idle1 - idle0) / max(total1 - total0, 1)
        if busy <= max_busy or time.monotonic() >= deadline:
            return busy


@dataclass
class CpuSample:
    at: float
    machine: tuple[int, int]
    server: dict[int, int]
    postgres: dict[int, int]


def cpu_sample(*, server_pid: int) -> CpuSample:
    return CpuSample(
        at=time.monotonic(),
        machine=_machine_ticks(),
        server={pid: _proc_ticks(pid) for pid in _descendants(server_pid)},
        postgres={pid: _proc_ticks(pid) for pid in _postgres_pids()},
    )


def cpu_shares(*, before: CpuSample, after: CpuSample, generator_seconds: float) -> dict:
    """CPU seconds each party used between the two samples, and shares of the whole machine.

    `other` is what the rest of the machine used meanwhile (anything that is not the bench).
    """
    cores = os.cpu_count() or 1
    elapsed = max(after.at - before.at, 1e-9)

    def used(a: dict[int, int], b: dict[int, int]) -> float:
        return sum(ticks - a.get(pid, 0) for pid, ticks in b.items()) / CLOCK_TICKS

    total = after.machine[0] - before.machine[0]
    idle = after.machine[1] - before.machine[1]
    seconds = {
        "gunicorn": used(before.server, after.server),
        "postgres": used(before.postgres, after.postgres),
        "generator": generator_seconds,
    }
    busy = (total - idle) / max(total, 1) * elapsed * cores
    seconds["other"] = max(busy - sum(seconds.values()), 0.0)
    return {"seconds": seconds, "share": {k: v / (elapsed * cores) for k, v in seconds.items()}}


# --- Load generators ------------------------------------------------------------------------------


@dataclass
class LoadResult:
    duration_s: float
    answers: int
    non200: int
    socket_errors: dict
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    generator_cpu_s: float


def bodies_write(*, bodies: list[SignedBody], path: Path) -> None:
    with path.open("wb") as out:
        for item in bodies:
            out.write(f"{item.topic}\t{item.signature}\t".encode() + item.body + b"\n")


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def wrk_load(
    *,
    wrk: str,
    port: int,
    n: int,
    concurrency: int,
    threads: int,
    data_path: Path,
    run_id: str,
    rate: float = 0.0,
) -> LoadResult:
    """Exactly n deliveries through wrk; ends wrk as soon as every thread has its answers.

    rate 0 is a closed loop (each connection sends again as soon as it is answered: the server's
    capacity); rate > 0 paces the deliveries at that many per second in total.
    """
    threads = max(1, min(threads, concurrency))
    env = {
        **os.environ,
        "BENCH_DATA": str(data_path),
        "BENCH_N": str(n),
        "BENCH_THREADS": str(threads),
        "BENCH_RUN": run_id,
        "BENCH_DOMAIN": SHOP_DOMAIN,
        "BENCH_RATE": str(rate),
    }
    # A safety stop only: a healthy run ends long before.
    cap_seconds = max(60, n // 100 + 60, int(n / rate * 2) if rate else 0)
    cpu_before = _children_cpu()
    proc = subprocess.Popen(
        [
            wrk,
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{cap_seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(LUA_SCRIPT),
            f"http://127.0.0.1:{port}/webhooks/shopify/",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    finished: set[str] = set()
    all_done = threading.Event()

    def reader() -> None:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("bench-thread-done"):
                finished.add(line.split()[1])
                if len(finished) >= threads:
                    all_done.set()
        all_done.set()

    watcher = threading.Thread(target=reader, daemon=True)
    watcher.start()
    all_done.wait(cap_seconds + 30)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # wrk's main thread sleeps for -d; SIGINT ends the sleep
    proc.wait(timeout=60)
    watcher.join(timeout=10)
    generator_cpu = _children_cpu() - cpu_before
    result_line = next((line for line in lines if line.startswith("bench-result ")), None)
    if result_line is None:
        raise RuntimeError("wrk printed no result:\n" + "".join(lines))
    data = json.loads(result_line.split(" ", 1)[1])
    lat = data["latency_us"]
    errors = {k: v for k, v in data["errors"].items() if k != "status"}
    return LoadResult(
        duration_s=data["duration_us"] / 1e6,
        answers=data["answers"],
        non200=data["non200"],
        socket_errors=errors,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        generator_cpu_s=generator_cpu,
    )


def python_load(
    *, port: int, n: int, concurrency: int, bodies: list[SignedBody], run_id: str
) -> LoadResult:
    """A plain-Python generator (threads, keep-alive http.client) for machines without wrk."""
    lock = threading.Lock()
    tickets = iter(range(n))
    latencies: list[float] = []
    statuses: list[int] = []
    errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}

    def worker() -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                ticket = next(tickets, None)
            if ticket is None:
                break
            item = bodies[ticket % len(bodies)]
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": item.topic,
                "X-Shopify-Hmac-Sha256": item.signature,
                "X-Shopify-Shop-Domain": SHOP_DOMAIN,
                "X-Shopify-Webhook-Id": f"{run_id}-py-{ticket}",
            }
            started = time.perf_counter()
            try:
                conn.request("POST", "/webhooks/shopify/", body=item.body, headers=headers)
                answer = conn.getresponse()
                answer.read()
            except OSError:
                with lock:
                    errors["read"] += 1
                conn.close()
                conn = HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses.append(answer.status)
            if answer.getheader("Connection", "").lower() == "close":
                conn.close()
        conn.close()

    cpu_before = time.process_time()
    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    duration = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return percentile(ordered, p) * 1000

    return LoadResult(
        duration_s=duration,
        answers=len(statuses),
        non200=sum(1 for status in statuses if status != 200),
        socket_errors=errors,
        p50_ms=pct(50),
        p90_ms=pct(90),
        p99_ms=pct(99),
        max_ms=ordered[-1] * 1000,
        generator_cpu_s=time.process_time() - cpu_before,
    )


# --- The whole run --------------------------------------------------------------------------------


def bench_run(
    *,
    database_url: str = DEFAULT_DATABASE_URL,
    n: int = 20_000,
    concurrency: int = 32,
    workers: int | None = None,
    worker_class: str = "sync",
    threads: int = 1,
    warmup: int = 2_000,
    generator: str = "wrk",
    wrk_threads: int = 1,
    bodies_count: int = 200,
    prepare: bool = True,
    migrate: bool = True,
    truncate: bool = True,
    server_extra_env: dict | None = None,
    idle_wait: float = 0.0,
    rate: float = 0.0,
) -> BenchResult:
    """Prepare, serve, warm up, measure, stop, verify. Raises if the server cannot start."""
    workers = workers or (os.cpu_count() or 1) * 2 + 1
    wrk = wrk_ensure() if generator == "wrk" else None
    if generator == "wrk" and wrk is None:
        raise RuntimeError("wrk is not installed and could not be installed (apt-get install wrk)")
    if prepare:
        database_prepare(url=database_url, migrate=migrate)
    if truncate:
        receipts_truncate(url=database_url)
    rejections_before = rejections_count(url=database_url)

    secret = secrets.token_hex(32)
    bodies = signed_bodies_build(count=bodies_count, secret=secret)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="o2c-bench-ingest-"))
    log_path = workdir / "gunicorn.log"
    data_path = workdir / "bodies.tsv"
    bodies_write(bodies=bodies, path=data_path)
    env = server_env(
        url=database_url,
        port=port,
        secret=secret,
        workers=workers,
        extra={
            "GUNICORN_WORKER_CLASS": worker_class,
            "GUNICORN_THREADS": str(threads),
            **(server_extra_env or {}),
        },
    )

    if rate and generator != "wrk":
        raise ValueError("a paced run (rate) needs the wrk generator")

    def load(count: int, run_id: str, *, paced: bool) -> LoadResult:
        if generator == "wrk":
            return wrk_load(
                wrk=wrk,
                port=port,
                n=count,
                concurrency=concurrency,
                threads=wrk_threads,
                data_path=data_path,
                run_id=run_id,
                rate=rate if paced else 0.0,
            )
        return python_load(
            port=port, n=count, concurrency=concurrency, bodies=bodies, run_id=run_id
        )

    run_id = f"bench{secrets.token_hex(4)}"
    if idle_wait:
        machine_idle_wait(timeout=idle_wait)
    proc = server_start(env=env, port=port, log_path=log_path)
    try:
        if warmup:
            load(warmup, f"{run_id}w", paced=False)
        before = cpu_sample(server_pid=proc.pid)
        measured = load(n, run_id, paced=True)
        after = cpu_sample(server_pid=proc.pid)
    finally:
        server_stop(proc)
    stored = receipts_count(url=database_url, run_id=run_id)
    ok = measured.answers - measured.non200
    if measured.non200 == 0 and stored == ok and not sum(measured.socket_errors.values()):
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"kept the server log for inspection: {log_path}", file=sys.stderr)
    return BenchResult(
        n=n,
        concurrency=concurrency,
        workers=workers,
        worker_class=worker_class,
        threads=threads,
        generator=generator,
        duration_s=measured.duration_s,
        deliveries_per_s=ok / measured.duration_s if measured.duration_s else 0.0,
        p50_ms=measured.p50_ms,
        p90_ms=measured.p90_ms,
        p99_ms=measured.p99_ms,
        max_ms=measured.max_ms,
        answers=measured.answers,
        ok=ok,
        non200=measured.non200,
        socket_errors=measured.socket_errors,
        receipts_stored=stored,
        rejections=rejections_count(url=database_url) - rejections_before,
        cpu=cpu_shares(before=before, after=after, generator_seconds=measured.generator_cpu_s),
        run_id=run_id,
        rate=rate,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="measured deliveries")
    parser.add_argument("--concurrency", "-c", type=int, default=32, help="open connections")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (2*cores+1)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--warmup", type=int, default=2_000, help="deliveries before measuring")
    parser.add_argument("--generator", choices=["wrk", "python"], default="wrk")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="pace at this many deliveries/s (0: as fast as answered)",
    )
    parser.add_argument(
        "--conn-max-age", default=None, help="DATABASE_CONN_MAX_AGE for the server (settings: 60)"
    )
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=0.0,
        help="first wait up to this many seconds for the machine to be quiet (shared machines)",
    )
    parser.add_argument(
        "--health-checks",
        choices=["on", "off"],
        default=None,
        help="DATABASE_CONN_HEALTH_CHECKS for the server (settings: on)",
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--no-migrate", action="store_true", help="skip `migrate` (the database is already current)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    url = args.database_url or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error("the bench runs on PostgreSQL: give a postgres:// DATABASE_URL")
    extra = {} if args.conn_max_age is None else {"DATABASE_CONN_MAX_AGE": args.conn_max_age}
    if args.health_checks:
        extra["DATABASE_CONN_HEALTH_CHECKS"] = "1" if args.health_checks == "on" else "0"
    result = bench_run(
        database_url=url,
        n=args.n,
        concurrency=args.concurrency,
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        warmup=args.warmup,
        generator=args.generator,
        wrk_threads=args.wrk_threads,
        server_extra_env=extra,
        idle_wait=args.idle_wait,
        rate=args.rate,
        migrate=not args.no_migrate,
    )
    if args.json:
        print(json.dumps({**asdict(result), "lossless": result.lossless}, indent=2))
    else:
        print("\n".join(result.lines()))
    clean = result.lossless and result.non200 == 0 and result.rejections == 0
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
