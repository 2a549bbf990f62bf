"""The support forms: a ticket filed by an agent, and re-linking a ticket to an order."""

from django import forms

from apps.orders.models import Order
from apps.support.selectors import order_by_name


class OrderNameField(forms.CharField):
    """An order number as the customer writes it ("1001" or "#1001"), cleaned to the Order."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def clean(self, value) -> Order | None:
        value = super().clean(value)
        if not value:
            return None
        order = order_by_name(value)
        if order is None:
            raise forms.ValidationError(f"No order is called {value}.", code="unknown_order")
        return order


class TicketForm(forms.Form):
    customer_email = forms.EmailField(label="Customer email")
    subject = forms.CharField(max_length=500)
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "cols": 70}), max_length=20_000
    )
    order = OrderNameField(
        label="Order number",
        required=False,
        help_text="Optional. Without it the ticket is linked to an order number in the message, "
        "else to the customer's latest order.",
    )


class TicketRelinkForm(forms.Form):
    order = OrderNameField(label="Order number")
