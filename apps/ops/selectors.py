"""The control room's numbers: the dashboard's tiles and /metrics read the same functions.

Every function runs a fixed number of queries whatever the data size: counts and oldest ages come
from indexed status columns (the active stages are small even with a million orders), and the
finished stages count the last 24 hours only, on an index of the time they finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Value
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from apps.invoicing.models import InvoiceDraft, XeroConnection
from apps.ops.models import BudgetSample, ClusterHeartbeat, ExceptionTriage, ThroughputHour
from apps.orders.models import Order, Shipment
from apps.support.models import ReplyDraft, Ticket
from apps.sync.budgets import budget_tokens_now
from apps.sync.exceptions import ExceptionEntry, ExceptionSource, exception_sources
from apps.sync.models import Alert, OutboxMessage, RateBudget, WebhookReceipt
from apps.sync.selectors import WAITING

FINISHED_WINDOW = timedelta(hours=24)
HEARTBEAT = "cluster"
# The cluster is alive while its heartbeat (a one-minute schedule) is younger than this.
HEARTBEAT_STALE = timedelta(minutes=3)
XERO_DAY_LIMIT = 5000


@dataclass
class Stage:
    key: str
    label: str
    count: int
    url: str
    target: timedelta | None = None  # the oldest item should be younger than this
    oldest: datetime | None = None
    finished: bool = False  # a final stage: the count is of the last 24 hours

    @property
    def age(self) -> timedelta | None:
        return timezone.now() - self.oldest if self.oldest else None

    @property
    def late(self) -> bool:
        age = self.age
        return bool(self.target and age and age > self.target)


def _url(name: str, **query) -> str:
    base = reverse(name)
    return f"{base}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else base


# (status, label, since field, target)
ORDER_STAGES = (
    (Order.Status.RECEIVED, "Received", "shopify_created_at", timedelta(minutes=5)),
    (Order.Status.HELD, "Held", "shopify_created_at", timedelta(hours=4)),
    (Order.Status.READY, "Ready", "updated_at", timedelta(minutes=15)),
    (Order.Status.SUBMITTED, "Submitted", "submitted_at", timedelta(hours=48)),
    (Order.Status.PARTIALLY_SHIPPED, "Partially shipped", "updated_at", timedelta(hours=72)),
    (Order.Status.SHIPPED, "Shipped", "updated_at", timedelta(hours=1)),
)
DRAFT_STAGES = (
    (InvoiceDraft.Status.DRAFT, "Drafted", "created_at", timedelta(hours=24)),
    (InvoiceDraft.Status.APPROVED, "Approved", "approved_at", timedelta(hours=1)),
)
REPLY_STAGES = (
    ("drafting", "Drafting", (ReplyDraft.Status.DRAFTING,), timedelta(minutes=5), "review"),
    (
        "review",
        "Awaiting review",
        (ReplyDraft.Status.READY, ReplyDraft.Status.NEEDS_HUMAN),
        timedelta(hours=4),
        "review",
    ),
)


def _stage_rows(queryset: QuerySet, stages) -> dict[str, dict]:
    """Count and oldest per status for the given (status, since field) pairs: one query."""
    aggregates = {}
    for status, _label, since, *_ in stages:
        aggregates[f"{status}__n"] = Count("pk", filter=Q(status=status))
        aggregates[f"{status}__oldest"] = Min(since, filter=Q(status=status))
    statuses = [stage[0] for stage in stages]
    row = queryset.filter(status__in=statuses).aggregate(**aggregates)
    return {s: {"n": row[f"{s}__n"], "oldest": row[f"{s}__oldest"]} for s in statuses}


def pipeline_stages() -> dict[str, list[Stage]]:
    """The order pipeline and the ticket pipeline as stages (5 queries)."""
    since = timezone.now() - FINISHED_WINDOW
    rows = _stage_rows(Order.objects.order_by(), ORDER_STAGES)
    orders = [
        Stage(
            status,
            label,
            rows[status]["n"],
            _url("orders:hold-list")
            if status == Order.Status.HELD
            else _url("orders:list", status=status),
            target,
            rows[status]["oldest"],
        )
        for status, label, _since, target in ORDER_STAGES
    ]
    orders.append(
        Stage(
            Order.Status.FULFILLED,
            "Fulfilled in Shopify",
            Order.objects.filter(status=Order.Status.FULFILLED, updated_at__gte=since).count(),
            _url("orders:list", status=Order.Status.FULFILLED),
            finished=True,
        )
    )
    drafts = _stage_rows(InvoiceDraft.objects.order_by(), DRAFT_STAGES)
    posted = InvoiceDraft.objects.filter(
        status=InvoiceDraft.Status.POSTED, reconciliation=InvoiceDraft.Reconciliation.UNCHECKED
    ).aggregate(n=Count("pk"), oldest=Min("posted_at"))
    reconciled = InvoiceDraft.objects.filter(
        reconciliation=InvoiceDraft.Reconciliation.MATCHED, reconciled_at__gte=since
    ).count()
    orders += [
        Stage(
            status,
            label,
            drafts[status]["n"],
            _url("invoicing:list", status=status),
            target,
            drafts[status]["oldest"],
        )
        for status, label, _since, target in DRAFT_STAGES
    ]
    orders += [
        Stage(
            "posted",
            "Posted to Xero",
            posted["n"],
            _url("invoicing:list", status=InvoiceDraft.Status.POSTED),
            timedelta(hours=26),
            posted["oldest"],
        ),
        Stage(
            "reconciled",
            "Reconciled",
            reconciled,
            _url("invoicing:reconciliation"),
            finished=True,
        ),
    ]
    tickets = []
    reply_rows = (
        ReplyDraft.objects.order_by()
        .filter(status__in=[s for stage in REPLY_STAGES for s in stage[2]])
        .aggregate(
            **{
                f"{key}__n": Count("pk", filter=Q(status__in=statuses))
                for key, _l, statuses, *_ in REPLY_STAGES
            },
            **{
                f"{key}__oldest": Min("created_at", filter=Q(status__in=statuses))
                for key, _l, statuses, *_ in REPLY_STAGES
            },
        )
    )
    for key, label, _statuses, target, view in REPLY_STAGES:
        tickets.append(
            Stage(
                key,
                label,
                reply_rows[f"{key}__n"],
                _url("support:ticket-list", view=view),
                target,
                reply_rows[f"{key}__oldest"],
            )
        )
    tickets.append(
        Stage(
            "sent",
            "Sent",
            ReplyDraft.objects.filter(status=ReplyDraft.Status.SENT, sent_at__gte=since).count(),
            _url("support:ticket-list", view="sent"),
            finished=True,
        )
    )
    return {"orders": orders, "tickets": tickets}


# --- Throughput ------------------------------------------------------------------------------------

# (key, label, queryset factory, time field): each is the flow out of one stage into the next.
FLOWS = (
    ("received", "Orders received", lambda: Order.objects.all(), "shopify_created_at"),
    ("submitted", "Submitted to the warehouse", lambda: Order.objects.all(), "submitted_at"),
    ("shipped", "Shipped", lambda: Shipment.objects.all(), "shipped_at"),
    ("drafted", "Invoices drafted", lambda: InvoiceDraft.objects.all(), "created_at"),
    ("approved", "Invoices approved", lambda: InvoiceDraft.objects.all(), "approved_at"),
    ("posted", "Invoices posted", lambda: InvoiceDraft.objects.all(), "posted_at"),
)
TICKET_FLOWS = (
    ("tickets", "Tickets received", lambda: Ticket.objects.all(), "created_at"),
    ("drafts", "Replies drafted", lambda: ReplyDraft.objects.all(), "created_at"),
    ("sent", "Replies sent", lambda: ReplyDraft.objects.all(), "sent_at"),
)


@dataclass
class Series:
    key: str
    label: str
    counts: list[int]  # one per hour, oldest first


@dataclass
class Throughput:
    hours: list[datetime]  # the start of each hour (UTC), oldest first
    orders: list[Series] = field(default_factory=list)
    tickets: list[Series] = field(default_factory=list)


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def flow_counts(time_field: str, rows: QuerySet, *, since: datetime) -> dict[datetime, int]:
    """Per UTC hour from `since`, how many rows have their `time_field` in it (one query)."""
    return {
        hour_start(hour): n
        for hour, n in rows.order_by()
        .filter(**{f"{time_field}__gte": since})
        .annotate(hour=TruncHour(time_field, tzinfo=UTC))
        .values_list("hour")
        .annotate(n=Count("pk"))
    }


def throughput(*, hours: int = 24) -> Throughput:
    """Per hour over the last `hours`: finished hours from the rollup (one query), the current
    hour counted live (one query per flow, over one hour of rows)."""
    current = hour_start(timezone.now())
    buckets = [current - timedelta(hours=hours - 1 - i) for i in range(hours)]
    stored: dict[tuple[str, datetime], int] = {
        (flow, hour_start(hour)): n
        for flow, hour, n in ThroughputHour.objects.filter(
            hour__gte=buckets[0], hour__lt=current
        ).values_list("flow", "hour", "count")
    }
    result = Throughput(hours=buckets)
    for flows, target in ((FLOWS, result.orders), (TICKET_FLOWS, result.tickets)):
        for key, label, rows, time_field in flows:
            live = flow_counts(time_field, rows(), since=current)
            counts = [stored.get((key, hour), 0) for hour in buckets[:-1]]
            counts.append(live.get(current, 0))
            target.append(Series(key, label, counts))
    return result


# --- Peers -----------------------------------------------------------------------------------------


@dataclass
class PeerTile:
    peer: str
    capacity: float
    refill: float  # tokens per second
    tokens: float
    frozen_until: datetime | None
    calls_last_minute: int | None  # from the budget's call counter sampled by the heartbeat
    throttled_last_hour: int | None
    errors_last_hour: int
    lanes: dict[int, int]  # priority → messages waiting
    dead: int
    last_success: datetime | None
    drain_seconds: float | None

    @property
    def limit_per_minute(self) -> int:
        return round(self.refill * 60)

    @property
    def queue(self) -> int:
        return sum(self.lanes.values())


def _budget_samples(peers, moments: dict[str, datetime]) -> dict[tuple[str, str], BudgetSample]:
    """Per peer and moment, the newest counter sample taken at or before it (one query)."""
    earliest = min(moments.values()) - timedelta(minutes=2)
    found: dict[tuple[str, str], BudgetSample] = {}
    for sample in BudgetSample.objects.filter(peer__in=peers, at__gte=earliest).order_by("at"):
        for name, moment in moments.items():
            if sample.at <= moment:
                found[(sample.peer, name)] = sample
    return found


def peer_tiles() -> list[PeerTile]:
    """One tile per configured peer (4 queries + one per peer for its last success)."""
    now = timezone.now()
    peers = sorted(settings.RATE_BUDGETS)
    budgets = {b.peer: b for b in RateBudget.objects.filter(peer__in=peers)}
    lanes: dict[str, dict[int, int]] = {peer: {} for peer in peers}
    dead: dict[str, int] = dict.fromkeys(peers, 0)
    for peer, status, priority, n in (
        OutboxMessage.objects.order_by()
        .filter(peer__in=peers, status__in=[*WAITING, OutboxMessage.Status.DEAD])
        .values_list("peer", "status", "priority")
        .annotate(n=Count("pk"))
    ):
        if status == OutboxMessage.Status.DEAD:
            dead[peer] += n
        else:
            lanes[peer][priority] = lanes[peer].get(priority, 0) + n
    errors = dict(
        OutboxMessage.objects.order_by()
        .filter(updated_at__gte=now - timedelta(hours=1))
        .exclude(last_error="")
        .values_list("peer")
        .annotate(n=Count("pk"))
    )
    samples = _budget_samples(
        peers, {"minute": now - timedelta(minutes=1), "hour": now - timedelta(hours=1)}
    )
    tiles = []
    for peer in peers:
        config = settings.RATE_BUDGETS[peer]
        capacity, refill = float(config["capacity"]), float(config["refill"])
        budget = budgets.get(peer)
        frozen = (
            budget.frozen_until
            if budget and budget.frozen_until and budget.frozen_until > now
            else None
        )
        if budget is None:
            tokens = capacity
        else:
            budget.capacity, budget.refill_per_second = capacity, refill
            tokens = budget_tokens_now(budget, now)
        calls_total = budget.calls_total if budget else 0
        throttled_total = budget.throttled_total if budget else 0
        minute, hour = samples.get((peer, "minute")), samples.get((peer, "hour"))
        queue = sum(lanes[peer].values())
        drain = None
        if refill > 0:
            drain = max(0.0, (queue - tokens) / refill)
            if frozen and queue:
                drain += (frozen - now).total_seconds()
        tiles.append(
            PeerTile(
                peer=peer,
                capacity=capacity,
                refill=refill,
                tokens=tokens,
                frozen_until=frozen,
                calls_last_minute=None
                if minute is None
                else max(0, calls_total - minute.calls_total),
                throttled_last_hour=None
                if hour is None
                else max(0, throttled_total - hour.throttled_total),
                errors_last_hour=errors.get(peer, 0),
                lanes=dict(sorted(lanes[peer].items())),
                dead=dead[peer],
                last_success=OutboxMessage.objects.filter(peer=peer, done_at__isnull=False)
                .order_by("-done_at")
                .values_list("done_at", flat=True)
                .first(),
                drain_seconds=None if drain is None else round(drain, 1),
            )
        )
    return tiles


def xero_day_meter() -> dict:
    """Xero's daily allowance as Xero last told us (its X-DayLimit-Remaining header)."""
    connection = XeroConnection.objects.order_by("-connected_at", "-id").first()
    remaining = connection.day_remaining if connection else None
    used = None if remaining is None else max(0, XERO_DAY_LIMIT - remaining)
    return {
        "limit": XERO_DAY_LIMIT,
        "used": used,
        "last_call_at": connection.last_call_at if connection else None,
    }


