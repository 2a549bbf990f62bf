"""A second user of the ShipBob budget, in its own process: reads orders by reference as fast as the
shared budget lets it, so the bench can show the database bucket pacing two processes at once.

    .venv/bin/python -m bench.warehouse_drain.contend --seconds 60

Settings come from the environment (DATABASE_URL, SHIPBOB_BASE_URL, SHIPBOB_BUDGET_*), as for the pump.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def contend(*, seconds: float) -> dict:
    """GET /order?ReferenceIds=… through the real client and rate gate until `seconds` pass."""
    from apps.orders.warehouse import shipbob_client
    from integrations.http import PeerError

    calls = refused = errors = 0
    deadline = time.monotonic() + seconds
    with shipbob_client() as client:
        while time.monotonic() < deadline:
            try:
                client.orders_by_reference([str(7_100_000_000_000 + calls % 100)])
                calls += 1
            except PeerError as error:
                # BudgetExhausted (nothing sent) or a 429 the gate has already learnt from.
                refused += error.status_code == 429
                errors += error.status_code != 429
    return {"calls": calls, "answered_429": refused, "other_errors": errors, "pid": os.getpid()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2c_portal.settings")
    import django

    django.setup()
    print(json.dumps(contend(seconds=args.seconds)), flush=True)


if __name__ == "__main__":
    main()
