import pytest
from django.urls import reverse

from tests.orders.factories import OrderFactory
from tests.support.factories import ticket_with_draft

pytestmark = pytest.mark.django_db


def test_an_order_number_opens_the_order(client, support_user):
    order = OrderFactory(name="#4242")
    client.force_login(support_user)

    response = client.get(reverse("search"), {"q": "4242"})

    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()


def test_an_email_lists_orders_and_tickets(client, ops_user):
    OrderFactory(email="grace@example.com")
    OrderFactory(email="grace@example.com")
    client.force_login(ops_user)

    page = client.get(reverse("search"), {"q": "grace@example.com"}).content.decode()

    assert page.count("grace@example.com") >= 2


def test_a_ticket_number_opens_the_ticket(client, support_user):
    ticket = ticket_with_draft().ticket
    client.force_login(support_user)

    response = client.get(reverse("search"), {"q": f"T{ticket.pk}"})

    assert response["Location"] == ticket.get_absolute_url()


def test_nothing_is_searched_that_the_person_may_not_open(client, outsider):
    OrderFactory(name="#777")
    client.force_login(outsider)

    page = client.get(reverse("search"), {"q": "777"}).content.decode()

    assert 'data-testid="no-results"' in page


def test_the_search_box_is_on_every_page(client, finance_user):
    client.force_login(finance_user)

    assert 'action="/search/"' in client.get(reverse("invoicing:list")).content.decode()
