import json
from datetime import timedelta

from django import template

from apps.web import humanize_value

register = template.Library()


@register.filter
def safe_link(value: str) -> str:
    """An alert's link only if it is a site path or an http(s) URL (never `javascript:` and kin)."""
    if not value:
        return ""
    if value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    if value.lower().startswith(("https://", "http://")):
        return value
    return ""


@register.filter
def pretty_json(value) -> str:
    if value is None:
        return ""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def words(value) -> str:
    """A stored code read as words: `partially_refunded` → "Partially refunded"."""
    return humanize_value(value)


@register.filter
def seconds(value) -> str:
    """A number of seconds as a short duration ("4 min 10 s")."""
    if value is None or value == "":
        return "—"
    return duration(timedelta(seconds=float(value)))


@register.filter
def duration(value: timedelta | None) -> str:
    """A timedelta in its two largest units: "2 d 4 h", "3 h 12 min", "45 s"."""
    if value is None:
        return "—"
    total = max(0, int(value.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0 s"


@register.filter
def get_count(counts: dict, key: str) -> int:
    return counts.get(key, 0)
