import json

from django import template

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
