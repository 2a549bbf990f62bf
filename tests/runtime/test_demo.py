"""`manage.py demo` end to end: real processes, a real socket, a real sign-in, one SIGINT."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from o2c_portal.management.commands.demo import demo_environment
from tests.runtime.test_processes import _alive


def test_environment_wins_over_the_demo_defaults():
    env = demo_environment(base={"DEBUG": "0", "PORT": "9000", "O2C_REQUIRE_MFA": ""})
    assert env["DEBUG"] == "0"
    assert env["PORT"] == "9000"
    assert env["O2C_REQUIRE_MFA"] == "0"  # empty counts as unset
    assert env["O2C_SANDBOX"] == "1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@pytest.fixture
def demo_process(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        # Its own SQLite file: the demo must not touch the test database or the clone's demo file.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "demo",
                "--stop-grace",
                "5",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    yield process, port, log
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def test_demo_serves_sign_in_and_one_sigint_stops_both_children(demo_process):
    process, port, log = demo_process
    base = f"http://127.0.0.1:{port}"
    assert _wait_for(lambda: "demo is up" in log.read_text() or process.poll() is not None, 120), (
        log.read_text()
    )
    assert process.poll() is None, log.read_text()

    with httpx.Client(base_url=base, timeout=10) as browser:
        login_page = browser.get("/accounts/login/")
        assert login_page.status_code == 200
        token = browser.cookies["csrftoken"]
        signed_in = browser.post(
            "/accounts/login/",
            data={
                "login": "finance@demo.local",
                "password": "demo-finance-pass",
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{base}/accounts/login/"},
            follow_redirects=True,
        )
        assert signed_in.status_code == 200
        assert str(signed_in.url) == f"{base}/"
        assert "finance@demo.local" in signed_in.text

    text = log.read_text()
    pids = {label: int(pid) for label, pid in re.findall(r"started (.+?) pid (\d+)", text)}
    assert set(pids) == {"web server", "task cluster"}
    assert all(_alive(pid) for pid in pids.values())

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert [label for label, pid in pids.items() if _alive(pid)] == []
    assert "got SIGINT" in log.read_text()
