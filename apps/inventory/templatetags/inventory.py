from datetime import datetime

from django import template

from apps.inventory.exceptions import eta_words

register = template.Library()


@register.filter
def eta_from(moment: datetime | None, now: datetime) -> str:
    """ "~40 min" until `moment` (as the sell-out alert says it), "—" when there is none."""
    if moment is None:
        return "—"
    return eta_words(max(0.0, (moment - now).total_seconds() / 60))