# --- Health ----------------------------------------------------------------------------------------


def _webhook_subscription_alerts() -> QuerySet[Alert]:
    return Alert.objects.filter(kind__startswith="shopify.webhook_subscription").exclude(
        status=Alert.Status.RESOLVED
    )


def health() -> dict:
    """Cluster heartbeat, every schedule's last run, the receipts backlog (5 queries)."""
    from django_q.models import Schedule, Task

    now = timezone.now()
    beat = ClusterHeartbeat.objects.filter(name=HEARTBEAT).first()
    schedules = list(Schedule.objects.order_by("name").only("name", "func", "next_run", "task"))
    tasks = Task.objects.only("id", "success", "stopped", "result").in_bulk(
        [s.task for s in schedules if s.task]
    )
    rows = []
    for schedule in schedules:
        task = tasks.get(schedule.task)
        rows.append(
            {
                "name": schedule.name,
                "next_run": schedule.next_run,
                "last_run": task.stopped if task else None,
                "success": task.success if task else None,
                "result": str(task.result)[:160] if task and task.result is not None else "",
            }
        )
    receipts = WebhookReceipt.objects.filter(status=WebhookReceipt.Status.PENDING).aggregate(
        waiting=Count("pk"), oldest=Min("received_at")
    )
    subscriptions = list(_webhook_subscription_alerts().order_by("-last_seen_at")[:3])
    return {
        "heartbeat": beat,
        "alive": bool(beat and now - beat.beat_at < HEARTBEAT_STALE),
        "schedules": rows,
        "receipts_waiting": receipts["waiting"],
        "oldest_receipt": receipts["oldest"],
        "subscription_alerts": subscriptions,
        "subscriptions_check": next(
            (row for row in rows if row["name"] == "orders.shopify_subscriptions"), None
        ),
    }


