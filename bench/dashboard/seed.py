"""Seed N orders (default 1,000,000) with SQL `generate_series`, in realistic proportions.

    .venv/bin/python -m bench.dashboard.seed [--orders 1000000] [--days 330]

Orders are spread evenly over `--days` up to now (about 3,000 a day at 1M), newest last. What an
order has depends on its age, as in a running shop: the last hours are spread over the early
stages, older orders are fulfilled, with a tail of exceptions that nobody fixed yet.

| per order | rows |
|---|---|
| lines | 1, or 2 for every third order (≈ 1.33 per order) |
| shipment, invoice draft | one each once shipped (≈ 0.98); drafts of the last day await approval or posting |
| outbox messages | warehouse create (≈ 1), Shopify fulfillment (≈ 0.97), Xero post (≈ 0.97); ≈ 0.1 % dead |
| webhook receipts | one `orders/create` per order; ≈ 0.05 % failed, the last minutes pending |
| holds | ≈ 0.3 % of orders, open |
| tickets | one per 20 orders, with an inbound message and an AI reply draft |

It empties those tables first (TRUNCATE), then VACUUM ANALYZEs them, as a restored production
database would be. PostgreSQL only (DATABASE_URL, default postgres://postgres@127.0.0.1/o2c_dashboard).
"""

from __future__ import annotations

import argparse
import os
import time

from bench.common import database_prepare, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1/o2c_dashboard"
TABLES = (
    "support_message",
    "support_replydraft",
    "support_ticket",
    "invoicing_invoicedraftline",
    "invoicing_invoicedraft",
    "orders_shipmentline",
    "orders_shipment",
    "orders_hold",
    "orders_orderevent",
    "orders_orderline",
    "orders_order",
    "sync_outboxmessage",
    "sync_webhookreceipt",
    "sync_alert",
    "ops_exceptiontriage",
)

