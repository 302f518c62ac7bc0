import copy
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderEvent,
    AmazonOrderItem,
    AmazonOrderPackage,
    StoreOrderDay,
)
from amazon_channel.orders.upsert import amazon_orders_upsert
from amazon_channel.tests.factories import StoreFactory
from amazon_channel.tests.test_order_payload import example_orders
from commerce_orders.notes import notes_render, notes_text

pytestmark = pytest.mark.django_db

BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def order_payload(number: int, *, status: str = "UNSHIPPED", updated_minutes: int = 0) -> dict:
    payload = copy.deepcopy(example_orders()[0])
    payload["orderId"] = f"305-{number:07d}-0000001"
    payload["createdTime"] = BASE_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    payload["lastUpdatedTime"] = (BASE_TIME + timedelta(minutes=updated_minutes)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    payload["fulfillment"]["fulfillmentStatus"] = status
    if status != "SHIPPED":
        payload.pop("packages", None)
        for item in payload["orderItems"]:
            item.get("fulfillment", {}).pop("quantityFulfilled", None)
    for position, item in enumerate(payload["orderItems"]):
        item["orderItemId"] = f"{number:07d}{position:07d}"
    return payload


def test_a_page_stored_twice_leaves_one_copy_of_every_order_and_item():
    store = StoreFactory()
    page = [order_payload(number) for number in range(5)]

    first = amazon_orders_upsert(store=store, payloads=page)
    second = amazon_orders_upsert(store=store, payloads=page)

    assert (first.created, first.updated) == (5, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    assert AmazonOrder.objects.filter(store=store).count() == 5
    assert AmazonOrderItem.objects.filter(order__store=store).count() == 5 * len(
        page[0]["orderItems"]
    )
    assert AmazonOrderEvent.objects.filter(kind="imported").count() == 5


def test_the_orders_per_day_count_each_order_once_on_the_day_it_was_placed():
    store = StoreFactory()
    other_store = StoreFactory()
    first_day = [order_payload(number) for number in range(3)]
    next_day = [order_payload(number) for number in range(3, 5)]
    for payload in next_day:
        payload["createdTime"] = "2026-11-02T00:30:00Z"

    amazon_orders_upsert(store=store, payloads=first_day + next_day)
    amazon_orders_upsert(store=store, payloads=first_day)  # read again: nothing new
    amazon_orders_upsert(  # newer data for stored orders: still nothing new
        store=store, payloads=[order_payload(0, status="SHIPPED", updated_minutes=30)]
    )
    amazon_orders_upsert(store=other_store, payloads=[order_payload(9)])

    assert sorted(StoreOrderDay.objects.filter(store=store).values_list("day", "order_count")) == [
        (date(2026, 11, 1), 3),
        (date(2026, 11, 2), 2),
    ]
    assert list(
        StoreOrderDay.objects.filter(store=other_store).values_list("day", "order_count")
    ) == [(date(2026, 11, 1), 1)]


def test_older_data_never_overwrites_newer():
    store = StoreFactory()
    amazon_orders_upsert(
        store=store, payloads=[order_payload(1, status="SHIPPED", updated_minutes=30)]
    )

    result = amazon_orders_upsert(store=store, payloads=[order_payload(1, status="UNSHIPPED")])

    assert result.unchanged == 1
    assert AmazonOrder.objects.get().status == "Shipped"


def test_a_newer_status_updates_the_order_and_leaves_an_event():
    store = StoreFactory()
    amazon_orders_upsert(store=store, payloads=[order_payload(1, status="UNSHIPPED")])

    result = amazon_orders_upsert(
        store=store, payloads=[order_payload(1, status="SHIPPED", updated_minutes=5)]
    )

    order = AmazonOrder.objects.get()
    assert result.updated == 1
    assert order.status == "Shipped"
    event = order.events.get(kind="status_changed")
    assert (event.old_status, event.new_status) == ("Unshipped", "Shipped")
    assert AmazonOrderPackage.objects.filter(order=order).exists()


def test_a_surprising_order_is_kept_with_notes_and_the_page_goes_on():
    store = StoreFactory()
    surprising = order_payload(1)
    surprising["fulfillment"]["fulfillmentStatus"] = "TELEPORTED"
    unreadable = order_payload(2)
    unreadable.pop("createdTime")

    result = amazon_orders_upsert(store=store, payloads=[surprising, unreadable, order_payload(3)])

    assert (result.created, result.unreadable, result.with_problems) == (2, 1, 1)
    kept = AmazonOrder.objects.get(amazon_order_id=surprising["orderId"])
    assert kept.status == "Error" and kept.needs_attention
    assert "Unknown order status 'TELEPORTED'." in notes_render(kept.order_notes)
    assert AmazonOrder.objects.filter(amazon_order_id=order_payload(3)["orderId"]).exists()


def test_a_page_costs_the_same_number_of_queries_for_10_or_100_orders(
    django_assert_max_num_queries,
):
    store = StoreFactory()
    amazon_orders_upsert(store=store, payloads=[order_payload(n) for n in range(100)])

    with django_assert_max_num_queries(16):
        amazon_orders_upsert(
            store=store,
            payloads=[order_payload(n, status="SHIPPED", updated_minutes=1) for n in range(100)],
        )
    with django_assert_max_num_queries(16):
        amazon_orders_upsert(store=store, payloads=[order_payload(n) for n in range(100, 200)])


def test_an_address_the_merchant_corrected_survives_later_reads_from_amazon():
    from django.contrib.auth import get_user_model

    from amazon_channel.orders.address_edits import amazon_order_shipping_address_update

    store = StoreFactory()
    amazon_orders_upsert(store=store, payloads=[order_payload(1)])
    merchant = get_user_model().objects.create_user("anna")
    amazon_order_shipping_address_update(
        order=AmazonOrder.objects.get(), actor=merchant, address={"city": "Bonn"}
    )

    amazon_orders_upsert(store=store, payloads=[order_payload(1, updated_minutes=5)])

    assert AmazonOrder.objects.get().shipping_address["city"] == "Bonn"


def test_a_pending_order_is_explained_in_its_notes_and_priced_once_paid():
    from amazon_channel.tests.test_order_payload import pending_without_prices

    store = StoreFactory()
    pending = pending_without_prices(paid=order_payload(1))

    first = amazon_orders_upsert(store=store, payloads=[pending])

    order = AmazonOrder.objects.get()
    assert first.with_problems == 0 and not order.needs_attention
    assert order.order_notes == [{"code": "order.priceless_pending"}]
    assert notes_render(order.order_notes) == [
        "Amazon gives no prices while the order is pending; they will be read when it is paid."
    ]
    assert order.order_total is None

    amazon_orders_upsert(store=store, payloads=[order_payload(1, updated_minutes=10)])

    order.refresh_from_db()
    assert order.status == "Unshipped"
    assert order.order_notes == [] and not order.needs_attention
    assert order.order_total is not None
    assert all(item.item_price is not None for item in order.items.all())


def test_an_amazon_fulfilled_order_without_an_address_is_explained_not_flagged():
    store = StoreFactory()
    payload = order_payload(1)
    payload["fulfillment"]["fulfilledBy"] = "AMAZON"
    payload.pop("recipient")

    result = amazon_orders_upsert(store=store, payloads=[payload])

    order = AmazonOrder.objects.get()
    assert result.with_problems == 0 and not order.needs_attention
    assert notes_render(order.order_notes) == [
        "Amazon fulfils this order and shares no shipping address."
    ]


def test_an_address_the_merchant_completes_clears_the_flag_on_the_next_read():
    from django.contrib.auth import get_user_model

    from amazon_channel.orders.address_edits import amazon_order_shipping_address_update
    from amazon_channel.tests.test_order_payload import without_personal_data

    # Given an order to ship whose name, street and postal code Amazon withheld
    store = StoreFactory()
    payload = without_personal_data("UNSHIPPED")
    amazon_orders_upsert(store=store, payloads=[payload])
    order = AmazonOrder.objects.get()
    assert order.needs_attention and "withheld" in notes_text(order.order_notes)

    # When the merchant completes the address, and Amazon's same order is read again
    merchant = get_user_model().objects.create_user("anna")
    amazon_order_shipping_address_update(
        order=order,
        actor=merchant,
        address={"name": "Erika Muster", "addressLine1": "Weg 1", "postalCode": "10115"},
    )
    again = amazon_orders_upsert(store=store, payloads=[payload])

    # Then the order no longer needs attention, its note is gone, and a further read of the
    # same order changes nothing
    order.refresh_from_db()
    assert again.updated == 1 and again.with_problems == 0
    assert not order.needs_attention
    assert "withheld" not in notes_text(order.order_notes)
    assert order.shipping_address["postalCode"] == "10115"
    assert amazon_orders_upsert(store=store, payloads=[payload]).unchanged == 1


# Rows travel by COPY on PostgreSQL; SQLite's statements follow its parameter limit.
only_postgresql = pytest.mark.postgresql  # the statements of PostgreSQL's COPY path


def _statements(captured) -> list[str]:
    """The kinds of the statements a page ran, savepoints aside (SELECT, COPY ...)."""
    kinds = [query["sql"].split(None, 1)[0].upper() for query in captured.captured_queries]
    return [kind for kind in kinds if kind not in ("SAVEPOINT", "RELEASE")]


@only_postgresql
def test_a_page_of_100_new_orders_is_stored_in_seven_statements():

    store = StoreFactory()
    page = [order_payload(number, status="SHIPPED") for number in range(100)]

    with CaptureQueriesContext(connection) as captured:
        result = amazon_orders_upsert(store=store, payloads=page)

    assert result.created == 100
    # The decision, the orders' keys, then each table's rows by COPY (the days: an upsert).
    assert _statements(captured) == [
        "SELECT",  # stored orders, locked
        "WITH",  # 100 keys from the orders' sequence
        "COPY",  # orders
        "INSERT",  # orders per day
        "COPY",  # events
        "COPY",  # items
        "COPY",  # packages
    ]
    assert AmazonOrderItem.objects.filter(order__store=store).count() == 100 * len(
        page[0]["orderItems"]
    )
    assert AmazonOrderPackage.objects.filter(order__store=store).count() == 100 * len(
        page[0]["packages"]
    )


@only_postgresql
def test_a_page_of_100_changed_orders_is_stored_in_eleven_statements():

    store = StoreFactory()
    amazon_orders_upsert(store=store, payloads=[order_payload(n) for n in range(100)])
    page = [order_payload(n, status="SHIPPED", updated_minutes=5) for n in range(100)]

    with CaptureQueriesContext(connection) as captured:
        result = amazon_orders_upsert(store=store, payloads=page)

    assert result.updated == 100
    staged = ["CREATE", "COPY"]  # the session's staging table, emptied, filled by COPY
    assert _statements(captured) == [
        "SELECT",  # stored orders, locked
        "SELECT",  # pending cancellations
        *staged,
        "UPDATE",  # orders, from the staging table
        "COPY",  # status changes
        *staged,
        "INSERT",  # items: INSERT ... SELECT ... ON CONFLICT DO UPDATE
        *staged,
        "INSERT",  # packages, the same
    ]
    assert AmazonOrder.objects.filter(store=store, status="Shipped").count() == 100
    assert AmazonOrderEvent.objects.filter(kind="status_changed").count() == 100
