"""Alerts that reach people: Teams cards through the outbox, escalation, digests, heartbeat, fallback.

- A raised alert queues one card (`teams.card_post`, ordered, in the Teams budget). A bump queues
  another only when the severity rose or the count reached the next power of ten (10, 100, …);
  a resolved alert that had a card gets a short "resolved" card.
- In quiet hours (TEAMS_QUIET_HOURS) warnings and info wait for one digest card; critical never waits.
- `alerts_tick` (every minute) escalates what stays unacknowledged along the ladder in
  TEAMS["ESCALATION_MINUTES"]: a card to the main and the escalation channel and an email to the
  on-call address per step, audited and listed on the alert. Acknowledging stops it.
- A card Teams refuses, or still undelivered after FALLBACK_AFTER_ATTEMPTS, raises the local
  critical `teams.delivery_failed` (never posted to Teams) and goes to the on-call address by email;
  the next accepted card resolves it. Cards keep retrying (TEAMS_MAX_ATTEMPTS), first in first out.

Cards carry absolute links built here (apps.ops owns /ops/ URLs), never customer data.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.sync.alerts import (
    ALERT_KINDS,
    OUTBOX_DEAD,
    SEVERITY_RANK,
    alert_clear,
    alert_kind_register,
    alert_on_raised,
    alert_on_resolved,
    alert_raise,
)
from apps.sync.budgets import sync_rate_gate
from apps.sync.clients import client_options
from apps.sync.models import Alert, AlertChannel, OutboxMessage
from apps.sync.outbox import Failed, Sent, outbox_action, outbox_enqueue
from integrations.http import BudgetExhausted, PeerError
from integrations.teams.cards import (
    AlertCard,
    CardAction,
    CardRefused,
    card_content,
    card_text,
    envelope,
)
from integrations.teams.client import TeamsAnswer, TeamsClient

logger = logging.getLogger(__name__)

MAIN = "teams"
ESCALATION = "teams_escalation"
CHANNEL_URL_SETTINGS = {MAIN: "WEBHOOK_URL", ESCALATION: "ESCALATION_WEBHOOK_URL"}
CARD_POST = "card_post"
ALERT_EMAIL = "alert_email"
# Cards go after the warehouse, shipment and inventory lanes of other peers; Teams has its own pump.
CARD_PRIORITY = 5
ACK_SALT = "ops.alert.acknowledge"
ORDER_NUMBER = re.compile(r"#\d{3,}")
# A Teams outage mails the waiting cards, this many per failed attempt (oldest first).
FALLBACK_EMAILS_AT_ONCE = 50
WITHHELD = "The message names a customer, so it stays in the portal: open the alert to read it."

TEAMS_DELIVERY_FAILED = alert_kind_register(
    "teams.delivery_failed",
    title="Teams is not accepting alert cards",
    severity=Alert.Severity.CRITICAL,
    resolves="by itself when Teams accepts a card again",
    auto_resolves=True,
    teams=False,
)


# --- Links and cards -----------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.O2C_PUBLIC_URL}{path}" if path.startswith("/") else path


def alert_ack_token(alert: Alert) -> str:
    return signing.dumps({"alert": alert.pk}, salt=ACK_SALT)


def alert_ack_token_read(token: str) -> int | None:
    """The alert id a card's acknowledge link names, or None if forged or expired."""
    max_age = timedelta(days=settings.TEAMS["ACK_LINK_DAYS"])
    try:
        return int(signing.loads(token, salt=ACK_SALT, max_age=max_age)["alert"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def runbook_url(kind: str) -> str:
    return f"{reverse('ops:runbook')}#{kind}"


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def alert_card(alert: Alert, *, reason: str) -> dict:
    """The Adaptive Card for an alert; its message is withheld if it names a customer."""
    spec = ALERT_KINDS.get(alert.kind)
    severity = "resolved" if alert.status == Alert.Status.RESOLVED else alert.severity
    facts = [
        ("Severity", alert.get_severity_display()),
        ("Kind", alert.kind),
        ("Since", _when(alert.first_seen_at)),
        ("Seen", f"{alert.count}×, last {_when(alert.last_seen_at)}"),
        ("Status", alert.get_status_display()),
    ]
    order = ORDER_NUMBER.search(alert.message)
    if order:
        facts.insert(2, ("Order", order.group(0)))
    if spec is not None:
        facts.append(("Resolves", spec.resolves))
    items, items_label = [], ""
    if alert.subjects:
        items, items_label = alert.subjects, "Items"
    elif len(alert.errors) > 1:
        items = [
            f"{entry['message']}{' (after acknowledgement)' if entry.get('after_ack') else ''}"
            for entry in alert.errors
        ]
        items_label = "Errors seen"
    inbox = f"{reverse('ops:alert-list')}?status=all#alert-{alert.pk}"
    portal = _absolute(alert.link or inbox)
    actions = [
        CardAction("Open in the portal", portal),
        CardAction("Open the runbook", _absolute(runbook_url(alert.kind))),
    ]
    if alert.status != Alert.Status.RESOLVED:
        ack = reverse("ops:alert-ack-link", args=[alert_ack_token(alert)])
        actions.append(CardAction("Acknowledge", _absolute(ack)))
    title = f"{alert.get_severity_display()}: {spec.title if spec else alert.kind} ({reason})"
    card = AlertCard(
        title=title,
        severity=severity,
        text=alert.message,
        facts=facts,
        items=items,
        items_label=items_label,
        actions=actions,
    )
    try:
        return card_content(card)
    except CardRefused:
        # Customer data in the message or the list: the card goes without them.
        bare = AlertCard(
            title=title, severity=severity, text=WITHHELD, facts=facts, actions=actions
        )
        return card_content(bare)


def _failing_key(channel: str) -> str:
    return f"{TEAMS_DELIVERY_FAILED.name}:{channel}"


def card_enqueue(*, channel: str, key: str, content: dict, subject: Alert | None = None) -> None:
    """Queue one card for a channel (inside the caller's transaction); nothing if it has no URL.

    While the channel is known to fail (`teams.delivery_failed` open) the card is mailed at once too.
    """
    if not settings.TEAMS[CHANNEL_URL_SETTINGS[channel]]:
        return
    title = content["body"][0]["text"]
    message = outbox_enqueue(
        peer=channel,
        action=CARD_POST,
        idempotency_key=key,
        payload={"envelope": envelope(content), "title": title, "text": card_text(content)},
        priority=CARD_PRIORITY,
        subject=subject,
    )
    failing = Alert.objects.filter(dedupe_key=_failing_key(channel))
    if failing.exclude(status=Alert.Status.RESOLVED).exists():
        _card_email(message)


def _card_email(message: OutboxMessage) -> None:
    oncall_email_enqueue(
        key=f"alert.email:fallback:{message.idempotency_key}"[:200],
        subject=f"[Teams did not take this alert] {message.payload.get('title', '')}",
        body=message.payload.get("text", ""),
    )


def oncall_email_enqueue(*, key: str, subject: str, body: str) -> None:
    if not settings.TEAMS["ONCALL_EMAIL"]:
        return
    outbox_enqueue(
        peer="mail",
        action=ALERT_EMAIL,
        idempotency_key=key,
        payload={"subject": subject[:200], "body": body},
        priority=CARD_PRIORITY,
    )


# --- When a card goes ----------------------------------------------------------------------------


def _magnitude(count: int) -> int:
    """1–9 → 0, 10–99 → 1, 100–999 → 2 …; 0 (no card yet) → -1."""
    return len(str(count)) - 1 if count > 0 else -1


def quiet_now(now: datetime | None = None) -> bool:
    """Inside TEAMS_QUIET_HOURS ("22-7", TIME_ZONE hours; empty: never quiet)."""
    window = settings.TEAMS["QUIET_HOURS"]
    if not window:
        return False
    start, end = (int(part) for part in window.split("-"))
    hour = timezone.localtime(now or timezone.now()).hour
    return start <= hour < end if start < end else hour >= start or hour < end


def _posts_to_teams(alert: Alert) -> bool:
    spec = ALERT_KINDS.get(alert.kind)
    if spec is not None and not spec.teams:
        return False
    # Teams' own dead cards are reported by teams.delivery_failed and email, not by another card.
    return not alert.dedupe_key.startswith(
        tuple(f"{OUTBOX_DEAD.name}:{c}." for c in CHANNEL_URL_SETTINGS)
    )


def card_reason(alert: Alert) -> str | None:
    """Why this raise or bump deserves a card now, or None."""
    if alert.status == Alert.Status.RESOLVED or alert.digest_pending or not _posts_to_teams(alert):
        return None
    if alert.posted_count == 0:
        return "raised"
    if SEVERITY_RANK[alert.severity] > SEVERITY_RANK.get(alert.posted_severity, 0):
        return f"now {alert.get_severity_display().lower()}"
    if _magnitude(alert.count) > _magnitude(alert.posted_count):
        return f"seen {alert.count} times"
    return None


def _posted_mark(alert: Alert, **extra) -> bool:
    """Compare-and-set the posted count: of two processes bumping at once, one queues the card."""
    return bool(
        Alert.objects.filter(
            pk=alert.pk, posted_count=alert.posted_count, posted_severity=alert.posted_severity
        ).update(posted_count=alert.count, posted_severity=alert.severity, **extra)
    )


@alert_on_raised
def alert_card_on_raise(alert: Alert, created: bool) -> None:
    reason = card_reason(alert)
    if reason is None:
        return
    if alert.severity != Alert.Severity.CRITICAL and quiet_now():
        Alert.objects.filter(pk=alert.pk).update(digest_pending=True)
        return
    with transaction.atomic():
        if _posted_mark(alert):
            card_enqueue(
                channel=MAIN,
                key=f"teams.card:{alert.pk}:{alert.count}:{alert.severity}",
                content=alert_card(alert, reason=reason),
                subject=alert,
            )


@alert_on_resolved
def alert_card_on_resolve(alert: Alert) -> None:
    if alert.posted_count == 0 or not _posts_to_teams(alert):
        return
    with transaction.atomic():
        card_enqueue(
            channel=MAIN,
            key=f"teams.card:{alert.pk}:resolved",
            content=alert_card(alert, reason="resolved"),
            subject=alert,
        )


# --- Sending cards and the email fallback ---------------------------------------------------------


def _channel_record(channel: str, **fields) -> None:
    AlertChannel.objects.update_or_create(name=channel, defaults=fields)


def _delivery_failed(message: OutboxMessage, error: PeerError) -> None:
    """Teams refused a card or keeps failing: a local critical alert, and every waiting card by email
    (once each: the email's key is the card's)."""
    waiting = list(
        OutboxMessage.objects.filter(
            peer=message.peer,
            action=CARD_POST,
            status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT],
        ).order_by("id")[:FALLBACK_EMAILS_AT_ONCE]
    )
    oncall = settings.TEAMS["ONCALL_EMAIL"] or "nobody (TEAMS_ONCALL_EMAIL is empty)"
    query = urlencode({"peer": message.peer, "action": CARD_POST})
    alert_raise(
        kind=TEAMS_DELIVERY_FAILED.name,
        dedupe_key=_failing_key(message.peer),
        message=(
            f"Teams ({message.peer}) did not accept a card after {message.attempts} attempt(s): "
            f"{error.message}. The cards wait and keep being retried in order; each is emailed to "
            f"{oncall} meanwhile."
        )[:2000],
        link=f"{reverse('ops:outbox-list')}?{query}",
    )
    with transaction.atomic():
        for card in [message, *waiting]:
            _card_email(card)


def _card_accepted(message: OutboxMessage, result: dict) -> None:
    _channel_record(
        message.peer,
        last_accepted_at=timezone.now(),
        last_status=result.get("status"),
        last_error="",
    )
    alert_clear(dedupe_key=_failing_key(message.peer), reason="Teams accepted a card again")


def _card_dead(message: OutboxMessage, error: PeerError) -> None:
    _delivery_failed(message, error)


def _card_sender(channel: str):
    def send(messages: list[OutboxMessage]) -> list:
        url = settings.TEAMS[CHANNEL_URL_SETTINGS[channel]]
        outcomes = []
        with TeamsClient(
            peer=channel, rate_gate=sync_rate_gate(channel), **client_options()
        ) as client:
            for message in messages:
                try:
                    if not url:
                        raise PeerError(channel, "no webhook URL is configured", retryable=False)
                    answer = client.post(url, message.payload["envelope"])
                except BudgetExhausted as error:
                    outcomes.append(Failed(error))
                    continue
                except PeerError as error:
                    _channel_record(
                        channel,
                        last_failed_at=timezone.now(),
                        last_status=error.status_code,
                        last_error=error.message[:2000],
                    )
                    fallback = settings.TEAMS["FALLBACK_AFTER_ATTEMPTS"]
                    if not error.retryable or message.attempts >= fallback:
                        _delivery_failed(message, error)
                    outcomes.append(Failed(error))
                    continue
                outcomes.append(Sent({"status": answer.status_code}))
        return outcomes

    return send


for _channel in CHANNEL_URL_SETTINGS:
    outbox_action(
        _channel,
        CARD_POST,
        on_done=_card_accepted,
        on_dead=_card_dead,
        ordered=True,
        max_attempts=settings.TEAMS["MAX_ATTEMPTS"],
    )(_card_sender(_channel))


@outbox_action("mail", ALERT_EMAIL)
def mail_alert_send(messages: list[OutboxMessage]) -> list:
    outcomes = []
    for message in messages:
        oncall = settings.TEAMS["ONCALL_EMAIL"]
        if not oncall:
            error = PeerError("mail", "no on-call address (TEAMS_ONCALL_EMAIL)", retryable=False)
            outcomes.append(Failed(error))
            continue
        mail = EmailMessage(
            subject=message.payload["subject"],
            body=message.payload["body"],
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[oncall],
        )
        try:
            count = mail.send()
        except OSError as error:  # SMTP and socket errors: try again later
            outcomes.append(Failed(PeerError("mail", str(error), retryable=True)))
            continue
        outcomes.append(Sent({"result": f"{count} email(s) accepted"}))
    return outcomes


# --- The minute tick: escalation and the quiet-hours digest ---------------------------------------


def alert_escalate(*, alert: Alert, now: datetime) -> bool:
    """Take the alert's next escalation step if it is due and it is still unacknowledged."""
    steps = settings.TEAMS["ESCALATION_MINUTES"].get(alert.severity, [])
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        level = len(alert.escalations)
        if alert.status != Alert.Status.OPEN or level >= len(steps):
            return False
        minutes = steps[level]
        if alert.first_seen_at + timedelta(minutes=minutes) > now:
            return False
        to = [MAIN]
        if settings.TEAMS["ESCALATION_WEBHOOK_URL"]:
            to.append(ESCALATION)
        if settings.TEAMS["ONCALL_EMAIL"]:
            to.append(settings.TEAMS["ONCALL_EMAIL"])
        step = {"step": level + 1, "at": now.isoformat(), "minutes": minutes, "to": to}
        alert.escalations = [*alert.escalations, step]
        alert.save(update_fields=["escalations"])
        audit_record(
            actor=None,
            actor_label="system:escalation",
            verb=verbs.ALERT_ESCALATED,
            target=alert,
            data={"kind": alert.kind, **step},
        )
        reason = f"escalated: unacknowledged for {minutes} min"
        content = alert_card(alert, reason=reason)
        for channel in CHANNEL_URL_SETTINGS:
            card_enqueue(
                channel=channel,
                key=f"teams.escalation:{alert.pk}:{level + 1}:{channel}",
                content=content,
                subject=alert,
            )
        oncall_email_enqueue(
            key=f"alert.email:escalation:{alert.pk}:{level + 1}",
            subject=f"[Escalated] {content['body'][0]['text']}",
            body=card_text(content),
        )
    return True


def alerts_digest(*, now: datetime) -> int:
    """After quiet hours: one card for every alert that waited; return how many it listed."""
    waiting = list(
        Alert.objects.filter(digest_pending=True)
        .exclude(status=Alert.Status.RESOLVED)
        .order_by("first_seen_at", "id")
    )
    if not waiting:
        return 0
    with transaction.atomic():
        listed = [a for a in waiting if _posted_mark(a, digest_pending=False)]
        if not listed:
            return 0
        lines = [
            f"{a.get_severity_display()} · {a.kind} · {a.count}× · {a.message}" for a in listed
        ]
        card = AlertCard(
            title=f"Digest: {len(listed)} alert(s) from quiet hours",
            severity=Alert.Severity.WARNING,
            text="Warnings wait for this card in quiet hours; critical alerts are never held back.",
            items=lines,
            actions=[
                CardAction("Open the alerts", _absolute(reverse("ops:alert-list"))),
                CardAction("Open the runbook", _absolute(reverse("ops:runbook"))),
            ],
        )
        try:
            content = card_content(card)
        except CardRefused:
            kinds = [f"{a.get_severity_display()} · {a.kind} · {a.count}×" for a in listed]
            content = card_content(AlertCard(**{**card.__dict__, "items": kinds}))
        card_enqueue(channel=MAIN, key=f"teams.digest:{now:%Y%m%d%H%M}", content=content)
    return len(listed)


def alerts_tick(now: datetime | None = None) -> dict:
    """django-q2 entry point (schedule `ops.alerts_tick`, every minute)."""
    now = now or timezone.now()
    escalated = 0
    for severity, steps in settings.TEAMS["ESCALATION_MINUTES"].items():
        if not steps:
            continue
        due = Alert.objects.filter(
            status=Alert.Status.OPEN,
            severity=severity,
            first_seen_at__lte=now - timedelta(minutes=min(steps)),
        )
        escalated += sum(alert_escalate(alert=alert, now=now) for alert in due)
    digested = 0 if quiet_now(now) else alerts_digest(now=now)
    return {"escalated": escalated, "digested": digested}


# --- Heartbeat and the test card -----------------------------------------------------------------


def _health_card(title: str, text: str) -> dict:
    open_alerts = Alert.objects.exclude(status=Alert.Status.RESOLVED)
    facts = [
        (label, str(open_alerts.filter(severity=value).count()))
        for value, label in Alert.Severity.choices
    ]
    return card_content(
        AlertCard(
            title=title,
            severity="info",
            text=text,
            facts=[("Open alerts", str(open_alerts.count())), *facts],
            actions=[CardAction("Open the alerts", _absolute(reverse("ops:alert-list")))],
        )
    )


def teams_heartbeat() -> str:
    """django-q2 entry point (schedule `ops.teams_heartbeat`, daily): one card proves the path works."""
    today = timezone.localdate()
    with transaction.atomic():
        card_enqueue(
            channel=MAIN,
            key=f"teams.heartbeat:{today.isoformat()}",
            content=_health_card(
                f"Heartbeat {today.isoformat()}: alerts reach this channel",
                "The portal posts this card once a day. No card today means alerts are not arriving.",
            ),
        )
    return today.isoformat()


def teams_test_card_send(*, user) -> TeamsAnswer:
    """Post a test card now, outside the outbox, and return Teams' answer (PeerError if refused)."""
    # Who pressed it is in the audit row: a user's email address must not go on a card.
    content = _health_card("Test card from the portal", "Sent from the alerts page (/ops/alerts/).")
    try:
        with TeamsClient(
            peer=MAIN, rate_gate=sync_rate_gate(MAIN, max_wait=2.0), **client_options()
        ) as client:
            answer = client.post(settings.TEAMS["WEBHOOK_URL"], envelope(content))
    except (PeerError, ValueError) as error:
        status = getattr(error, "status_code", None)
        _channel_record(
            MAIN, last_failed_at=timezone.now(), last_status=status, last_error=str(error)
        )
        audit_record(actor=user, verb=verbs.TEAMS_TEST_CARD_SENT, data={"error": str(error)[:500]})
        raise
    _channel_record(
        MAIN, last_accepted_at=timezone.now(), last_status=answer.status_code, last_error=""
    )
    audit_record(actor=user, verb=verbs.TEAMS_TEST_CARD_SENT, data={"status": answer.status_code})
    return answer
