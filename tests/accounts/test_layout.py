"""The base layout: CSP with a nonce that htmx's script carries, and a navigation per role."""

import re

import pytest
from django.urls import reverse

from o2c_portal.navigation import NAV_ITEMS
from tests.navigation import EXPECTED_NAV

pytestmark = pytest.mark.django_db

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)


def nav_labels(response) -> list[str]:
    body = response.content.decode()
    nav = re.search(r'<nav aria-label="Main" data-testid="nav">(.*?)</nav>', body, re.S)
    assert nav, "the page has no main navigation"
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav.group(1))


@pytest.mark.parametrize(
    "url_name", ["home", "ops:alert-list", "ops:outbox-list", "ops:audit-list", "account_login"]
)
def test_every_script_carries_the_csp_nonce(client, ops_user, url_name):
    if url_name != "account_login":
        client.force_login(ops_user)

    response = client.get(reverse(url_name))

    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce, policy
    assert re.search(r"script-src [^;]*'nonce-", policy)
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    tags = SCRIPT_TAG.findall(response.content.decode())
    assert tags, "htmx's <script> is missing"
    for tag in tags:
        assert f'nonce="{nonce.group(1)}"' in tag, f"script without the nonce: {tag}"


def test_htmx_is_served_from_our_static_files_not_a_cdn(client, ops_user):
    client.force_login(ops_user)

    body = client.get(reverse("home")).content.decode()

    htmx = [tag for tag in SCRIPT_TAG.findall(body) if "htmx" in tag]
    assert len(htmx) == 1
    assert 'src="/static/django_htmx/htmx-2' in htmx[0]


def test_the_nonce_changes_per_request(client, ops_user):
    client.force_login(ops_user)

    first = client.get(reverse("home"))["Content-Security-Policy"]
    second = client.get(reverse("home"))["Content-Security-Policy"]

    assert first != second


@pytest.mark.parametrize(("persona", "labels"), EXPECTED_NAV.items())
def test_each_role_sees_its_pages_in_the_navigation(client, request, persona, labels):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert nav_labels(response) == labels


@pytest.mark.parametrize(("persona", "labels"), EXPECTED_NAV.items())
def test_every_navigation_item_opens_for_the_role_that_sees_it(client, request, persona, labels):
    client.force_login(request.getfixturevalue(persona))
    urls = {item.label: reverse(item.url_name) for item in NAV_ITEMS}

    for label in labels:
        assert client.get(urls[label]).status_code == 200, label


def test_the_current_section_is_marked(client, ops_user):
    client.force_login(ops_user)

    body = client.get(reverse("ops:outbox-list")).content.decode()

    assert f'<a href="{reverse("ops:outbox-list")}" aria-current="page">Outbox</a>' in body
    assert body.count('aria-current="page"') == 1


def test_home_tells_alert_readers_how_many_alerts_are_open(client, ops_user):
    from tests.ops.factories import AlertFactory

    AlertFactory.create_batch(3)
    AlertFactory(status="resolved")
    client.force_login(ops_user)

    body = client.get(reverse("home")).content.decode()

    assert "<strong>3</strong> open alerts" in body


def test_home_for_a_user_without_a_role_says_so(client, outsider):
    client.force_login(outsider)

    body = client.get(reverse("home")).content.decode()

    assert "You have no role yet" in body
    assert 'data-testid="open-alerts"' not in body
