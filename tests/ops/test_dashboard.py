from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.ops.models import BudgetSample, ClusterHeartbeat, ThroughputHour
from apps.ops.selectors import peer_tiles, pipeline_stages, throughput
from apps.ops.tasks import heartbeat_beat
from apps.orders.models import Order
from apps.sync.models import RateBudget
from tests.ops.factories import AlertFactory, OutboxMessageFactory
from tests.ops.seed import pipeline_seed
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
TILES = ("pipeline", "throughput", "peers", "health", "alerts", "work")
PAGES = [
    reverse("ops:dashboard"),
    *[reverse("ops:dashboard-tile", args=[tile]) for tile in TILES],
    reverse("ops:exception-list"),
    reverse("ops:exception-list") + "?kind=outbox_dead&age=1h",
]
# Budgets per page: the numbers of queries do not depend on the data, only on the configuration.
BUDGET = {PAGES[0]: 60, PAGES[-2]: 22, PAGES[-1]: 14}


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_query_counts_are_flat_between_100_and_10000_orders(client, ops_user, finance_user):
    client.force_login(ops_user)
    pipeline_seed(100, approver=finance_user)
    heartbeat_beat()
    small = {url: _queries(client, url) for url in PAGES}

    pipeline_seed(9_900, approver=finance_user)
    heartbeat_beat()
    large = {url: _queries(client, url) for url in PAGES}

    assert Order.objects.count() == 10_000
    assert large == small
    for url, n in large.items():
        assert n <= BUDGET.get(url, 20), f"{url}: {n} queries"


def test_stages_count_what_waits_and_link_to_the_filtered_list(client, ops_user):
    OrderFactory(status=Order.Status.READY)
    OrderFactory(status=Order.Status.READY)
    OrderFactory(status=Order.Status.SUBMITTED)
    client.force_login(ops_user)

    stages = {stage.key: stage for stage in pipeline_stages()["orders"]}
    page = client.get(reverse("ops:dashboard-tile", args=["pipeline"]), **HX).content.decode()

    assert stages["ready"].count == 2
    assert stages["ready"].url == reverse("orders:list") + "?status=ready"
    assert stages["ready"].oldest is not None
    assert 'data-testid="count-ready">2<' in page
    assert 'href="/orders/?status=ready"' in page


def test_a_stage_older_than_its_target_is_late():
    order = OrderFactory(status=Order.Status.READY)
    Order.objects.filter(pk=order.pk).update(updated_at=order.updated_at.replace(year=2020))

    ready = next(s for s in pipeline_stages()["orders"] if s.key == "ready")

    assert ready.late


def test_the_heartbeat_shows_the_cluster_alive_and_samples_budgets(client, ops_user):
    RateBudget.objects.create(
        peer="shipbob", capacity=4, refill_per_second=2.4, tokens=4, calls_total=100
    )
    client.force_login(ops_user)
    before = client.get(reverse("ops:dashboard-tile", args=["health"])).content.decode()

    heartbeat_beat()
    RateBudget.objects.filter(peer="shipbob").update(calls_total=130)
    BudgetSample.objects.update(at=F("at") - timedelta(seconds=90))  # a minute and a half ago
    heartbeat_beat()
    after = client.get(reverse("ops:dashboard-tile", args=["health"])).content.decode()

    assert "no heartbeat" in before
    assert "alive" in after
    assert ClusterHeartbeat.objects.get().worker
    shipbob = next(t for t in peer_tiles() if t.peer == "shipbob")
    assert shipbob.calls_last_minute == 30
    assert shipbob.limit_per_minute == round(60 * 150 * 0.97 / 60)


def test_queue_depth_per_lane_and_drain_time():
    for _ in range(3):
        OutboxMessageFactory(peer="shipbob", priority=10)
    OutboxMessageFactory(peer="shipbob", priority=20)
    OutboxMessageFactory(peer="shipbob", dead=True)

    shipbob = next(t for t in peer_tiles() if t.peer == "shipbob")

    assert shipbob.lanes == {10: 3, 20: 1}
    assert shipbob.dead == 1
    assert shipbob.drain_seconds == 0.0  # 4 waiting, 4 tokens in the bucket


