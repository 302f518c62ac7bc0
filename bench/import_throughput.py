"""Import throughput with rate limits off: amazon_orders_upsert (bulk) against a naive loop.

    .venv/bin/python bench/import_throughput.py [--orders 20000] [--naive-orders N]
        [--page-size 100] [--commerce-orders 1000]

Builds realistic payloads from Amazon's example order (distinct order and item ids), then:
  bulk:  amazon_orders_upsert in pages of 100 into a fresh Store;
  naive: per payload parse_order + AmazonOrder.objects.update_or_create + one
         AmazonOrderItem.objects.update_or_create per item, into a second Store;
each for a first import (inserts) and a re-import of the same payloads with a newer
lastUpdatedTime (updates). Prints orders/s and SQL queries per order side by side. Import is
disabled on both stores (no Commerce orders); --commerce-orders N > 0 also times a store with
Import Amazon Orders enabled and a catalog of the SKUs (commerce_orders_follow after each page),
labelled separately. Targets: bulk/naive >= 10x, bulk >= 1,000 orders/s.
"""

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import PayloadFactory, bench_django, store_create, verdict

RATIO_TARGET = 10.0
BULK_TARGET = 1000.0


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


def bulk_import(store, factory, *, count, page_size, updated_minutes, label, follow=False):
    from amazon_channel.services.commerce import commerce_orders_follow
    from amazon_channel.services.orders import amazon_orders_upsert

    measure = Measure(label)
    created = updated = commerce_created = 0
    for start in range(0, count, page_size):
        size = min(page_size, count - start)
        page = factory.page(start, size, updated_minutes=updated_minutes)  # not timed
        with measure.timing(size):
            result = amazon_orders_upsert(store=store, payloads=page)
            if follow:
                commerce_created += commerce_orders_follow(
                    store=store, order_ids=result.changed_order_ids
                )
        created += result.created
        updated += result.updated
    return measure, created, updated, commerce_created


def naive_import(store, factory, *, count, updated_minutes, label):
    from amazon_channel.models import AmazonOrder, AmazonOrderItem
    from amazon_channel.order_payload import parse_order

    measure = Measure(label)
    for start in range(0, count, 100):
        page = factory.page(start, min(100, count - start), updated_minutes=updated_minutes)
        with measure.timing(len(page)):
            for payload in page:
                parsed = parse_order(payload)
                fields = dict(parsed.fields)
                fields["order_notes"] = "\n".join(parsed.problems)
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
    return measure


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

        bulk_insert, created, _, _ = bulk_import(
            bulk_store,
            factory,
            count=orders,
            page_size=arguments.page_size,
            updated_minutes=0,
            label="bulk insert",
        )
        bulk_update, _, updated, _ = bulk_import(
            bulk_store,
            factory,
            count=orders,
            page_size=arguments.page_size,
            updated_minutes=5,
            label="bulk update",
        )
        naive_insert = naive_import(
            naive_store, factory, count=naive_count, updated_minutes=0, label="naive insert"
        )
        naive_update = naive_import(
            naive_store, factory, count=naive_count, updated_minutes=5, label="naive update"
        )

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
        print(f"  ratio bulk/naive insert: {insert_ratio:6.1f}x   update: {update_ratio:6.1f}x")
        bulk_overall = (bulk_insert.orders + bulk_update.orders) / (
            bulk_insert.seconds + bulk_update.seconds
        )
        print(f"  bulk orders/s overall (insert+update): {bulk_overall:.1f}")

        if arguments.commerce_orders > 0:
            from decimal import Decimal

            from commerce_orders.models import Product

            count = min(arguments.commerce_orders, orders)
            for sku in factory.skus:
                Product.objects.get_or_create(
                    sku=sku,
                    defaults={"name": sku, "price": Decimal("49.99"), "quantity_in_stock": 10**9},
                )
            import_store = store_create(
                name="Bench import enabled", seller_id="ABENCHIMPORT", is_import_enabled=True
            )
            commerce, _, _, commerce_created = bulk_import(
                import_store,
                factory,
                count=count,
                page_size=arguments.page_size,
                updated_minutes=0,
                label="bulk insert + Commerce",
                follow=True,
            )
            print("import enabled (Commerce order per Amazon order, catalog of the SKUs):")
            print(line(commerce) + f"  commerce_orders_created={commerce_created}")

        min_ratio = min(insert_ratio, update_ratio)
        min_bulk = min(bulk_insert.rate, bulk_update.rate)
        print(
            f"RESULT import_throughput bulk_insert={bulk_insert.rate:.0f}/s "
            f"bulk_update={bulk_update.rate:.0f}/s ratio_insert={insert_ratio:.1f}x "
            f"ratio_update={update_ratio:.1f}x targets: ratio>={RATIO_TARGET:.0f}x "
            f"{verdict(min_ratio >= RATIO_TARGET)}, bulk>={BULK_TARGET:.0f}/s "
            f"{verdict(min_bulk >= BULK_TARGET)}" + ("" if is_consistent else " CHECK-FAILED")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
