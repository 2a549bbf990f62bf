"""The demo's supervisor with real child processes: a death stops the rest, a signal stops all."""

import os
import signal
import sys
import threading
import time

from o2c_portal.management.processes import ChildSpec, children_supervise

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): read its state.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_dying_child_stops_the_others_and_its_code_is_returned():
    lines: list[str] = []
    started = time.monotonic()
    code = children_supervise(
        specs=[
            ChildSpec("sleeper", SLEEPER),
            ChildSpec(
                "crasher", [sys.executable, "-c", "import sys,time; time.sleep(0.5); sys.exit(3)"]
            ),
        ],
        env=os.environ,
        say=lines.append,
        grace_seconds=5,
    )
    assert code == 3
    assert time.monotonic() - started < 10
    sleeper_pid = int(lines[0].rsplit(" ", 1)[1])
    assert not _alive(sleeper_pid)
    assert any("crasher exited with code 3" in line for line in lines)


def test_sigterm_stops_every_child_and_the_grandchildren_that_ignore_it(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    # Like django-q2's workers: a grandchild that ignores SIGTERM must still not outlive the demo.
    stubborn = (
        "import os, signal, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "time.sleep(120)\n"
    )
    lines: list[str] = []

    def stop_soon():
        deadline = time.monotonic() + 10
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=stop_soon, daemon=True).start()
    previous = signal.getsignal(signal.SIGTERM)
    code = children_supervise(
        specs=[ChildSpec("web", SLEEPER), ChildSpec("cluster", [sys.executable, "-c", stubborn])],
        env=os.environ,
        say=lines.append,
        grace_seconds=1,
    )
    assert code == 0
    pids = [int(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("demo: started")]
    grandchild = int(pid_file.read_text())
    time.sleep(0.2)
    assert [pid for pid in [*pids, grandchild] if _alive(pid)] == []
    assert any("got SIGTERM" in line for line in lines)
    # The supervisor gives the process its previous handler back.
    assert signal.getsignal(signal.SIGTERM) == previous
