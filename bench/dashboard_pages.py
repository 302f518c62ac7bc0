"""Dashboard pages over a million Amazon orders, side by side with Django admin (issue 7).

    .venv/bin/python bench/dashboard_pages.py [--orders 1000000] [--stores 10]
        [--commerce-orders 200000] [--requests 30] [--warmup 3] [--target-ms 50]

Loads --orders AmazonOrder rows over --stores stores straight into the tables Django created,
with SQL (`INSERT ... SELECT generate_series`, no Python per row): purchase dates over two years,
statuses as they are by age (recent orders are still open, older ones shipped or canceled),
buyer names from a list, totals; items for 20% of the orders (1-3 each), history events for
10%, a cancellation (with its outbox message) for some canceled orders, and --commerce-orders
CommerceOrder rows (with billing and shipping addresses) made from Amazon orders, whose
AmazonOrder.commerce_order_id points at them. Then VACUUM ANALYZE and a CHECKPOINT. The load is
timed apart.

Then measures, in this process, with Django's test Client logged in as a superuser (DEBUG off):
--warmup requests, then --requests timed requests per page (median and p95 of the wall time of
client.get, i.e. the whole Django request: middleware, session, view, template), and the SQL
queries of one more request (CaptureQueriesContext). Pages: store cards, a store dashboard with
Recent Orders, All Orders (no filter, each filter alone, sorted by grand total, page 2 through
the page's Next link), Amazon Order Details, the Commerce orders grid (no filter, a search, a
status filter) and Django admin's changelists of the same orders. Each page is paired with the
admin changelist that shows the same thing; target: p95 under --target-ms and faster than it.
"""

import argparse
import html
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import bench_django, store_create, verdict

FIRST_NAMES = (  # noqa: SIM905 - a list of words reads better as text
    "Anna Ben Clara David Emma Felix Greta Hannah Ida Jonas Karl Lea Lukas Maria Noah "
    "Olivia Paul Quentin Rosa Sofia Tom Ute Vera Walter Xaver Yara Zoe Amelie Bruno Chloe "
    "Daniel Elena Finn Giulia Hugo Ines Jan Kim Luca Mia Nils Oskar Pia Rafael Sara Theo "
    "Valentina Wim Aylin Mehmet"
).split()
LAST_NAMES = (  # noqa: SIM905 - a list of words reads better as text
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch "
    "Richter Klein Wolf Schröder Neumann Schwarz Braun Zimmermann Krüger Hofmann Hartmann "
    "Lange Schmitt Werner Krause Meier Lehmann Dubois Martin Bernard Rossi Russo Bianchi "
    "Romano Jansen deVries Bakker Visser Smith Jones Taylor Brown Williams Wilson Johnson "
    "Davies Robinson Wright Thompson Evans Walker White Roberts Green Hall Wood Jackson "
    "Clarke Garcia"
).split()