# Every statement sees :n (orders), :days and :now through a one-row CTE-free parameter table.
STATEMENTS = [
    (
        "orders",
        """
        INSERT INTO orders_order (id, shopify_id, admin_graphql_api_id, name, order_number, status,
            email, phone, customer_id, customer_first_name, customer_last_name, shipping_address,
            currency, subtotal_price, total_discounts, total_tax, total_shipping, total_price,
            current_total_price, taxes_included, financial_status, fulfillment_status, cancel_reason,
            tags, test, shopify_created_at, shopify_updated_at, mapping_version, created_at,
            updated_at, submitted_at, warehouse_error, warehouse_order_id)
        SELECT i, 5000000000 + i, 'gid://shopify/Order/' || (5000000000 + i), '#' || (1000 + i),
            1000 + i, s.status,
            'customer' || (i %% 250000) || '@example.com', '', 700000 + (i %% 250000), 'Ada',
            'Lovelace' || (i %% 997), '{"country_code": "GB", "city": "London"}'::jsonb,
            'GBP', 40.00, 0, 8.00, 4.95, 52.95, 52.95, false, 'paid',
            CASE WHEN s.status IN ('shipped', 'fulfilled') THEN 'fulfilled'
                 WHEN s.status = 'partially_shipped' THEN 'partial' ELSE '' END,
            '', '', false, s.created, s.created + interval '2 minutes', 1, s.created,
            s.created + s.age / 2, CASE WHEN s.status IN ('submitted', 'partially_shipped',
                'shipped', 'fulfilled') THEN s.created + interval '2 minutes' END,
            '', CASE WHEN s.status IN ('submitted', 'partially_shipped', 'shipped', 'fulfilled')
                THEN 9000000 + i END
        FROM (
            SELECT i, created, now() - created AS age,
                CASE
                    WHEN now() - created < interval '3 minutes' THEN
                        CASE WHEN i %% 10 < 7 THEN 'received' ELSE 'ready' END
                    WHEN now() - created < interval '2 hours' THEN
                        CASE WHEN i %% 100 < 3 THEN 'held' WHEN i %% 100 < 15 THEN 'ready'
                             ELSE 'submitted' END
                    WHEN now() - created < interval '2 days' THEN
                        CASE WHEN i %% 100 < 1 THEN 'held' WHEN i %% 100 < 20 THEN 'submitted'
                             WHEN i %% 100 < 25 THEN 'partially_shipped'
                             WHEN i %% 100 < 35 THEN 'shipped' ELSE 'fulfilled' END
                    ELSE
                        CASE WHEN i %% 1000 < 3 THEN 'held' WHEN i %% 1000 < 13 THEN 'cancelled'
                             ELSE 'fulfilled' END
                END AS status
            FROM (
                SELECT i, now() - (%(n)s - i) * (%(days)s * interval '1 day') / %(n)s AS created
                FROM generate_series(1, %(n)s) AS i
            ) g
        ) s
        """,
    ),
    (
        "order lines",
        """
        INSERT INTO orders_orderline (id, order_id, shopify_id, sku, variant_id, product_id, title,
            variant_title, quantity, fulfillable_quantity, price, total_discount, requires_shipping,
            gift_card, taxable, handling, handling_reason)
        SELECT o.id * 2 + k, o.id, 8000000000 + o.id * 2 + k,
            CASE WHEN o.status = 'held' AND k = 0 THEN 'UNMAPPED-' || (o.id %% 50)
                 ELSE 'SKU-' || (o.id %% 400) END,
            6000000 + o.id %% 400, 7000 + o.id %% 400, 'Ceramic mug', '', 1, 0, 20.00, 0, true,
            false, true, '', ''
        FROM orders_order o CROSS JOIN generate_series(0, 1) AS k
        WHERE k = 0 OR o.id %% 3 = 0
        """,
    ),
    (
        "holds",
        """
        INSERT INTO orders_hold (order_id, line_id, reason, detail, sku, variant_id, created_at,
            release_note)
        SELECT o.id, o.id * 2, 'unknown_sku',
            'Line 1: SKU UNMAPPED-' || (o.id %% 50) || ' is not in the mapping table.',
            'UNMAPPED-' || (o.id %% 50), 6000000 + o.id %% 400, o.shopify_created_at, ''
        FROM orders_order o WHERE o.status = 'held'
        """,
    ),
    (
        "shipments",
        """
        INSERT INTO orders_shipment (id, order_id, shipbob_shipment_id, shipbob_order_id, status,
            carrier, tracking_number, tracking_url, shipped_at, delivered_at, exception,
            fulfillment_status, shopify_fulfillment_id, fulfillment_error, created_at, updated_at,
            products)
        SELECT o.id, o.id, 3000000 + o.id, o.warehouse_order_id, 'Completed', 'Royal Mail',
            'RM' || o.id || 'GB', 'https://track.example.com/RM' || o.id, ts, NULL, '',
            CASE WHEN o.status = 'fulfilled' THEN 'done' ELSE 'pending' END,
            CASE WHEN o.status = 'fulfilled' THEN 'gid://shopify/Fulfillment/' || o.id ELSE '' END,
            '', ts, ts, '[]'::jsonb
        FROM (
            SELECT o.*, o.shopify_created_at + (now() - o.shopify_created_at) / 3 AS ts
            FROM orders_order o
            WHERE o.status IN ('partially_shipped', 'shipped', 'fulfilled')
        ) o
        """,
    ),
    (
        "invoice drafts",
        """
        INSERT INTO invoicing_invoicedraft (id, shipment_id, order_id, reference, status, currency,
            line_amount_types, subtotal, total_tax, total, expected_total, variance,
            mapping_version, contact_number, contact_name, contact_email, invoice_date, due_date,
            approved_by_id, approved_at, reject_reason, xero_invoice_id, xero_total, posted_at,
            post_error, reconciliation, reconciled_at, created_at, updated_at, void_reason)
        SELECT d.id, d.id, d.order_id, 'SHIP-' || (3000000 + d.id), d.status, 'GBP', 'Exclusive',
            44.95, 8.00, 52.95, 52.95, 0, 1, (700000 + d.id %% 250000)::text, 'Ada Lovelace',
            'customer' || (d.id %% 250000) || '@example.com', d.created::date, d.created::date,
            CASE WHEN d.status IN ('approved', 'posted', 'failed') THEN %(approver)s END,
            CASE WHEN d.status IN ('approved', 'posted', 'failed')
                THEN d.created + interval '1 hour' END,
            CASE WHEN d.status = 'rejected' THEN 'Duplicate of an earlier shipment' ELSE '' END,
            CASE WHEN d.status = 'posted' THEN md5(d.id::text)::uuid::text ELSE '' END,
            CASE WHEN d.status = 'posted' THEN 52.95 END,
            CASE WHEN d.status = 'posted' THEN d.created + interval '2 hours' END,
            CASE WHEN d.status = 'failed' THEN 'Account code 999 is not a valid code for this document.'
                 ELSE '' END,
            CASE WHEN d.status = 'posted' AND now() - d.created > interval '1 day' THEN 'matched'
                 ELSE 'unchecked' END,
            CASE WHEN d.status = 'posted' AND now() - d.created > interval '1 day'
                THEN d.created + interval '1 day' END,
            d.created, d.created + interval '2 hours', ''
        FROM (
            SELECT s.id, s.order_id, s.shipped_at AS created,
                CASE
                    WHEN now() - s.shipped_at < interval '12 hours' THEN
                        CASE WHEN s.id %% 10 < 5 THEN 'draft' WHEN s.id %% 10 < 6 THEN 'approved'
                             ELSE 'posted' END
                    ELSE CASE WHEN s.id %% 1000 IN (501, 502) THEN 'failed'
                              WHEN s.id %% 1000 IN (503, 504, 505) THEN 'rejected'
                              ELSE 'posted' END
                END AS status
            FROM orders_shipment s WHERE s.fulfillment_status = 'done'
        ) d
        """,
    ),
    (
        "outbox: warehouse",
        """
        INSERT INTO sync_outboxmessage (peer, action, idempotency_key, payload, priority, status,
            attempts, next_attempt_at, last_error, subject_type, subject_id, created_at,
            updated_at, done_at)
        SELECT 'shipbob', 'order_create', 'shipbob.order_create:' || o.shopify_id,
            jsonb_build_object('order_id', o.id), 10,
            CASE WHEN o.status = 'ready' THEN 'pending' WHEN o.id %% 1000 = 507 THEN 'dead'
                 ELSE 'done' END,
            CASE WHEN o.id %% 1000 = 507 THEN 8 ELSE 1 END, o.shopify_created_at,
            CASE WHEN o.id %% 1000 = 507 THEN
                'ShipBob 422: shipping_method "Next Day Saturday" is not a valid shipping method.'
                 ELSE '' END,
            'orders.order', o.id::text, o.shopify_created_at, o.shopify_created_at,
            CASE WHEN o.status <> 'ready' AND o.id %% 1000 <> 507
                THEN o.shopify_created_at + interval '2 minutes' END
        FROM orders_order o
        WHERE o.status NOT IN ('received', 'held', 'cancelled')
        """,
    ),
    (
        "outbox: fulfillments",
        """
        INSERT INTO sync_outboxmessage (peer, action, idempotency_key, payload, priority, status,
            attempts, next_attempt_at, last_error, subject_type, subject_id, created_at,
            updated_at, done_at)
        SELECT 'shopify', 'fulfillment_create', 'fulfillment:' || s.shipbob_shipment_id,
            jsonb_build_object('shipment_id', s.id), 20,
            CASE WHEN s.fulfillment_status = 'done' THEN 'done' ELSE 'pending' END, 1,
            s.shipped_at, '', 'orders.order', s.order_id::text, s.shipped_at, s.shipped_at,
            CASE WHEN s.fulfillment_status = 'done' THEN s.shipped_at + interval '1 minute' END
        FROM orders_shipment s
        """,
    ),
    (
        "outbox: Xero",
        """
        INSERT INTO sync_outboxmessage (peer, action, idempotency_key, payload, priority, status,
            attempts, next_attempt_at, last_error, subject_type, subject_id, created_at,
            updated_at, done_at)
        SELECT 'xero', 'invoice_post', 'invoice:' || d.reference,
            jsonb_build_object('draft_id', d.id), 40,
            CASE d.status WHEN 'approved' THEN 'pending' WHEN 'failed' THEN 'dead' ELSE 'done' END,
            1, d.approved_at,
            CASE WHEN d.status = 'failed' THEN d.post_error ELSE '' END,
            'invoicing.invoicedraft', d.id::text, d.approved_at, d.approved_at,
            CASE WHEN d.status = 'posted' THEN d.posted_at END
        FROM invoicing_invoicedraft d WHERE d.status IN ('approved', 'posted', 'failed')
        """,
    ),
    (
        "webhook receipts",
        """
        INSERT INTO sync_webhookreceipt (source, delivery_id, topic, headers, body, received_at,
            status, error, attempts, applied_at)
        SELECT 'shopify', 'delivery-' || o.id, 'orders/create', '{}'::jsonb,
            convert_to('{"id": ' || o.shopify_id || '}', 'UTF8'), o.shopify_created_at,
            CASE WHEN now() - o.shopify_created_at < interval '1 minute' THEN 'pending'
                 WHEN o.id %% 2000 = 11 THEN 'failed' ELSE 'applied' END,
            CASE WHEN o.id %% 2000 = 11 THEN 'Order payload has no line_items' ELSE '' END, 1,
            CASE WHEN now() - o.shopify_created_at >= interval '1 minute' AND o.id %% 2000 <> 11
                THEN o.shopify_created_at + interval '1 second' END
        FROM orders_order o
        """,
    ),
    (
        "tickets",
        """
        INSERT INTO support_ticket (id, thread_id, customer_email, subject, order_id, linked_by,
            status, source, created_at, updated_at)
        SELECT o.id / 20, 'thread-' || o.id, o.email, 'Where is my order ' || o.name || '?',
            o.id, 'order_name', CASE WHEN now() - o.shopify_created_at < interval '1 day'
                THEN 'open' ELSE 'replied' END,
            'helpdesk', o.shopify_created_at + interval '1 day',
            o.shopify_created_at + interval '1 day'
        FROM orders_order o WHERE o.id %% 20 = 0
        """,
    ),
    (
        "ticket messages",
        """
        INSERT INTO support_message (ticket_id, direction, external_id, body, at)
        SELECT t.id, 'in', 'msg-' || t.id, 'Hello, where is my order? It has been a while.',
            t.created_at
        FROM support_ticket t
        """,
    ),
    (
        "reply drafts",
        """
        INSERT INTO support_replydraft (ticket_id, status, instruction, model_reply, body, intent,
            cited_policy_ids, facts_used, proposed_actions, needs_human_reason, flags,
            claims, version, prompt_version, prompt_system, prompt_user, context_snapshot,
            model, deployment, raw_output, error, approved_by_id, approved_at, reject_reason,
            sent_at, send_result, created_at, updated_at)
        SELECT t.id, d.status, '', 'It shipped today.', 'It shipped today.', 'where_is_my_order',
            '[]', '[]', '[]', '', '[]', '[]', 1, 'v1', '', '', '{}', 'gpt-4o-mini', 'gpt-4o-mini', '',
            CASE WHEN d.status = 'failed' THEN 'The model did not answer within 20 s.' ELSE '' END,
            CASE WHEN d.status = 'sent' THEN %(approver)s END,
            CASE WHEN d.status = 'sent' THEN t.created_at + interval '1 hour' END, '',
            CASE WHEN d.status = 'sent' THEN t.created_at + interval '1 hour' END, '',
            t.created_at + interval '1 minute', t.created_at + interval '1 hour'
        FROM support_ticket t
        CROSS JOIN LATERAL (
            SELECT CASE WHEN t.status = 'open' THEN
                        CASE WHEN t.id %% 10 < 2 THEN 'drafting' ELSE 'ready' END
                    WHEN t.id %% 200 = 3 THEN 'failed' ELSE 'sent' END AS status
        ) d
        """,
    ),
]
SEQUENCES = ("orders_order", "orders_orderline", "orders_shipment", "invoicing_invoicedraft")
SEQUENCES_TOO = ("support_ticket",)


