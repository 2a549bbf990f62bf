import pytest
from django.urls import reverse

from tests.ops.factories import AlertFactory, OutboxMessageFactory

pytestmark = pytest.mark.django_db


def test_metrics_are_not_public(client, settings, ops_user):
    settings.METRICS = {"TOKEN": "", "ALLOWED_IPS": []}
    client.force_login(ops_user)

    assert client.get(reverse("metrics")).status_code == 404


def test_a_wrong_token_is_refused(client, settings):
    settings.METRICS = {"TOKEN": "s3cret", "ALLOWED_IPS": []}

    response = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer nope")

    assert response.status_code == 404


def test_the_bearer_token_gets_the_dashboards_numbers(client, settings):
    settings.METRICS = {"TOKEN": "s3cret", "ALLOWED_IPS": []}
    OutboxMessageFactory(peer="shipbob", priority=10)
    OutboxMessageFactory(peer="shipbob", dead=True)
    AlertFactory(severity="critical")

    response = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer s3cret")

    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert 'o2c_outbox_queue_depth{lane="10",peer="shipbob"} 1.0' in text
    assert 'o2c_outbox_dead{peer="shipbob"} 1.0' in text
    assert 'o2c_alerts_active{severity="critical"} 1.0' in text
    assert 'o2c_exceptions_open{kind="outbox_dead"} 1.0' in text
    assert 'o2c_stage_items{pipeline="orders",stage="ready"} 0.0' in text
    assert "o2c_budget_tokens" in text
    assert "o2c_webhook_ack_seconds" in text


def test_an_allowed_address_needs_no_token(client, settings):
    settings.METRICS = {"TOKEN": "", "ALLOWED_IPS": ["127.0.0.1"]}

    assert client.get(reverse("metrics")).status_code == 200
