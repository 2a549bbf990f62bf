import os
import socket
import subprocess
import sys
from collections.abc import Mapping

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from o2c_portal.management.commands.seed_demo import demo_logins_table
from o2c_portal.management.processes import ChildSpec, children_supervise

# The demo's defaults; anything already set (and non-empty) in the environment wins.
DEMO_ENV_DEFAULTS: dict[str, str] = {
    "DEBUG": "1",
    "O2C_SANDBOX": "1",
    "O2C_REQUIRE_MFA": "0",
    "O2C_SIMULATOR": "1",
    "SHOPIFY_POLL_MINUTES": "1",
    "SHOPIFY_SUBSCRIPTIONS_MINUTES": "1",
    "SHIPBOB_SHIPMENTS_POLL_MINUTES": "1",
    "XERO_RECONCILE_MINUTES": "1",
    "INVENTORY_PULL_MINUTES": "1",
    # The demo posts through a custom connection (client credentials): no connect step needed.
    "XERO_CONNECTION": "custom",
    # Authorised in Xero at once, so credit notes are allocated to their invoices in the demo.
    "XERO_INVOICE_STATUS": "AUTHORISED",
    # Escalation within minutes, so a visitor sees a card reach the escalation channel.
    "TEAMS_ESCALATION_CRITICAL_MINUTES": "2,10",
    "PORT": "8000",
    "PYTHONUNBUFFERED": "1",
}


def demo_environment(*, base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    for name, value in DEMO_ENV_DEFAULTS.items():
        if not env.get(name):
            env[name] = value
    return env


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, seed the demo users, sync schedules, then serve the web app and the "
        "django-q2 cluster together until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stop-grace",
            type=float,
            default=15.0,
            help="Seconds the task cluster gets to finish running tasks on stop (default 15).",
        )

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, **options):
        env = demo_environment(base=os.environ)
        try:
            port = int(env["PORT"])
        except ValueError as error:
            raise CommandError(f"PORT must be a number, not {env['PORT']!r}") from error
        if _port_open(port):
            raise CommandError(f"port {port} is already in use: set PORT to a free one")
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        # Each step runs in a fresh process so the demo defaults above shape its settings too.
        for step in (["migrate", "--noinput"], ["seed_demo"], ["schedules_sync"]):
            self.say(f"demo: manage.py {' '.join(step)}")
            completed = subprocess.run([*manage, *step], env=env, check=False)  # noqa: S603
            if completed.returncode != 0:
                raise CommandError(f"manage.py {step[0]} failed with code {completed.returncode}")

        url = env.get("O2C_PUBLIC_URL") or f"http://127.0.0.1:{port}"
        announced = []

        def announce_when_ready(children):
            if not announced and _port_open(port):
                announced.append(True)
                self.say(
                    f"\nO2C Portal demo is up: {url.rstrip('/')}/\n"
                    f"Sign in with one of:\n{demo_logins_table()}\n"
                    "Press Ctrl-C to stop the web server and the task cluster.\n"
                )

        code = children_supervise(
            specs=[
                ChildSpec("web server", [*manage, "runserver", f"0.0.0.0:{port}", "--noreload"]),
                ChildSpec("task cluster", [*manage, "qcluster"]),
            ],
            env=env,
            say=self.say,
            on_tick=announce_when_ready,
            grace_seconds=options["stop_grace"],
        )
        if code:
            sys.exit(code)
