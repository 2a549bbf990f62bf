"""Gunicorn settings for production: `gunicorn o2c_portal.wsgi -c o2c_portal/gunicorn.conf.py`.

Every value can be overridden from the environment (names below) or GUNICORN_CMD_ARGS.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


# Behind a reverse proxy in a container: listen on every interface at $PORT unless told otherwise.
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
# sync workers take connections from the kernel's queue in order, which kept the webhook p99 lowest
# in bench/ingest (docs/benchmarks.md); they need a buffering proxy (nginx) in front for slow clients.
# GUNICORN_THREADS > 1 switches to gthread.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = _int("GUNICORN_THREADS", 1)
# Deep enough that a burst of webhooks queues in the kernel instead of being refused.
backlog = _int("GUNICORN_BACKLOG", 2048)

timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM a worker finishes its in-flight requests (a webhook being stored) before exiting.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycling a worker now and then bounds slow memory growth; 0 turns it off.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)

# Access logs cost a write per request and the proxy already keeps them; opt in with "-".
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Only the local proxy may set X-Forwarded-* (Django reads them only when BEHIND_PROXY=1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "o2c-portal"