def seed(*, orders: int, days: int) -> list[tuple[str, int, float]]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bench.common import tables_reset

    tables_reset(TABLES)
    approver, _ = get_user_model().objects.get_or_create(
        email="bench-finance@example.com", defaults={"first_name": "Bench"}
    )
    params = {"n": orders, "days": days, "approver": approver.pk}
    figures = []
    with connection.cursor() as cursor:
        for label, sql in STATEMENTS:
            started = time.monotonic()
            cursor.execute(sql, params)
            figures.append((label, cursor.rowcount, time.monotonic() - started))
            print(f"{label:22} {cursor.rowcount:>10,} rows {figures[-1][2]:7.1f} s", flush=True)
        for table in (*SEQUENCES, *SEQUENCES_TOO):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
    started = time.monotonic()
    connection.ensure_connection()
    raw = connection.connection
    raw.autocommit = True
    existing = set(connection.introspection.table_names())
    with raw.cursor() as cursor:
        for table in TABLES:
            if table in existing:
                cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"{'vacuum analyze':22} {'':>10} {'':>4} {time.monotonic() - started:7.1f} s")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=330)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith("postgres"):
        raise SystemExit("The dashboard bench seeds with PostgreSQL's generate_series.")
    database_prepare(url=url)
    django_setup(url=url)
    started = time.monotonic()
    seed(orders=args.orders, days=args.days)
    print(f"seeded {args.orders:,} orders in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