# --- Alerts ----------------------------------------------------------------------------------------


def alerts_summary() -> dict:
    """Open and acknowledged alerts by severity, and the newest critical ones (2 queries)."""
    active = Alert.objects.exclude(status=Alert.Status.RESOLVED)
    counts = dict.fromkeys(Alert.Severity.values, 0)
    counts.update(dict(active.order_by().values_list("severity").annotate(n=Count("pk"))))
    critical = list(active.filter(severity=Alert.Severity.CRITICAL).order_by("-last_seen_at")[:5])
    return {"counts": counts, "critical": critical, "total": sum(counts.values())}


# --- The exception queue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExceptionFilters:
    kind: str = ""
    older_than: timedelta | None = None
    assignee_id: int | None = None


def _open(source: ExceptionSource, filters: ExceptionFilters) -> QuerySet:
    """The source's open rows not resolved since they got stuck, with the filters applied."""
    resolved = ExceptionTriage.objects.filter(
        kind=source.kind, object_id=OuterRef("pk"), resolved_at__gte=OuterRef(source.since)
    )
    rows = source.open().order_by().filter(~Exists(resolved))
    if filters.older_than:
        rows = rows.filter(**{f"{source.since}__lte": timezone.now() - filters.older_than})
    if filters.assignee_id:
        assigned = ExceptionTriage.objects.filter(
            kind=source.kind, object_id=OuterRef("pk"), assignee_id=filters.assignee_id
        )
        rows = rows.filter(Exists(assigned))
    return rows


