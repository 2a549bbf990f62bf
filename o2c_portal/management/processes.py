"""Run a few long-lived child processes together: one signal stops them all, one death stops the rest."""

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildSpec:
    label: str
    argv: Sequence[str]


def _die_with_parent() -> None:
    """Linux only: a child gets SIGTERM if the supervisor is killed outright (SIGKILL), so none is orphaned."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def children_stop(*, children: Sequence[subprocess.Popen], grace_seconds: float) -> None:
    """SIGTERM each child (graceful), wait up to grace_seconds, then SIGKILL whatever is left of its group."""
    for child in children:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
    # Each child leads its own process group: this also reaps grandchildren (django-q2's workers).
    for child in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)


def children_supervise(
    *,
    specs: Sequence[ChildSpec],
    env: Mapping[str, str],
    say: Callable[[str], None],
    on_tick: Callable[[Sequence[subprocess.Popen]], None] | None = None,
    grace_seconds: float = 15.0,
    poll_seconds: float = 0.2,
) -> int:
    """Start every child, wait for SIGINT/SIGTERM or the first child to exit, stop them all.

    Returns 0 when stopped by a signal, else the dead child's exit code (1 if it was 0 or a signal).
    """
    received: list[int] = []

    def on_signal(signum, frame):
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: list[subprocess.Popen] = []
    exit_code = 0
    try:
        for spec in specs:
            # Own process group: a terminal Ctrl-C reaches only us, and we stop the children in order.
            child = subprocess.Popen(  # noqa: S603  (argv built by our own code)
                list(spec.argv), env=dict(env), process_group=0, preexec_fn=_die_with_parent
            )
            children.append(child)
            say(f"demo: started {spec.label} pid {child.pid}")
        while True:
            if received:
                say(f"demo: got {signal.Signals(received[0]).name}, stopping every process")
                break
            dead = [
                (spec, child)
                for spec, child in zip(specs, children, strict=True)
                if child.poll() is not None
            ]
            if dead:
                spec, child = dead[0]
                say(f"demo: {spec.label} exited with code {child.returncode}; stopping the others")
                exit_code = child.returncode if child.returncode and child.returncode > 0 else 1
                break
            if on_tick is not None:
                on_tick(children)
            time.sleep(poll_seconds)
    finally:
        children_stop(children=children, grace_seconds=grace_seconds)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for spec, child in zip(specs, children, strict=True):
        say(f"demo: {spec.label} pid {child.pid} stopped (code {child.returncode})")
    return exit_code
