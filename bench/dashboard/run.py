"""Dashboard bench: the control room's pages under gunicorn against a database of N orders.

    .venv/bin/python -m bench.dashboard.seed --orders 1000000     # once, a few minutes
    .venv/bin/python -m bench.dashboard.run [--requests 40] [--workers 2] [--explain]

Against the seeded database (DATABASE_URL, default postgres://postgres@127.0.0.1/o2c_dashboard) it
signs an Ops user in (a session row, as a sign-in makes), fills the throughput rollup once (the
heartbeat a worker runs each minute), starts gunicorn with production settings (DEBUG=0, no
sandbox, o2c_portal/gunicorn.conf.py) and requests each page `--requests` times one after another
over keep-alive, after two warm-up requests. Per page: median, p95 and max wall time as the client
sees it, and the number of SQL queries the page runs (counted in this process through Django's test
client, the same code path). `--explain` prints EXPLAIN ANALYZE of the slowest page's slowest query.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import (
    base_env,
    django_setup,
    free_port,
    percentile,
    process_stop,
    server_start,
)
from bench.dashboard.seed import DEFAULT_DATABASE_URL

BAR_P95_MS = 150.0


def pages() -> list[tuple[str, str]]:
    from apps.orders.models import Order

    order = Order.objects.order_by("-id").only("pk", "name", "email").first()
    middle = Order.objects.filter(pk=order.pk // 2).only("pk", "name", "email").first() or order
    tiles = ("pipeline", "throughput", "peers", "health", "alerts", "work")
    return [
        ("dashboard", "/ops/"),
        *[(f"tile: {tile}", f"/ops/tiles/{tile}/") for tile in tiles],
        ("exception queue", "/ops/exceptions/"),
        ("exceptions: dead, > 1 h", "/ops/exceptions/?kind=outbox_dead&age=1h"),
        ("orders: first page", "/orders/"),
        ("orders: by number", f"/orders/?q={middle.name.lstrip('#')}"),
        ("orders: by email", f"/orders/?q={middle.email}"),
        ("orders: status filter", "/orders/?status=fulfilled"),
        ("orders: held", "/orders/?status=held"),
        ("order page", f"/orders/{middle.pk}/"),
        ("header search", f"/search/?q=%23{middle.name.lstrip('#')}"),
    ]


def session_for_ops() -> tuple[str, object]:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from apps.accounts.models import User

    user, _ = User.objects.get_or_create(email="bench-ops@example.com")
    user.groups.add(Group.objects.get(name="Ops"))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key, user


def query_counts(user, urls: list[str]) -> dict[str, tuple[int, float, str]]:
    """Per URL: the number of queries, and the slowest one (ms, SQL)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    found = {}
    for url in urls:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        found[url] = (len(queries), float(slowest["time"]) * 1000, slowest["sql"])
    return found


def timed(port: int, session_key: str, url: str, n: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"sessionid={session_key}", "Host": "127.0.0.1"}
    times = []
    for i in range(n + 2):
        started = time.perf_counter()
        connection.request("GET", url, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status not in (200, 302):
            raise RuntimeError(f"{url}: HTTP {response.status}")
        if i >= 2:
            times.append((time.perf_counter() - started) * 1000)
    connection.close()
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    os.environ["O2C_SANDBOX"] = "0"
    django_setup(url=url)
    from django.conf import settings

    from apps.ops.tasks import heartbeat_beat
    from apps.orders.models import Order

    orders = Order.objects.order_by().count()
    heartbeat_beat()
    session_key, user = session_for_ops()
    targets = pages()
    settings.DEBUG = False
    counts = query_counts(user, [u for _, u in targets])
    port = free_port()
    env = {
        **base_env(url=url),
        "O2C_SANDBOX": "0",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(args.workers),
        "LOG_LEVEL": "WARNING",
    }
    log_path = Path(tempfile.mkstemp(prefix="dashboard-bench-", suffix=".log")[1])
    with log_path.open("w") as log:
        server = server_start(env=env, port=port, log=log, log_path=log_path)
        try:
            rows = [(label, u, timed(port, session_key, u, args.requests)) for label, u in targets]
        finally:
            process_stop(server)
    print(
        f"{orders:,} orders · gunicorn {args.workers} sync workers · {args.requests} requests a page"
    )
    print(
        f"{'page':26} {'median':>8} {'p95':>8} {'max':>8} {'queries':>8}  bar p95 < {BAR_P95_MS:g} ms"
    )
    slowest_page = None
    for label, u, times in rows:
        p95 = percentile(times, 95)
        n, _ms, _sql = counts[u]
        ok = "ok" if p95 < BAR_P95_MS else "OVER"
        print(
            f"{label:26} {statistics.median(times):7.1f}ms {p95:7.1f}ms {times[-1]:7.1f}ms "
            f"{n:>8}  {ok}"
        )
        if slowest_page is None or p95 > slowest_page[1]:
            slowest_page = (u, p95)
    print(f"  logs: {log_path}")
    if args.explain and slowest_page:
        from django.db import connection

        n, ms, sql = counts[slowest_page[0]]
        print(
            f"\nslowest page {slowest_page[0]}: its slowest query ({ms:.1f} ms in-process):\n{sql}\n"
        )
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            for (line,) in cursor.fetchall():
                print(line)


if __name__ == "__main__":
    main()
