"""Import throughput with rate limits off: amazon_orders_upsert (bulk) against a naive loop.

    .venv/bin/python bench/import_throughput.py [--orders 20000] [--naive-orders N]
        [--page-size 100] [--commerce-orders 1000]

Builds realistic payloads from Amazon's example order (distinct order and item ids), then:
  bulk:  amazon_orders_upsert in pages of 100 into a fresh Store;
  naive: per payload parse_order + AmazonOrder.objects.update_or_create + one
         AmazonOrderItem.objects.update_or_create per item, into a second Store;
each for a first import (inserts) and a re-import of the same payloads with a newer
lastUpdatedTime (updates), the naive pages interleaved evenly with the bulk ones so that both
are timed over the same stretch of the run. Prints orders/s and SQL queries per order side by
side. Import is disabled on both stores (no Commerce orders); --commerce-orders N > 0 also
times a store with Import Amazon Orders enabled and a catalog of the SKUs
(commerce_orders_follow after each page), labelled separately: the upsert and the Commerce
import together, and the Commerce import alone, with its own RESULT import_commerce line.
Targets: bulk/naive >= 15x, bulk >= 3,000 orders/s; with Commerce orders >= 1,000 orders/s and
<= 2 queries per order, invoices included.

The machine's load is printed beside the figures: the load average before and after, the cores,
and for each phase the CPU that other processes took meanwhile (/proc/stat's busy time less this
process's and its PostgreSQL backend's). Beside the ratio of the totals, the median of the
ratios of each stretch (a naive page and the bulk pages stored just before it): a minute the
machine is busy moves a few stretches, not the median.
"""

import argparse
import os
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import PayloadFactory, bench_django, store_create, verdict

RATIO_TARGET = 15.0
BULK_TARGET = 3000.0
# Other processes using more than this many cores on average make the figures a busy machine's.
BUSY_CORES = 0.25
# With Import Amazon Orders enabled: orders/s and SQL queries per order, invoices included.
COMMERCE_TARGET = 1000.0
COMMERCE_QUERIES_TARGET = 2.0


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries():
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


class Machine:
    """The CPU time of the whole machine, of this process and of its PostgreSQL backend, from
    /proc (Linux; None elsewhere, or for a database on another machine)."""

    def __init__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0"
            )
            pid = cursor.fetchone()[0]
        self.backend_stat = Path(f"/proc/{pid}/stat") if pid else None
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def busy_seconds(self) -> float | None:
        """CPU seconds the machine has spent busy (all cores), since boot."""
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        except OSError:
            return None
        # user nice system idle iowait irq softirq steal: all but idle and iowait.
        values = [int(value) for value in fields[:8]]
        return (sum(values) - values[3] - values[4]) / self.ticks

    def backend_seconds(self) -> float | None:
        """CPU seconds of this connection's PostgreSQL backend, if it runs on this machine."""
        if self.backend_stat is None:
            return None
        try:
            fields = self.backend_stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self.ticks

    @staticmethod
    def own_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def snapshot(self) -> tuple:
        return (
            time.perf_counter(),
            self.busy_seconds(),
            self.own_seconds(),
            self.backend_seconds(),
        )

    def others(self, before: tuple, after: tuple) -> str:
        """What other processes took between two snapshots, in cores on average."""
        wall = after[0] - before[0]
        if None in (*before, *after) or wall <= 0:
            return "other processes: n/a (no /proc, or the database on another machine)"
        busy, own, backend = (after[i] - before[i] for i in (1, 2, 3))
        others = max(busy - own - backend, 0.0)
        cores = os.cpu_count() or 1
        note = "  BUSY: not an idle machine's figures" if others / wall > BUSY_CORES else ""
        return (
            f"other processes: {others / wall:.2f} of {cores} cores on average "
            f"(machine {busy / wall:.2f}, this process {own / wall:.2f}, "
            f"its PostgreSQL backend {backend / wall:.2f}){note}"
        )


