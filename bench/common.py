"""What the bench runners share: the database, the gunicorn under test, child processes, figures.

Importable before `django.setup()` (Django is imported inside the functions that need it).
"""

from __future__ import annotations

import bisect
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 0.25


# --- Database -------------------------------------------------------------------------------------


def admin_url(url: str) -> str:
    """The same server's `postgres` database, to create the bench database from."""
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def database_prepare(*, url: str, migrate: bool = True, env: dict | None = None) -> None:
    """Create the database if it does not exist, then apply the migrations (`env` adds to theirs)."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url(url), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    if migrate:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url, **(env or {})},
            check=True,
        )


def django_setup(*, url: str) -> None:
    """Configure this process on `url` with the sandbox on (main() of the pump benches)."""
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="o2c_portal.settings")
    os.environ.setdefault("O2C_SANDBOX", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def pump_bench_setup(*, default_url: str, bench: str) -> str:
    """main() of a pump bench: the PostgreSQL URL (DATABASE_URL or the default), prepared, set up."""
    url = os.environ.get("DATABASE_URL") or default_url
    if not url.startswith("postgres"):
        raise SystemExit(
            f"The {bench} bench needs PostgreSQL (several processes share the database)."
        )
    database_prepare(url=url)
    django_setup(url=url)
    return url


def tables_reset(names: Sequence[str]) -> None:
    """Empty the existing tables among `names` (PostgreSQL: one TRUNCATE)."""
    from django.db import connection

    existing = set(connection.introspection.table_names())
    tables = [name for name in names if name in existing]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for name in tables:
                cursor.execute(f'DELETE FROM "{name}"')  # noqa: S608 - our own table names


# --- Processes and the server under test ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(*, url: str) -> dict:
    """Production settings for a child: DEBUG off, a fresh secret key, only the bench's host."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
    }


def sandbox_env(*, url: str, port: int) -> dict:
    """base_env with the sandbox stand-ins served on `port` (the pump benches' children)."""
    return {
        **base_env(url=url),
        "DJANGO_SETTINGS_MODULE": "o2c_portal.settings",
        "O2C_SANDBOX": "1",
        "O2C_SIMULATOR": "0",
        "O2C_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def spawn(args: list[str], *, env: dict, log) -> subprocess.Popen:
    """A child in its own process group, its output appended to `log`."""
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def piped_spawn(args: list[str], *, env: dict, log) -> subprocess.Popen:
    """A child whose stdout (its JSON stats) is kept for the result; stderr goes to `log`."""
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )


def process_stop(proc: subprocess.Popen, *, grace: float = 10.0, group: bool = True) -> None:
    """SIGTERM the child (its process group with `group`), SIGKILL the group after the grace period."""
    if proc.poll() is None:
        try:
            if group:
                os.killpg(proc.pid, signal.SIGTERM)
            else:
                proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


def health_wait(
    proc: subprocess.Popen, *, port: int, timeout: float = 60.0, where: str = ""
) -> None:
    """Until /healthz answers 200; raises if the server exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}{where}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"gunicorn did not answer /healthz within {timeout:.0f} s{where}")


def server_start(
    *,
    env: dict,
    port: int,
    log,
    timeout: float = 60.0,
    log_path: Path | None = None,
    stop: Callable[[subprocess.Popen], None] = process_stop,
) -> subprocess.Popen:
    """gunicorn with the production config (o2c_portal/gunicorn.conf.py); waits for /healthz."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = spawn(
        [gunicorn, "o2c_portal.wsgi", "-c", "o2c_portal/gunicorn.conf.py"], env=env, log=log
    )
    try:
        health_wait(proc, port=port, timeout=timeout, where=f"; see {log_path}" if log_path else "")
    except TimeoutError as error:
        stop(proc)
        raise RuntimeError(str(error)) from None
    return proc


# --- Pump runs: serve the stand-in, start the pumps, sample until the queue is empty -------------


class DrainSample(Protocol):
    at: float  # epoch seconds (the stand-in stamps with the same clock)
    waiting: int
    holder: str


def pump_sampler_run(
    *,
    samples: list,
    stop: threading.Event,
    peer: str,
    action: str,
    counters: Callable[[], Any],
    sample: Callable[..., DrainSample],
) -> None:
    """Every SAMPLE_SECONDS until `stop`: the stand-in's `counters()`, the messages still waiting
    for `peer`/`action` and the lease holder, appended as `sample(at=, counted=, waiting=, holder=)`.
    """
    from django.db import connection

    from apps.sync.models import OutboxMessage, PumpLease

    waiting_statuses = (OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT)
    try:
        while not stop.is_set():
            counted = counters()
            waiting = OutboxMessage.objects.filter(
                peer=peer, action=action, status__in=waiting_statuses
            ).count()
            lease = PumpLease.objects.filter(name=peer).values_list("holder", flat=True).first()
            samples.append(
                sample(at=time.time(), counted=counted, waiting=waiting, holder=lease or "")
            )
            stop.wait(SAMPLE_SECONDS)
    finally:
        connection.close()  # the sampler's own thread-local connection


def drain_watch(
    *,
    env: dict,
    port: int,
    workers: int,
    log,
    timeout: float,
    samples: list,
    sampler: Callable[..., None],
    children_start: Callable[[Any], list[subprocess.Popen]],
) -> tuple[float, float | None, list[str]]:
    """Serve the stand-in, sample, start the children, wait for an empty queue, stop everything.

    `sampler(samples=, stop=)` appends DrainSample-like records until `stop` is set;
    `children_start(log)` starts the pumps (and any other processes). Returns the epoch second the
    children started, the one the queue was first sampled empty (None if never), and the children's
    stdouts.
    """
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    stop = threading.Event()
    children: list[subprocess.Popen] = []
    outputs: list[str] = []
    server = server_start(env=env, port=port, log=log)
    thread = threading.Thread(target=sampler, kwargs={"samples": samples, "stop": stop})
    thread.start()
    started = time.time()
    drained_at = None
    try:
        children.extend(children_start(log))
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
        thread.join()
        process_stop(server, grace=30)
    return started, drained_at, outputs


def lease_holders(samples: Sequence[DrainSample]) -> list[str]:
    """The pump processes seen holding the lease, in order ("pid 1234")."""
    pids = dict.fromkeys(s.holder.split(":")[1] for s in samples if s.holder)
    return [f"pid {pid}" for pid in pids]


def result_print(result, *, as_json: bool) -> None:
    """A pump bench's figures, its children's outputs and log path, and the JSON if asked."""
    for line in result.lines():
        print(line)
    for line in result.runner_outputs:
        print("  runner:", line)
    print(f"  logs: {result.logs}")
    if as_json:
        print(json.dumps(asdict(result)))


# --- Figures --------------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank, from below) of an ascending, non-empty sequence."""
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def counter_at(samples: Sequence, moment: float, attr: str) -> float:
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


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most stamps inside any half-open interval of `window` seconds (the stand-in's view)."""
    best = start = 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best