def load(*, orders: int, store_ids: list[int], commerce_orders: int) -> dict:
    """Fill the tables with SQL; returns the seconds each step took."""
    from django.db import connection
    from django.utils import timezone

    from amazon_channel.models import AmazonOrder

    now = timezone.now()
    timings = {}

    def step(name: str, sql: str, parameters: dict | None = None) -> int:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters or {})
            count = cursor.rowcount
        timings[name] = (time.perf_counter() - started, count)
        return count

    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
    names = {"first": FIRST_NAMES, "last": LAST_NAMES}
    step(
        "amazon orders",
        """
        WITH base AS (
            SELECT g,
                   (%(stores)s::bigint[])[1 + (g %% cardinality(%(stores)s::bigint[]))] AS store_id,
                   %(now)s::timestamptz - random() * interval '730 days' AS purchase_date,
                   random() AS r_status,
                   random() AS r_total,
                   (%(first)s::text[])[1 + floor(random() * cardinality(%(first)s::text[]))::int]
                       AS first_name,
                   (%(last)s::text[])[1 + floor(random() * cardinality(%(last)s::text[]))::int]
                       AS last_name
            FROM generate_series(1, %(orders)s) AS g
        ), dated AS (
            SELECT *,
                   CASE
                       -- the last week: still open, mostly
                       WHEN purchase_date > %(now)s::timestamptz - interval '7 days' THEN
                           CASE WHEN r_status < 0.40 THEN 'Unshipped'
                                WHEN r_status < 0.55 THEN 'Pending'
                                WHEN r_status < 0.58 THEN 'PendingAvailability'
                                WHEN r_status < 0.63 THEN 'PartiallyShipped'
                                WHEN r_status < 0.70 THEN 'Canceled'
                                ELSE 'Shipped' END
                       ELSE
                           CASE WHEN r_status < 0.88 THEN 'Shipped'
                                WHEN r_status < 0.97 THEN 'Canceled'
                                WHEN r_status < 0.99 THEN 'Unfulfillable'
                                ELSE 'Unshipped' END
                   END AS status
            FROM base
        )
        INSERT INTO amazon_channel_amazonorder (
            store_id, amazon_order_id, marketplace_id, status, fulfillment_channel,
            purchase_date, last_update_date, latest_ship_date, ship_service_level,
            buyer_name, buyer_email, shipping_address, is_shipping_address_edited,
            order_total, currency, number_of_items_shipped, number_of_items_unshipped,
            is_prime, is_business_order, is_premium_order, is_replacement_order,
            is_buyer_requested_cancellation, buyer_cancellation_reason, order_notes,
            channel_notes, commerce_import_error, needs_attention, commerce_order_id,
            raw_payload, created_at, updated_at
        )
        SELECT
            store_id,
            lpad((100 + g %% 900)::text, 3, '0') || '-' || lpad(g::text, 7, '0') || '-'
                || lpad(((g::bigint * 7919) %% 10000000)::text, 7, '0'),
            'A1PA6795UKMFR9',
            status,
            CASE WHEN g %% 4 = 0 THEN 'AFN' ELSE 'MFN' END,
            purchase_date,
            purchase_date + random() * interval '3 days',
            purchase_date + interval '2 days',
            CASE WHEN g %% 3 = 0 THEN 'Expedited' ELSE 'Std DE Dom' END,
            CASE WHEN status IN ('Pending', 'PendingAvailability') THEN ''
                 ELSE first_name || ' ' || last_name END,
            lower(first_name) || '.' || g || '@marketplace.amazon.de',
            jsonb_build_object(
                'name', first_name || ' ' || last_name,
                'addressLine1', 'Hauptstraße ' || (g %% 200 + 1),
                'city', (ARRAY['Berlin','Hamburg','München','Köln','Paris','Milano','Amsterdam'])
                    [1 + g %% 7],
                'postalCode', lpad((g %% 99999)::text, 5, '0'),
                'countryCode', 'DE'
            ),
            false,
            CASE WHEN status IN ('Pending', 'PendingAvailability') THEN NULL
                 ELSE round((5 + r_total * r_total * 495)::numeric, 2) END,
            'EUR',
            CASE WHEN status = 'Shipped' THEN 1 + g %% 3 ELSE 0 END,
            CASE WHEN status IN ('Unshipped', 'PartiallyShipped') THEN 1 + g %% 2 ELSE 0 END,
            g %% 3 = 0, g %% 17 = 0, false, false,
            status = 'Unshipped' AND g %% 97 = 0,
            CASE WHEN status = 'Unshipped' AND g %% 97 = 0 THEN 'Found a better price' ELSE '' END,
            '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, g %% 5000 = 0, NULL,
            %(raw_payload)s,
            purchase_date + interval '5 minutes',
            purchase_date + interval '5 minutes'
        FROM dated
        """,
        {
            "stores": store_ids,
            "now": now,
            "orders": orders,
            # What CompressedJSONField stores for a (small) payload.
            "raw_payload": AmazonOrder._meta.get_field("raw_payload").get_prep_value(
                {"salesChannel": "Amazon.de"}
            ),
            **names,
        },
    )
    step(
        "orders per day (the cards' chart)",
        """
        INSERT INTO amazon_channel_storeorderday (store_id, day, order_count)
        SELECT store_id, (purchase_date AT TIME ZONE 'UTC')::date, count(*)
        FROM amazon_channel_amazonorder
        GROUP BY 1, 2
        """,
    )
    step(
        "items (20% of orders)",
        """
        INSERT INTO amazon_channel_amazonorderitem (
            order_id, order_item_id, asin, seller_sku, title, condition, quantity_ordered,
            quantity_shipped, item_price, item_tax, shipping_price
        )
        SELECT o.id, lpad(o.id::text, 12, '0') || k, 'B0' || lpad((o.id %% 9973)::text, 8, '0'),
               'SKU-' || (o.id %% 500), 'Product ' || (o.id %% 500) || ' with a realistic title',
               'New', 1 + k %% 2, CASE WHEN o.status = 'Shipped' THEN 1 + k %% 2 ELSE 0 END,
               round((coalesce(o.order_total, 20) / (1 + o.id %% 3))::numeric, 2), 0, 0
        FROM amazon_channel_amazonorder o
        CROSS JOIN LATERAL generate_series(1, 1 + (o.id %% 3)::int) AS k
        WHERE o.id %% 5 = 0
        """,
    )
    step(
        "events (10% of orders)",
        """
        INSERT INTO amazon_channel_amazonorderevent (
            order_id, kind, actor_id, old_status, new_status, notes, message, created_at
        )
        SELECT o.id,
               CASE k WHEN 1 THEN 'imported' WHEN 2 THEN 'status_changed' ELSE 'updated' END,
               NULL,
               CASE k WHEN 1 THEN '' ELSE 'Unshipped' END,
               CASE k WHEN 1 THEN 'Unshipped' ELSE o.status END,
               '[]'::jsonb, '', o.purchase_date + k * interval '1 hour'
        FROM amazon_channel_amazonorder o
        CROSS JOIN LATERAL generate_series(1, 1 + (o.id %% 3)::int) AS k
        WHERE o.id %% 10 = 0
        """,
    )
    step(
        "cancellation outbox messages",
        """
        INSERT INTO amazon_channel_outboxmessage (
            store_id, kind, key, payload, state, feed_id, feed_message_id, result,
            lease_holder, lease_expires_at, created_at, updated_at
        )
        SELECT o.store_id, 'cancel_order', 'cancel:' || o.id, '{}'::jsonb,
               CASE WHEN o.id %% 7 = 0 THEN 'pending' ELSE 'done' END, NULL, NULL, '', '',
               NULL, o.last_update_date, o.last_update_date
        FROM amazon_channel_amazonorder o
        WHERE o.status = 'Canceled' AND o.id %% 20 = 0
        """,
    )
    step(
        "cancellations",
        """
        INSERT INTO amazon_channel_amazonordercancellation (
            order_id, store_id, reason, state, requested_by_id, requested_at, outbox_message_id,
            amazon_message, resolved_at, is_rejection_acknowledged,
            buyer_email_attempts, buyer_email_error, buyer_emailed_at
        )
        SELECT o.id, o.store_id, 'NoInventory',
               CASE WHEN o.id %% 7 = 0 THEN 'pending'
                    WHEN o.id %% 11 = 0 THEN 'rejected' ELSE 'confirmed' END,
               NULL, m.created_at, m.id, '', m.created_at + interval '1 hour', o.id %% 2 = 0,
               0, '', CASE WHEN o.id %% 7 <> 0 AND o.id %% 11 <> 0
                           THEN m.created_at + interval '1 hour' END
        FROM amazon_channel_outboxmessage m
        JOIN amazon_channel_amazonorder o ON m.key = 'cancel:' || o.id
        """,
    )
    step(
        "commerce orders",
        """
        INSERT INTO commerce_orders_commerceorder (
            increment_id, state, status, customer_id, customer_email, customer_name, currency,
            payment_method, po_number, shipping_method, subtotal, shipping_amount, tax_amount,
            grand_total, total_paid, total_refunded, external_channel, external_order_id,
            hold_before_state, hold_before_status, created_at, updated_at
        )
        SELECT lpad(o.id::text, 9, '0'), s.state, s.state, NULL, o.buyer_email, o.buyer_name,
               o.currency, 'amazon', '', o.ship_service_level,
               coalesce(o.order_total, 0), 0, 0, coalesce(o.order_total, 0),
               coalesce(o.order_total, 0), 0, 'amazon', o.amazon_order_id, '', '',
               o.purchase_date + interval '6 minutes', o.last_update_date
        FROM amazon_channel_amazonorder o
        CROSS JOIN LATERAL (
            SELECT CASE o.status WHEN 'Shipped' THEN 'complete' WHEN 'Canceled' THEN 'canceled'
                                 WHEN 'Unshipped' THEN 'processing'
                                 WHEN 'PartiallyShipped' THEN 'processing' ELSE 'new' END AS state
        ) s
        WHERE o.id %% 5 = 0 AND o.status NOT IN ('Pending', 'PendingAvailability')
        ORDER BY o.id
        LIMIT %(limit)s
        """,
        {"limit": commerce_orders},
    )
    step(
        "commerce addresses",
        """
        INSERT INTO commerce_orders_orderaddress (
            order_id, address_type, name, street, city, region, postal_code, country_code, phone
        )
        SELECT c.id, t.address_type, c.customer_name, 'Hauptstraße ' || (c.id %% 200 + 1),
               'Berlin', '', lpad((c.id %% 99999)::text, 5, '0'), 'DE', ''
        FROM commerce_orders_commerceorder c
        CROSS JOIN (VALUES ('billing'), ('shipping')) AS t(address_type)
        """,
    )
    # Statistics first, or the planner joins a million rows with a nested loop.
    step("ANALYZE", "ANALYZE amazon_channel_amazonorder, commerce_orders_commerceorder")
    step(
        "amazon -> commerce links",
        """
        UPDATE amazon_channel_amazonorder o SET commerce_order_id = c.id
        FROM commerce_orders_commerceorder c
        WHERE c.external_channel = 'amazon' AND c.external_order_id = o.amazon_order_id
        """,
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        # Write the load's dirty pages out now, not during the first pages measured.
        cursor.execute("CHECKPOINT")
    timings["VACUUM ANALYZE, CHECKPOINT"] = (time.perf_counter() - started, 0)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def measure(client, url: str, *, requests: int, warmup: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    slowest_query = max(captured.captured_queries, key=lambda query: float(query["time"]))
    return {
        "median": statistics.median(times),
        "p95": percentile(times, 0.95),
        "queries": len(captured.captured_queries),
        "slowest_query_ms": float(slowest_query["time"]) * 1000,
        "slowest_query": slowest_query["sql"],
        "content": response.content,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--commerce-orders", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--admin-requests",
        type=int,
        default=10,
        help="timed requests per admin changelist (slow at 1M rows; default 10)",
    )
    parser.add_argument("--target-ms", type=float, default=50.0)
    parser.add_argument(
        "--show-slow-queries", action="store_true", help="print the slowest SQL of missed pages"
    )
    arguments = parser.parse_args()

    with bench_django("dashboard_pages") as info:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        from amazon_channel.models import AmazonOrder, AmazonOrderEvent, AmazonOrderItem
        from commerce_orders.models import CommerceOrder

        if info.vendor != "postgresql":
            print("DATABASE_URL must point at PostgreSQL")
            return 2
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT version(), current_setting('shared_buffers'), current_setting('work_mem')"
            )
            version, shared_buffers, work_mem = cursor.fetchone()
        print(
            f"server: {version.split(',')[0]}, shared_buffers={shared_buffers}, work_mem={work_mem}"
        )

        stores = [
            store_create(name=f"Bench store {number:02d}", seller_id=f"A{number:02d}BENCHSELLER")
            for number in range(1, arguments.stores + 1)
        ]
        started = time.perf_counter()
        timings = load(
            orders=arguments.orders,
            store_ids=[store.pk for store in stores],
            commerce_orders=arguments.commerce_orders,
        )
        load_seconds = time.perf_counter() - started
        for name, (seconds, rows) in timings.items():
            print(f"load: {name:<30} {rows:>9} rows {seconds:7.1f}s")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('amazon_channel_amazonorder')), "
                "pg_size_pretty(pg_database_size(current_database()))"
            )
            table_size, database_size = cursor.fetchone()
        print(
            f"load: {AmazonOrder.objects.count()} Amazon orders, "
            f"{AmazonOrderItem.objects.count()} items, {AmazonOrderEvent.objects.count()} events, "
            f"{CommerceOrder.objects.count()} Commerce orders in {load_seconds:.1f}s "
            f"(orders table with indexes {table_size}, database {database_size})"
        )

        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "unused")
        client = Client()
        client.force_login(user)

        store = stores[0]
        busiest_store_name = (
            AmazonOrder.objects.filter(store=store)
            .exclude(buyer_name="")
            .order_by("-purchase_date")
            .values_list("buyer_name", flat=True)[37]
        )
        known = AmazonOrder.objects.filter(store=store).order_by("-purchase_date")[500]
        order_number_part = known.amazon_order_id.split("-")[1]  # the middle 7 digits
        # A recent order with the most items and events the load gives (3 of each: pk % 3 == 2).
        candidates = AmazonOrder.objects.filter(
            store=store, events__isnull=False, items__isnull=False, commerce_order__isnull=False
        ).order_by("-purchase_date", "-id")
        detail_order = next(
            (order for order in candidates.distinct()[:60] if order.pk % 3 == 2),
            candidates.first(),
        )
        a_year_ago = known.purchase_date.date().replace(year=known.purchase_date.year - 1)
        month_from = a_year_ago.replace(day=1)
        month_to = (month_from.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(
            days=1
        )
        commerce_search = (
            CommerceOrder.objects.exclude(customer_name="")
            .order_by("-created_at")[100]
            .customer_name
        )

        store_orders = reverse("dashboard:order_list", args=[store.pk])
        admin_amazon = reverse("admin:amazon_channel_amazonorder_changelist")
        admin_commerce = reverse("admin:commerce_orders_commerceorder_changelist")
        try:
            commerce_grid = reverse("dashboard:commerce_order_list")
        except NoReverseMatch:
            commerce_grid = None
            print("note: dashboard:commerce_order_list does not exist: its rows are skipped")

        quoted_name = busiest_store_name.replace(" ", "+")
        print(
            f"inputs: store {store.pk}; buyer {busiest_store_name!r}; order number part "
            f"{order_number_part!r}; month {month_from}..{month_to}; details order "
            f"{detail_order.pk} ({detail_order.items.count()} items, "
            f"{detail_order.events.count()} events); Commerce search {commerce_search!r}"
        )

        # (label, url, the admin page showing the same thing)
        admin_pages = {
            "admin Amazon: no filter": admin_amazon,
            "admin Amazon: ?q=buyer": f"{admin_amazon}?q={quoted_name}",
            "admin Amazon: ?q=order number": f"{admin_amazon}?q={order_number_part}",
            "admin Amazon: ?status__exact=Unshipped": f"{admin_amazon}?status__exact=Unshipped",
            "admin Amazon: ?status__exact=Canceled": f"{admin_amazon}?status__exact=Canceled",
            "admin Amazon: date month": (
                f"{admin_amazon}?purchase_date__year={month_from.year}"
                f"&purchase_date__month={month_from.month}"
            ),
            "admin Amazon: ?store=": f"{admin_amazon}?store__id__exact={store.pk}",
            "admin Amazon: sort by total": f"{admin_amazon}?o=-7",
            "admin Amazon: page 2": f"{admin_amazon}?p=2",
            "admin Amazon: change page": reverse(
                "admin:amazon_channel_amazonorder_change", args=[detail_order.pk]
            ),
            "admin Commerce: no filter": admin_commerce,
            "admin Commerce: ?q=name": f"{admin_commerce}?q={commerce_search.replace(' ', '+')}",
            "admin Commerce: ?status__exact=processing": (
                f"{admin_commerce}?status__exact=processing"
            ),
        }
        pages = [
            ("Store cards (/)", reverse("dashboard:store_list"), "admin Amazon: no filter"),
            (
                "Store dashboard + Recent Orders",
                reverse("dashboard:store_detail", args=[store.pk]),
                "admin Amazon: ?store=",
            ),
            ("All Orders: no filter", store_orders, "admin Amazon: ?store="),
            (
                "All Orders: purchase date range",
                f"{store_orders}?purchase_date_from={month_from}&purchase_date_to={month_to}",
                "admin Amazon: date month",
            ),
            (
                "All Orders: order number",
                f"{store_orders}?order_number={order_number_part}",
                "admin Amazon: ?q=order number",
            ),
            (
                "All Orders: buyer's name",
                f"{store_orders}?buyer_name={quoted_name}",
                "admin Amazon: ?q=buyer",
            ),
            (
                "All Orders: total range",
                f"{store_orders}?total_min=100&total_max=120",
                "admin Amazon: ?store=",
            ),
            (
                "All Orders: status Unshipped",
                f"{store_orders}?status=Unshipped",
                "admin Amazon: ?status__exact=Unshipped",
            ),
            (
                "All Orders: status Canceled",
                f"{store_orders}?status=Canceled",
                "admin Amazon: ?status__exact=Canceled",
            ),
            (
                "All Orders: sort grand total",
                f"{store_orders}?sort=grand_total&direction=desc",
                "admin Amazon: sort by total",
            ),
            ("All Orders: page 2 (Next)", None, "admin Amazon: page 2"),
            (
                "Amazon Order Details",
                reverse("dashboard:order_detail", args=[store.pk, detail_order.pk]),
                "admin Amazon: change page",
            ),
        ]
        if commerce_grid:
            pages += [
                ("Commerce grid: no filter", commerce_grid, "admin Commerce: no filter"),
                (
                    "Commerce grid: search name",
                    f"{commerce_grid}?search={commerce_search.replace(' ', '+')}",
                    "admin Commerce: ?q=name",
                ),
                (
                    "Commerce grid: status processing",
                    f"{commerce_grid}?status=processing",
                    "admin Commerce: ?status__exact=processing",
                ),
            ]

        print(
            f"measuring: {arguments.warmup} warm-up + {arguments.requests} timed requests per "
            f"dashboard page ({min(arguments.warmup, 1)} + {arguments.admin_requests} per admin "
            f"changelist), then 1 more for the query count; times in ms"
        )
        results = {}
        for label, url in admin_pages.items():
            results[label] = measure(
                client, url, requests=arguments.admin_requests, warmup=min(arguments.warmup, 1)
            )
            results[label]["url"] = url
        for label, url, _admin in pages:
            if url is None:  # page 2: the Next link of the first page
                first = results["All Orders: no filter"]["content"].decode()
                found = re.search(r'rel="next" href="([^"]+)"', first)
                if not found:
                    raise RuntimeError("All Orders has no Next link")
                url = store_orders + html.unescape(found.group(1))
            results[label] = measure(
                client, url, requests=arguments.requests, warmup=arguments.warmup
            )
            results[label]["url"] = url

        print()
        header = (
            f"{'page':<36} {'median ms':>9} {'p95 ms':>8} {'queries':>7}   "
            f"{'admin counterpart':<40} {'median':>8} {'p95':>8} {'q':>3}  verdict"
        )
        print(header)
        print("-" * len(header))
        misses = []
        for label, _url, admin_label in pages:
            ours, theirs = results[label], results[admin_label]
            is_fast = ours["p95"] < arguments.target_ms
            is_faster = ours["p95"] < theirs["p95"]
            reasons = []
            if not is_fast:
                reasons.append(f"p95>={arguments.target_ms:g}ms")
            if not is_faster:
                reasons.append("not faster than admin")
            if reasons:
                misses.append(label)
            print(
                f"{label:<36} {ours['median']:>9.1f} {ours['p95']:>8.1f} {ours['queries']:>7}   "
                f"{admin_label:<40} {theirs['median']:>8.1f} {theirs['p95']:>8.1f} "
                f"{theirs['queries']:>3}  {verdict(not reasons)}"
                + (f" ({', '.join(reasons)})" if reasons else "")
            )
        print()
        print("admin changelists alone:")
        for label in admin_pages:
            result = results[label]
            print(
                f"  {label:<44} median {result['median']:7.1f} ms  p95 {result['p95']:7.1f} ms  "
                f"{result['queries']:>3} queries  slowest query {result['slowest_query_ms']:.1f} ms"
            )
        print()
        print("slowest query of each dashboard page (from the counted request):")
        for label, _url, _admin in pages:
            result = results[label]
            print(f"  {label:<36} {result['slowest_query_ms']:7.1f} ms  url {result['url']}")
            if arguments.show_slow_queries and label in misses:
                sql = result["slowest_query"]
                # The column list says little: from FROM on is what the planner works with.
                print(f"      SELECT ... {sql[sql.find(' FROM ') :][:1200]}")  # noqa: S608
        print()
        print(
            f"RESULT dashboard_pages orders={arguments.orders} stores={arguments.stores} "
            f"pages={len(pages)} missed={len(misses)}"
            + (f" ({'; '.join(misses)})" if misses else "")
            + f" target=p95<{arguments.target_ms:g}ms-and-faster-than-admin {verdict(not misses)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
