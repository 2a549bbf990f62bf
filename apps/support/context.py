"""What the model may know about a ticket: the order's facts, minimised, and the brand guide.

First name only; no payment data, no address, no email. The same dict is what the guardrails check
the reply against, and it is stored with the draft (the audit's context snapshot).
"""

from django.utils import timezone

from apps.orders.models import Order
from apps.support.models import BrandGuide, Ticket


def _date(value) -> str | None:
    return value.date().isoformat() if value else None


def order_facts(order: Order) -> dict:
    shipments = [
        {
            "carrier": s.carrier,
            "tracking_number": s.tracking_number,
            "tracking_url": s.tracking_url,
            "shipped_at": _date(s.shipped_at) or _date(s.created_at),
            "delivered_at": _date(s.delivered_at),
            "status": s.status,
        }
        for s in order.shipments.all()
    ]
    drafts = list(order.invoice_drafts.all()) if hasattr(order, "invoice_drafts") else []
    return {
        "name": order.name,
        "status": order.get_status_display(),
        "placed_at": _date(order.shopify_created_at),
        "total": str(order.total_price),
        "currency": order.currency,
        "financial_status": order.financial_status,
        "items": [
            {"title": line.title, "quantity": line.quantity, "sku": line.sku or ""}
            for line in order.lines.all()
        ],
        "shipments": shipments,
        "refunds": [
            {"amount": str(r.amount), "date": _date(r.shopify_created_at)}
            for r in order.refunds.all()
        ],
        "invoice": drafts[0].get_status_display() if drafts else "not invoiced yet",
        "cancelled": bool(order.cancelled_at),
    }


def brand_guide_current() -> BrandGuide | None:
    return BrandGuide.objects.order_by("-version").first()


def guide_facts(guide: BrandGuide | None) -> tuple[dict, list]:
    if guide is None:
        return {
            "tone": "friendly and brief",
            "sign_off": "The team",
            "use_phrases": [],
            "avoid_phrases": [],
            "languages": [],
        }, []
    brand = {
        "tone": guide.tone,
        "sign_off": guide.sign_off,
        "use_phrases": list(guide.use_phrases),
        "avoid_phrases": list(guide.avoid_phrases),
        "languages": list(guide.languages),
    }
    return brand, list(guide.policies)


def ticket_context(ticket: Ticket, guide: BrandGuide | None) -> dict:
    order = ticket.order
    first_name = (order.customer_first_name if order else "") or ""
    brand, policies = guide_facts(guide)
    return {
        # The day the draft is written: "within 30 days of delivery" is counted to it.
        "as_of": timezone.localdate().isoformat(),
        "customer": {"first_name": first_name},
        "order": order_facts(order) if order else None,
        "policies": policies,
        "brand": brand,
    }
