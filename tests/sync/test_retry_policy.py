"""Per-peer retry headroom: a 10-minute Xero outage must leave its posts well clear of `dead`."""

from apps.sync.outbox import outbox_backoff_seconds, outbox_retry_policy

FAULT_WINDOW_SECONDS = 600.0


def attempts_in_window(peer: str, *, rand) -> int:
    """Failed attempts made during a fault window that begins with the first attempt."""
    policy = outbox_retry_policy(peer)
    elapsed, attempts = 0.0, 1
    while attempts < policy.max_attempts:
        elapsed += outbox_backoff_seconds(attempts=attempts, rand=rand, peer=peer)
        if elapsed >= FAULT_WINDOW_SECONDS:
            break
        attempts += 1
    return attempts


def test_a_ten_minute_xero_outage_leaves_more_than_two_attempts_even_at_the_shortest_jitter():
    policy = outbox_retry_policy("xero")
    used = attempts_in_window("xero", rand=lambda: 0.0)  # every delay at its floor
    # 15 + 30 + 60 + 120 + 240 = 465 s: the sixth attempt is the last inside the window.
    assert used == 6
    assert policy.max_attempts - used > 2


def test_the_xero_schedule_reaches_dead_only_after_hours_not_minutes():
    policy = outbox_retry_policy("xero")
    shortest = sum(
        outbox_backoff_seconds(attempts=n, rand=lambda: 0.0, peer="xero")
        for n in range(1, policy.max_attempts)
    )
    assert shortest > 2 * 3600


def test_other_peers_keep_the_default_policy(settings):
    assert outbox_retry_policy("shipbob").max_attempts == settings.SYNC["MAX_ATTEMPTS"]
    assert outbox_retry_policy("shipbob").min_fraction == 0.0
    assert (
        outbox_backoff_seconds(attempts=1, rand=lambda: 1.0, peer="shipbob")
        == (settings.SYNC["BACKOFF_BASE_SECONDS"])
    )
