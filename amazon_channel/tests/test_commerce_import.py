"""Import Amazon Orders a page at a time: the same rows as the one-order path, in a few queries
per page, with its guarantees (no duplicate, no oversold stock, a blocked order noted)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from amazon_channel.models import AmazonOrder, AmazonOrderEvent, Store
from amazon_channel.orders.commerce_import import (
    amazon_order_commerce_follow,
    commerce_orders_follow,
)
from amazon_channel.orders.upsert import amazon_orders_upsert
from amazon_channel.tests.factories import StoreFactory
from amazon_channel.tests.test_services_orders import order_payload
from commerce_orders.models import (
    CommerceOrder,
    CommerceOrderEvent,
    CommerceOrderItem,
    CommerceSequence,
    Customer,
    Invoice,
    InvoiceItem,
    OrderAddress,
    Product,
    StockReservation,
)
from commerce_orders.notes import notes_text
from commerce_orders.services import StockLine, stock_reserve
from tests.concurrency import run_concurrently

ECHO, FIRE = "ECHO-DOT-4-CHARCOAL", "FIRE-TV-4K-2021"  # 2 and 1 units per example order


def catalog(*, echo: int = 1000, fire: int = 1000) -> None:
    for sku, stock in ((ECHO, echo), (FIRE, fire)):
        Product.objects.update_or_create(
            sku=sku, defaults={"name": sku, "price": "49.99", "quantity_in_stock": stock}
        )


def page_store(store: Store, payloads: list[dict]) -> list[int]:
    amazon_orders_upsert(store=store, payloads=payloads)
    ids = {payload["orderId"] for payload in payloads}
    return list(
        AmazonOrder.objects.filter(store=store, amazon_order_id__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _rows(queryset, *, drop=(), **renamed) -> list[dict]:
    rows = []
    for row in queryset.values(*renamed.values(), *_columns(queryset.model, drop)):
        for name, source in renamed.items():
            row[name] = row.pop(source)
        rows.append(row)
    return sorted(rows, key=repr)


def _columns(model, drop) -> list[str]:
    skipped = {"id", "created_at", "updated_at", *drop}
    return [
        field.attname
        for field in model._meta.concrete_fields
        if field.attname not in skipped and not field.is_relation
    ]


def commerce_snapshot(store: Store) -> dict:
    """Every row the import writes, by natural keys (ids and times differ between runs)."""
    return {
        "orders": _rows(
            CommerceOrder.objects.all(),
            customer="customer__email",
            created="created_at",
        ),
        "addresses": _rows(OrderAddress.objects.all(), order="order__increment_id"),
        "items": _rows(
            CommerceOrderItem.objects.all(), order="order__increment_id", product="product__sku"
        ),
        "invoices": _rows(Invoice.objects.all(), order="order__increment_id"),
        "invoice_items": _rows(
            InvoiceItem.objects.all(),
            invoice="invoice__increment_id",
            item="order_item__external_item_id",
        ),
        "events": [
            (
                event.order.increment_id,
                event.action,
                event.old_state,
                event.new_state,
                event.old_status,
                event.new_status,
                repr(event.notes),
            )
            for event in CommerceOrderEvent.objects.select_related("order").order_by(
                "order__increment_id", "id"
            )
        ],
        "products": _rows(Product.objects.all()),
        "reservations": _rows(StockReservation.objects.all(), product="product__sku"),
        "customers": _rows(Customer.objects.all()),
        "sequences": _rows(CommerceSequence.objects.all()),
        "amazon_orders": _rows(
            AmazonOrder.objects.filter(store=store).only("amazon_order_id"),
            drop=("raw_payload",),
            commerce_order="commerce_order__increment_id",
        ),
        "amazon_events": [
            (event.order.amazon_order_id, event.kind, repr(event.notes), event.message)
            for event in AmazonOrderEvent.objects.filter(order__store=store)
            .select_related("order")
            .order_by("order__amazon_order_id", "id")
        ],
    }


def mixed_page(store: Store) -> list[int]:
    """A page of everything the import meets: pending orders first (they reserve), shipped and
    unshipped ones, an unknown SKU, a priceless item, a buyer seen twice, and more Echo Dots
    ordered than the catalog has."""
    payloads = [order_payload(number, status="PENDING") for number in range(2)]
    payloads += [
        order_payload(number, status="SHIPPED" if number % 3 == 0 else "UNSHIPPED")
        for number in range(2, 14)
    ]
    payloads[5]["orderItems"][1]["product"]["sellerSku"] = "NOT-IN-CATALOG"
    del payloads[6]["orderItems"][1]["product"]["price"]
    payloads[7]["buyer"]["buyerEmail"] = "BUYER-EMAIL@marketplace.amazon.com"
    return page_store(store, payloads)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "settings_of_store",
    [
        {},
        {
            "order_number_source": Store.OrderNumberSource.AMAZON,
            "customer_creation": Store.CustomerCreation.NEW_ACCOUNT,
            "order_status_source": Store.OrderStatusSource.CUSTOM,
            "processing_status": "amazon_paid",
        },
    ],
    ids=["default settings", "Amazon numbers, accounts, custom status"],
)
def test_a_page_imported_at_once_writes_the_rows_of_the_one_order_path(settings_of_store):
    # Given a page of mixed orders, 9 Echo Dots for 12 orders of 2, and a reservation held
    # for one of the importable orders
    catalog(echo=17, fire=1000)
    store = StoreFactory(is_import_enabled=True, **settings_of_store)
    order_ids = mixed_page(store)
    reserved = AmazonOrder.objects.get(pk=order_ids[9])
    stock_reserve(reference=f"amazon:{reserved.amazon_order_id}", lines=[StockLine(ECHO, 2)])
    CommerceOrder.objects.create(increment_id="000000003", currency="EUR", payment_method="x")

    # When it goes through the one-order path (then rolled back) and through the page path
    with transaction.atomic():
        orders = (
            AmazonOrder.objects.filter(pk__in=order_ids)
            .select_related("commerce_order")
            .prefetch_related("items")
            .order_by("pk")
        )
        one_by_one = sum(amazon_order_commerce_follow(store=store, order=order) for order in orders)
        expected = commerce_snapshot(store)
        transaction.set_rollback(True)
    at_once = commerce_orders_follow(store=store, order_ids=order_ids)

    # Then both wrote the same orders, items, invoices, events, stock and notes
    assert at_once == one_by_one and 0 < at_once < 10
    assert commerce_snapshot(store) == expected
    blocked = AmazonOrder.objects.filter(pk__in=order_ids, commerce_order__isnull=True)
    assert {notes_text(order.commerce_import_error)[:40] for order in blocked} >= {
        "Commerce order not created: SKU NOT-IN-C",
        "Commerce order not created: SKU ECHO-DOT",
    }


@pytest.mark.django_db
def test_a_page_of_100_orders_costs_at_most_2_queries_per_order():
    catalog()
    store = StoreFactory(is_import_enabled=True)
    order_ids = page_store(
        store,
        [order_payload(n, status="SHIPPED" if n % 2 else "UNSHIPPED") for n in range(100)],
    )

    with CaptureQueriesContext(connection) as queries:
        created = commerce_orders_follow(store=store, order_ids=order_ids)

    assert created == 100
    assert Invoice.objects.count() == 100
    assert len(queries) <= 2 * 100, len(queries)
    # and none of it per order: a page of 100 costs what a page of 10 costs
    smaller = page_store(store, [order_payload(n) for n in range(100, 110)])
    with CaptureQueriesContext(connection) as small_queries:
        commerce_orders_follow(store=store, order_ids=smaller)
    if connection.vendor == "postgresql":  # SQLite splits inserts at 999 parameters
        assert len(queries) == len(small_queries) <= 25, [q["sql"][:60] for q in queries]


@pytest.mark.django_db
def test_a_blocked_order_costs_only_itself_and_is_imported_once_it_can_be():
    catalog()
    store = StoreFactory(is_import_enabled=True)
    payloads = [order_payload(number) for number in range(5)]
    payloads[2]["orderItems"][0]["product"]["sellerSku"] = "NEW-SKU"
    order_ids = page_store(store, payloads)

    assert commerce_orders_follow(store=store, order_ids=order_ids) == 4
    blocked = AmazonOrder.objects.get(pk=order_ids[2])
    assert blocked.commerce_order is None
    assert blocked.commerce_import_error[0]["code"] == "import.not_created_problems"

    Product.objects.create(sku="NEW-SKU", name="New", price="1.00", quantity_in_stock=5)
    assert commerce_orders_follow(store=store, order_ids=order_ids) == 1
    blocked.refresh_from_db()
    assert blocked.commerce_order is not None
    # what stays is Amazon's tip, which Commerce does not hold (test_contract_order_totals)
    assert [note["code"] for note in blocked.commerce_import_error] == ["import.total_differs"]
    assert CommerceOrder.objects.count() == 5
    assert list(
        CommerceOrder.objects.order_by("increment_id").values_list("increment_id", flat=True)
    ) == [f"{number:09d}" for number in range(1, 6)]


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_workers_importing_the_same_page_at_once_create_each_order_once():
    catalog(echo=10_000, fire=10_000)
    store = StoreFactory(is_import_enabled=True)
    order_ids = page_store(store, [order_payload(number) for number in range(100)])

    outcomes = run_concurrently(
        lambda: commerce_orders_follow(store=Store.objects.get(pk=store.pk), order_ids=order_ids),
        4,
    )

    assert sorted(outcomes, key=repr) == [0, 0, 0, 100], outcomes
    assert CommerceOrder.objects.count() == Invoice.objects.count() == 100
    assert AmazonOrder.objects.filter(commerce_order__isnull=True).count() == 0
    assert Product.objects.get(sku=ECHO).quantity_in_stock == 10_000 - 200
    assert Product.objects.get(sku=FIRE).quantity_in_stock == 10_000 - 100
    # gap-free: the numbers are exactly 1..100
    numbers = {f"{number:09d}" for number in range(1, 101)}
    assert set(CommerceOrder.objects.values_list("increment_id", flat=True)) == numbers
    assert set(Invoice.objects.values_list("increment_id", flat=True)) == numbers
    assert (
        AmazonOrderEvent.objects.filter(notes__0__code="history.commerce_order_created").count()
        == 100
    )


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_pages_never_oversell_a_sku():
    # Given 151 Echo Dots (75 orders of 2) for four pages of 50 orders
    catalog(echo=151, fire=10_000)
    store = StoreFactory(is_import_enabled=True)
    pages = [
        page_store(store, [order_payload(number) for number in range(start, start + 50)])
        for start in range(0, 200, 50)
    ]

    outcomes = run_concurrently_each(
        [
            lambda ids=ids: commerce_orders_follow(
                store=Store.objects.get(pk=store.pk), order_ids=ids
            )
            for ids in pages
        ]
    )

    assert sum(outcomes) == 75, outcomes
    assert Product.objects.get(sku=ECHO).quantity_in_stock == 1
    assert Product.objects.get(sku=FIRE).quantity_in_stock == 10_000 - 75
    assert CommerceOrderItem.objects.filter(sku=ECHO).count() == 75
    out_of_stock = AmazonOrder.objects.filter(commerce_order__isnull=True)
    assert out_of_stock.count() == 125
    assert all(
        order.commerce_import_error[0]["code"] == "import.not_created_problems"
        for order in out_of_stock
    )
    numbers = {f"{number:09d}" for number in range(1, 76)}
    assert set(Invoice.objects.values_list("increment_id", flat=True)) == numbers


def run_concurrently_each(workers: list) -> list:
    """Each worker in a thread of its own, released together."""
    remaining = list(workers)

    def next_worker():
        return remaining.pop()()

    return run_concurrently(next_worker, len(workers))


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_page_path_and_the_one_order_path_at_once_create_each_order_once():
    catalog(echo=10_000, fire=10_000)
    store = StoreFactory(is_import_enabled=True)
    order_ids = page_store(store, [order_payload(number) for number in range(40)])

    def one_by_one():
        store_now = Store.objects.get(pk=store.pk)
        orders = AmazonOrder.objects.filter(pk__in=order_ids).prefetch_related("items")
        return sum(
            amazon_order_commerce_follow(store=store_now, order=order)
            for order in orders.order_by("-pk")
        )

    outcomes = run_concurrently_each(
        [
            one_by_one,
            lambda: commerce_orders_follow(
                store=Store.objects.get(pk=store.pk), order_ids=order_ids
            ),
        ]
    )

    assert sum(outcomes) == 40, outcomes
    assert CommerceOrder.objects.count() == Invoice.objects.count() == 40
    assert AmazonOrder.objects.filter(commerce_order__isnull=True).count() == 0
    assert Product.objects.get(sku=ECHO).quantity_in_stock == 10_000 - 80
    assert dict(CommerceSequence.objects.values_list("name", "last_value")) == {
        "order": 40,
        "invoice": 40,
    }
