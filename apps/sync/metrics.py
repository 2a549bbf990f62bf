"""Process-local Prometheus instruments of the plumbing, read by /metrics (apps.ops).

Under gunicorn set PROMETHEUS_MULTIPROC_DIR (docs/deploy.md) so every worker's observations are
summed; without it /metrics shows the answering process only.
"""

from prometheus_client import Histogram

WEBHOOK_ACK_SECONDS = Histogram(
    "o2c_webhook_ack_seconds",
    "Time to verify and store one webhook delivery, by source (the 200 answers).",
    ["source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