def test_the_rollup_fills_the_week_and_the_chart_reads_it(finance_user):
    pipeline_seed(40, approver=finance_user)

    written = heartbeat_beat()["rollup_hours"]
    chart = throughput(hours=7 * 24)

    assert written == 9 * 7 * 24
    assert ThroughputHour.objects.count() == written
    received = next(s for s in chart.orders if s.key == "received")
    assert sum(received.counts) == 40
    assert heartbeat_beat()["rollup_hours"] <= 9 * 3  # later beats recount the last hours only


def test_alerts_tile_lists_the_newest_critical(client, ops_user):
    AlertFactory(severity="critical", kind="shopify.poll_failed", message="Poll failed: 401")
    AlertFactory(severity="warning")
    client.force_login(ops_user)

    page = client.get(reverse("ops:dashboard-tile", args=["alerts"])).content.decode()

    assert "Shopify poll failed" in page
    assert "Poll failed: 401" in page
    assert "1 critical" in page


def test_times_carry_the_users_time_zone(client, ops_user):
    ops_user.time_zone = "America/New_York"
    ops_user.save()
    client.force_login(ops_user)

    page = client.get(reverse("ops:dashboard")).content.decode()

    assert "America/New_York" in page
    assert " EST" in page or " EDT" in page


def test_an_unknown_tile_is_404(client, ops_user):
    client.force_login(ops_user)

    assert client.get(reverse("ops:dashboard-tile", args=["nope"])).status_code == 404


def test_the_403_page_has_the_navigation_and_a_way_back(client, support_user):
    client.force_login(support_user)

    response = client.get(reverse("ops:dashboard"))

    page = response.content.decode()
    assert response.status_code == 403
    assert 'data-testid="nav"' in page
    assert "You cannot open this page" in page
    assert f'href="{reverse("home")}"' in page


def test_home_shows_the_work_waiting_for_each_role(client, finance_user, support_user, ops_user):
    pipeline_seed(16, approver=finance_user)
    for user, label in (
        (finance_user, "Invoice drafts awaiting approval"),
        (support_user, "Replies awaiting review"),
        (ops_user, "Exceptions to triage"),
    ):
        client.force_login(user)
        page = client.get(reverse("home")).content.decode()
        assert label in page, user
    client.force_login(support_user)
    assert "Invoice drafts awaiting" not in client.get(reverse("home")).content.decode()


def test_ops_land_on_the_dashboard_after_signing_in(client, ops_user):
    from tests.conftest import totp_code_now
    from tests.factories import PASSWORD

    response = client.post(
        reverse("account_login"), {"login": ops_user.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")  # Ops can replay: TOTP too
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code_now(ops_user)})

    assert response.status_code == 302
    assert response["Location"] == reverse("ops:dashboard")


def test_raw_codes_read_as_words(client, support_user):
    order = OrderFactory(financial_status="partially_refunded")
    client.force_login(support_user)

    detail = client.get(order.get_absolute_url()).content.decode()
    listing = client.get(reverse("orders:list")).content.decode()

    assert "Partially refunded" in detail
    assert "Partially refunded" in listing
    assert "partially_refunded" not in detail


def test_a_person_sets_their_own_time_zone(client, support_user):
    client.force_login(support_user)

    response = client.post(reverse("time-zone"), {"time_zone": "Asia/Tokyo"})
    refused = client.post(reverse("time-zone"), {"time_zone": "Mars/Olympus"})

    assert response.status_code == 302
    assert refused.status_code == 302
    support_user.refresh_from_db()
    assert support_user.time_zone == "Asia/Tokyo"
    assert "Asia/Tokyo" in client.get(reverse("home")).content.decode()
