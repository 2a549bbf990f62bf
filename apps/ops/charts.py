"""Throughput charts as server-rendered SVG: no chart library, nothing for the CSP to allow.

The tile is an htmx partial refreshed every few seconds; a polyline per series computed here keeps
it one response with no client code, and it prints and scales with the page.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

WIDTH, HEIGHT, PAD = 720, 170, 28


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    points: str
    total: int
    css: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    lines: list[Line]
    peak: int
    ticks: list[tuple[float, str]]  # x, label
    baseline: float


def chart(series, hours: list[datetime], *, label_every: int) -> Chart:
    peak = max((max(s.counts, default=0) for s in series), default=0) or 1
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / max(1, len(hours) - 1)

    def x(i: int) -> float:
        return round(PAD + i * step, 1)

    def y(n: int) -> float:
        return round(HEIGHT - PAD - inner_h * n / peak, 1)

    lines = [
        Line(
            s.key,
            s.label,
            " ".join(f"{x(i)},{y(n)}" for i, n in enumerate(s.counts)),
            sum(s.counts),
            f"s{index % 6}",
        )
        for index, s in enumerate(series)
    ]
    ticks = [
        (x(i), timezone.localtime(hour).strftime("%a %H:%M" if label_every >= 24 else "%H:%M"))
        for i, hour in enumerate(hours)
        if i % label_every == 0
    ]
    return Chart(WIDTH, HEIGHT, lines, peak, ticks, HEIGHT - PAD)