class Measure:
    """Seconds spent in the measured calls and the queries they ran."""

    def __init__(self, label: str):
        self.label = label
        self.seconds = 0.0
        self.queries = 0
        self.orders = 0

    @contextmanager
    def timing(self, orders: int):
        with counting_queries() as counter:
            started = time.perf_counter()
            yield
            self.seconds += time.perf_counter() - started
        self.queries += counter.count
        self.orders += orders

    @property
    def rate(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0

    @property
    def queries_per_order(self) -> float:
        return self.queries / self.orders if self.orders else 0.0


def bulk_page(store, page, measure, *, follow=False) -> tuple[int, int, int]:
    from amazon_channel.orders.commerce_import import commerce_orders_follow
    from amazon_channel.orders.upsert import amazon_orders_upsert

    commerce_created = 0
    with measure.timing(len(page)):
        result = amazon_orders_upsert(store=store, payloads=page)
        if follow:
            commerce_created = commerce_orders_follow(
                store=store, order_ids=result.changed_order_ids
            )
    return result.created, result.updated, commerce_created


def commerce_page(store, page, measure, follow_measure) -> int:
    """A page with Import Amazon Orders enabled: the upsert and the Commerce import together
    (`measure`), and the Commerce import alone (`follow_measure`)."""
    from amazon_channel.orders.commerce_import import commerce_orders_follow
    from amazon_channel.orders.upsert import amazon_orders_upsert

    with measure.timing(len(page)):
        result = amazon_orders_upsert(store=store, payloads=page)
        with follow_measure.timing(len(page)):
            return commerce_orders_follow(store=store, order_ids=result.changed_order_ids)


def naive_page(store, page, measure) -> None:
    from amazon_channel.models import AmazonOrder, AmazonOrderItem
    from amazon_channel.spapi.order_payload import parse_order

    with measure.timing(len(page)):
        for payload in page:
            parsed = parse_order(payload)
            fields = dict(parsed.fields)
            fields["order_notes"] = [*parsed.problems, *parsed.notes]
            fields["needs_attention"] = bool(parsed.problems)
            order, _ = AmazonOrder.objects.update_or_create(
                store=store, amazon_order_id=parsed.amazon_order_id, defaults=fields
            )
            for values in parsed.items:
                values = dict(values)
                item_id = values.pop("order_item_id")
                AmazonOrderItem.objects.update_or_create(
                    order=order, order_item_id=item_id, defaults=values
                )


def side_by_side(bulk_store, naive_store, factory, *, count, naive_count, page_size, phase):
    """One phase (insert or update) of both paths, their pages interleaved evenly so that both
    are measured over the same minutes of this machine, whatever else it does meanwhile."""
    updated_minutes = 0 if phase == "insert" else 5
    bulk = Measure(f"bulk {phase}")
    naive = Measure(f"naive {phase}")
    bulk_starts = list(range(0, count, page_size))
    naive_starts = list(range(0, naive_count, 100))
    created = updated = 0
    naive_done = 0
    # Each stretch: the bulk pages stored since the last naive page, then a naive page.
    stretch_ratios = []
    stretch_start = (0.0, 0)
    for position, start in enumerate(bulk_starts, start=1):
        # Building a page is not timed, storing it is.
        page = factory.page(start, min(page_size, count - start), updated_minutes=updated_minutes)
        page_created, page_updated, _ = bulk_page(bulk_store, page, bulk)
        created += page_created
        updated += page_updated
        # The naive pages due by this point of the bulk run.
        while naive_done < len(naive_starts) * position // len(bulk_starts):
            naive_start = naive_starts[naive_done]
            size = min(100, naive_count - naive_start)
            naive_seconds = naive.seconds
            naive_page(
                naive_store,
                factory.page(naive_start, size, updated_minutes=updated_minutes),
                naive,
            )
            naive_done += 1
            bulk_seconds = bulk.seconds - stretch_start[0]
            bulk_orders = bulk.orders - stretch_start[1]
            if bulk_orders and bulk_seconds > 0:
                naive_per_order = (naive.seconds - naive_seconds) / size
                stretch_ratios.append(naive_per_order / (bulk_seconds / bulk_orders))
                stretch_start = (bulk.seconds, bulk.orders)
    return bulk, naive, created, updated, stretch_ratios


def line(measure: Measure) -> str:
    return (
        f"  {measure.label:<28} orders={measure.orders:>7}  wall={measure.seconds:8.2f}s  "
        f"orders/s={measure.rate:9.1f}  queries/order={measure.queries_per_order:7.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument(
        "--naive-orders",
        type=int,
        default=None,
        help="payloads for the naive loop (default: --orders)",
    )
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--commerce-orders",
        type=int,
        default=1000,
        help="also time N orders with Import Amazon Orders enabled (0: skip)",
    )
    arguments = parser.parse_args()
    naive_count = arguments.naive_orders or arguments.orders

    with bench_django("import_throughput") as info:
        from amazon_channel.models import AmazonOrder, AmazonOrderItem

        print(f"database vendor: {info.vendor}  (target machine: 2 cores)")
        if info.vendor != "postgresql":
            print("note: the targets are stated for PostgreSQL; this run is on", info.vendor)
        factory = PayloadFactory()
        bulk_store = store_create(name="Bench bulk", seller_id="ABENCHBULK")
        naive_store = store_create(name="Bench naive", seller_id="ABENCHNAIVE")
        orders = arguments.orders
        print(
            f"payloads: {orders} bulk, {naive_count} naive, "
            f"{len(factory.skus)} items per order, page size {arguments.page_size}"
        )
        load_before = os.getloadavg()
        print(
            f"machine: {os.cpu_count()} cores, load average before "
            f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} (1, 5, 15 min)"
        )
        machine = Machine()
        phases = {}
        others = {}
        for phase in ("insert", "update"):
            before = machine.snapshot()
            phases[phase] = side_by_side(
                bulk_store,
                naive_store,
                factory,
                count=orders,
                naive_count=naive_count,
                page_size=arguments.page_size,
                phase=phase,
            )
            others[phase] = machine.others(before, machine.snapshot())
        bulk_insert, naive_insert, created, _, insert_stretches = phases["insert"]
        bulk_update, naive_update, _, updated, update_stretches = phases["update"]
        load_after = os.getloadavg()

        # Both paths must have stored the same thing.
        bulk_orders = AmazonOrder.objects.filter(store=bulk_store).count()
        bulk_items = AmazonOrderItem.objects.filter(order__store=bulk_store).count()
        naive_orders = AmazonOrder.objects.filter(store=naive_store).count()
        print(
            f"check: bulk created={created} updated={updated} rows={bulk_orders} "
            f"items={bulk_items}; naive rows={naive_orders}"
        )
        is_consistent = (
            created == orders
            and updated == orders
            and bulk_orders == orders
            and bulk_items == orders * len(factory.skus)
            and naive_orders == naive_count
        )

        print("import disabled (no Commerce orders):")
        for measure in (bulk_insert, naive_insert, bulk_update, naive_update):
            print(line(measure))
        insert_ratio = bulk_insert.rate / naive_insert.rate
        update_ratio = bulk_update.rate / naive_update.rate
        insert_median = statistics.median(insert_stretches) if insert_stretches else 0.0
        update_median = statistics.median(update_stretches) if update_stretches else 0.0
        print(f"  ratio bulk/naive insert: {insert_ratio:6.1f}x   update: {update_ratio:6.1f}x")
        print(
            f"  median of the stretches' ratios insert: {insert_median:6.1f}x   "
            f"update: {update_median:6.1f}x   ({len(insert_stretches)} and "
            f"{len(update_stretches)} stretches)"
        )
        bulk_overall = (bulk_insert.orders + bulk_update.orders) / (
            bulk_insert.seconds + bulk_update.seconds
        )
        print(f"  bulk orders/s overall (insert+update): {bulk_overall:.1f}")
        print(f"  load during insert: {others['insert']}")
        print(f"  load during update: {others['update']}")
        print(
            f"  load average after: {load_after[0]:.2f} {load_after[1]:.2f} "
            f"{load_after[2]:.2f} ({os.cpu_count()} cores)"
        )

        if arguments.commerce_orders > 0:
            from decimal import Decimal

            from commerce_orders.models import Invoice, Product

            count = min(arguments.commerce_orders, orders)
            for sku in factory.skus:
                Product.objects.get_or_create(
                    sku=sku,
                    defaults={"name": sku, "price": Decimal("49.99"), "quantity_in_stock": 10**9},
                )
            import_store = store_create(
                name="Bench import enabled", seller_id="ABENCHIMPORT", is_import_enabled=True
            )
            commerce = Measure("bulk insert + Commerce")
            follow = Measure("Commerce import alone")
            commerce_created = 0
            for start in range(0, count, arguments.page_size):
                page = factory.page(start, min(arguments.page_size, count - start))
                commerce_created += commerce_page(import_store, page, commerce, follow)
            invoices = Invoice.objects.count()
            print("import enabled (Commerce order per Amazon order, catalog of the SKUs):")
            print(line(commerce) + f"  commerce_orders_created={commerce_created}")
            print(line(follow) + f"  invoices={invoices}")
            load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
            is_created = commerce_created == invoices == count
            print(
                f"RESULT import_commerce orders/s={commerce.rate:.0f} "
                f"queries/order={commerce.queries_per_order:.3f} (import alone "
                f"{follow.rate:.0f}/s, {follow.queries_per_order:.3f} q/order) "
                f"targets: >={COMMERCE_TARGET:.0f}/s "
                f"{verdict(commerce.rate >= COMMERCE_TARGET)}, "
                f"<={COMMERCE_QUERIES_TARGET:.0f} q/order "
                f"{verdict(commerce.queries_per_order <= COMMERCE_QUERIES_TARGET)} "
                f"load average {load} on {os.cpu_count()} cores"
                + ("" if is_created else " CHECK-FAILED")
            )

        min_ratio = min(insert_ratio, update_ratio)
        min_bulk = min(bulk_insert.rate, bulk_update.rate)
        print(
            f"RESULT import_throughput bulk_insert={bulk_insert.rate:.0f}/s "
            f"bulk_update={bulk_update.rate:.0f}/s ratio_insert={insert_ratio:.1f}x "
            f"ratio_update={update_ratio:.1f}x (median {insert_median:.1f}x, "
            f"{update_median:.1f}x) load={load_before[0]:.2f}->{load_after[0]:.2f} "
            f"cores={os.cpu_count()} targets: ratio>={RATIO_TARGET:.0f}x "
            f"{verdict(min_ratio >= RATIO_TARGET)}, bulk>={BULK_TARGET:.0f}/s "
            f"{verdict(min_bulk >= BULK_TARGET)}" + ("" if is_consistent else " CHECK-FAILED")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