def _sources(filters: ExceptionFilters) -> list[ExceptionSource]:
    return [s for s in exception_sources() if not filters.kind or s.kind == filters.kind]


def exception_counts(filters: ExceptionFilters = ExceptionFilters()) -> dict[str, int]:
    """Open exceptions per kind (one query per registered source)."""
    return {source.kind: _open(source, filters).count() for source in _sources(filters)}


def exception_keys(filters: ExceptionFilters, *, limit: int | None = None, offset: int = 0):
    """(kind, pk, since) of the matching exceptions, oldest first: one UNION query."""
    parts = [
        _open(source, filters)
        .annotate(_kind=Value(source.kind), _since=F(source.since))
        .values_list("_kind", "pk", "_since")
        for source in _sources(filters)
    ]
    if not parts:
        return []
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    union = union.order_by("_since", "pk")
    if limit is not None:
        return list(union[offset : offset + limit])
    return list(union)


def exception_entries(keys) -> list[tuple[ExceptionSource, ExceptionEntry, ExceptionTriage | None]]:
    """The page's rows in plain words, with who holds each (one query per kind on the page)."""
    by_kind: dict[str, list[int]] = {}
    for kind, pk, _since in keys:
        by_kind.setdefault(kind, []).append(pk)
    sources = {s.kind: s for s in exception_sources()}
    entries: dict[tuple[str, int], ExceptionEntry] = {}
    for kind, ids in by_kind.items():
        source = sources[kind]
        rows = source.open().filter(pk__in=ids)
        if source.related:
            rows = rows.select_related(*source.related)
        for entry in source.describe(list(rows)):
            entries[(kind, entry.pk)] = entry
    triage = {}
    if by_kind:
        condition = Q()
        for kind, ids in by_kind.items():
            condition |= Q(kind=kind, object_id__in=ids)
        triage = {
            (t.kind, t.object_id): t
            for t in ExceptionTriage.objects.filter(condition).select_related("assignee")
        }
    return [
        (sources[kind], entries[(kind, pk)], triage.get((kind, pk)))
        for kind, pk, _since in keys
        if (kind, pk) in entries
    ]


def exceptions_total() -> int:
    return sum(exception_counts().values())


# --- Work waiting, per role -----------------------------------------------------------------------


def work_waiting(user) -> list[dict]:
    """What waits for this person's roles, each a count and a link to the work (one query each)."""
    items = []
    if user.has_perm("invoicing.approve_invoicedraft"):
        items.append(
            {
                "label": "Invoice drafts awaiting approval",
                "count": InvoiceDraft.objects.filter(status=InvoiceDraft.Status.DRAFT).count(),
                "url": _url("invoicing:list", status=InvoiceDraft.Status.DRAFT),
            }
        )
    if user.has_perm("support.approve_replydraft"):
        items.append(
            {
                "label": "Replies awaiting review",
                "count": ReplyDraft.objects.filter(
                    status__in=(ReplyDraft.Status.READY, ReplyDraft.Status.NEEDS_HUMAN)
                ).count(),
                "url": _url("support:ticket-list", view="review"),
            }
        )
    if user.has_perm("ops.triage_exception"):
        items.append(
            {
                "label": "Exceptions to triage",
                "count": exceptions_total(),
                "url": reverse("ops:exception-list"),
            }
        )
    return items
