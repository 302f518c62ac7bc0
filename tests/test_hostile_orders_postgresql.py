"""Hostile orders on PostgreSQL, where the limits live: one bad order never costs the others.

PostgreSQL refuses NUL in text and jsonb and enforces every column's length (SQLite does
neither). A value that can be cleaned is cleaned; an order whose values cannot be stored as
Amazon sent them is kept with status Error and an Order Note saying what Amazon sent; the rest
of its page lands, and the sync run and the store go on.
"""

import copy
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from amazon_channel.models import AmazonOrder, AmazonOrderItem, AmazonOrderStatus, SyncRun
from amazon_channel.orders.commerce_import import commerce_orders_follow
from amazon_channel.orders.upsert import amazon_orders_upsert
from amazon_channel.tests.factories import StoreFactory
from amazon_channel.tests.test_services_orders import order_payload
from commerce_orders.models import CommerceOrder
from commerce_orders.notes import notes_text
from commerce_orders.tests.factories import ProductFactory
from seller_central_sandbox.models import FulfilledBy, FulfillmentStatus
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import minutes_ago, store_for_seller, sync_to_the_end

pytestmark = pytest.mark.postgresql

HOSTILE_NUMBER = 2
# The longest Order Note a hostile value may produce: never the whole value.
NOTE_LIMIT = 2000


def page_around(hostile: dict, *, size: int = 5) -> list[dict]:
    """A page of `size` of Amazon's example orders with `hostile` in the middle."""
    page = [order_payload(number) for number in range(size) if number != HOSTILE_NUMBER]
    page.insert(HOSTILE_NUMBER, hostile)
    return page


def hostile_payload(change) -> dict:
    payload = order_payload(HOSTILE_NUMBER)
    change(payload)
    return payload


def stored(payload: dict) -> AmazonOrder:
    return AmazonOrder.objects.get(amazon_order_id=payload["orderId"])


def assert_the_others_landed_whole(store, page: list[dict]) -> None:
    for number, payload in enumerate(page):
        if number == HOSTILE_NUMBER:
            continue
        order = stored(payload)
        assert order.status == AmazonOrderStatus.UNSHIPPED, notes_text(order.order_notes)
        assert order.items.count() == len(payload["orderItems"])


def first_item(payload: dict) -> dict:
    return payload["orderItems"][0]


def set_gift_message(payload: dict, message: str) -> None:
    item = first_item(payload)
    item.setdefault("fulfillment", {})["packing"] = {
        "giftOption": {"giftMessage": message, "giftWrapLevel": "CLASSIC"}
    }


def gift_message_stored(order: AmazonOrder) -> str:
    """The first item's gift message in the raw payload, read by PostgreSQL as JSON (jsonb
    refuses \u0000 and lone surrogates: the cast fails if one is left)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT raw_payload::jsonb #>> "
            "'{orderItems,0,fulfillment,packing,giftOption,giftMessage}' "
            "FROM amazon_channel_amazonorder WHERE id = %s",
            [order.pk],
        )
        return cursor.fetchone()[0]


def item_of(order: AmazonOrder, payload: dict) -> AmazonOrderItem:
    return order.items.get(order_item_id=first_item(payload)["orderItemId"])


CLEANABLE = {
    "buyer name": (
        lambda payload: payload["buyer"].update(buyerName="Ann\x00 Smith"),
        lambda order, payload: order.buyer_name == "Ann Smith",
    ),
    "address line": (
        lambda payload: payload["recipient"]["deliveryAddress"].update(
            addressLine1="12 Main\x00 Street\x07"
        ),
        lambda order, payload: order.shipping_address["addressLine1"] == "12 Main Street",
    ),
    # The raw payload stays as Amazon sent it, but for NUL.
    "gift message": (
        lambda payload: set_gift_message(payload, "Happy\x00 birthday\x1b!"),
        lambda order, payload: gift_message_stored(order) == "Happy birthday\x1b!",
    ),
    "title": (
        lambda payload: first_item(payload)["product"].update(title="Echo\x00 Dot\x0b"),
        lambda order, payload: item_of(order, payload).title == "Echo Dot",
    ),
    "surrogate in the SKU": (
        lambda payload: first_item(payload)["product"].update(sellerSku="ECHO-\ud800"),
        lambda order, payload: item_of(order, payload).seller_sku == "ECHO-\ufffd",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("where", list(CLEANABLE))
def test_nul_and_control_characters_are_removed_and_the_whole_page_lands(where):
    change, is_clean = CLEANABLE[where]
    store = StoreFactory()
    hostile = hostile_payload(change)
    page = page_around(hostile)

    result = amazon_orders_upsert(store=store, payloads=page)

    assert result.created == 5
    order = stored(hostile)
    assert order.status == AmazonOrderStatus.UNSHIPPED, notes_text(order.order_notes)
    assert is_clean(order, hostile)
    assert gift_message_stored(order)
    assert_the_others_landed_whole(store, page)


@pytest.mark.django_db
def test_a_ten_thousand_character_sku_makes_only_its_order_an_error_order():
    store = StoreFactory()
    hostile = hostile_payload(
        lambda payload: first_item(payload)["product"].update(sellerSku="S" * 10_000)
    )
    page = page_around(hostile)

    first = amazon_orders_upsert(store=store, payloads=page)
    again = amazon_orders_upsert(store=store, payloads=page)

    assert first.created == 5
    # Stored again: the Error order is written again (it needs attention), the others not.
    assert (again.created, again.updated, again.unchanged) == (0, 1, 4)
    order = stored(hostile)
    assert order.status == AmazonOrderStatus.ERROR
    assert order.needs_attention
    assert "the SKU" in notes_text(order.order_notes) and "10000 characters" in notes_text(
        order.order_notes
    )
    assert "at most 40 characters" in notes_text(order.order_notes)
    assert "S" * 100 not in notes_text(order.order_notes)
    assert len(notes_text(order.order_notes)) < NOTE_LIMIT
    assert AmazonOrder.objects.filter(store=store).count() == 5
    assert_the_others_landed_whole(store, page)


def set_first_package(payload: dict, **values) -> None:
    payload["packages"] = [
        {
            "packageReferenceId": "1",
            "carrier": "UPS",
            "shippingService": "Ground",
            "trackingNumber": "1Z999",
            "shipTime": "2026-11-01T14:00:00Z",
            "packageStatus": {"status": "SHIPPED"},
            "packageItems": [{"orderItemId": first_item(payload)["orderItemId"], "quantity": 1}],
            **values,
        }
    ]


def set_grand_total(amount):
    return lambda payload: payload["proceeds"]["grandTotal"].update(amount=amount)


def set_item_amount(kind: str, amount):
    def change(payload):
        for entry in first_item(payload)["proceeds"]["breakdowns"]:
            if entry["type"] == kind:
                entry["subtotal"]["amount"] = amount

    return change


UNSTORABLE = {
    "order number of 10,000 characters": lambda payload: payload.update(orderId="1" * 10_000),
    "item id of 10,000 characters": lambda payload: first_item(payload).update(
        orderItemId="7" * 10_000
    ),
    "SKU longer than Amazon's 40 characters": lambda payload: first_item(payload)["product"].update(
        sellerSku="S" * 41
    ),
    "SKU that is an object": lambda payload: first_item(payload)["product"].update(
        sellerSku={"sku": "ECHO"}
    ),
    "ASIN of 17 characters": lambda payload: first_item(payload)["product"].update(asin="B" * 17),
    "package reference of 65 characters": lambda payload: set_first_package(
        payload, packageReferenceId="9" * 65
    ),
    "carrier of 65 characters": lambda payload: set_first_package(payload, carrier="C" * 65),
    "tracking number of 129 characters": lambda payload: set_first_package(
        payload, trackingNumber="T" * 129
    ),
    "marketplace id of 21 characters": lambda payload: payload["salesChannel"].update(
        marketplaceId="A" * 21
    ),
    "currency of 4 letters": lambda payload: payload["proceeds"]["grandTotal"].update(
        currencyCode="EURO"
    ),
    "unknown fulfillment channel": lambda payload: payload["fulfillment"].update(
        fulfilledBy="DRONE"
    ),
    "status that is a list": lambda payload: payload["fulfillment"].update(
        fulfillmentStatus=["UNSHIPPED"]
    ),
    "created in year 0": lambda payload: payload.update(createdTime="0000-01-01T00:00:00Z"),
    "updated in year 10000": lambda payload: payload.update(
        lastUpdatedTime="10000-01-01T00:00:00Z"
    ),
    "created on 9999-12-31 west of UTC": lambda payload: payload.update(
        createdTime="9999-12-31T23:00:00-05:00"
    ),
    "garbage ship-by date": lambda payload: payload["fulfillment"]["shipByWindow"].update(
        latestDateTime="tomorrow-ish"
    ),
    "grand total NaN": set_grand_total("NaN"),
    "grand total Infinity as a number": set_grand_total(float("inf")),
    "grand total 1e30": set_grand_total("1e30"),
    "grand total 1e30 as a number": set_grand_total(1e30),
    "grand total with more digits than the column": set_grand_total("12345678901234.5"),
    "grand total with three decimals": set_grand_total("154.995"),
    "negative item price": set_item_amount("ITEM", "-99.98"),
    "quantity -1": lambda payload: first_item(payload).update(quantityOrdered=-1),
    "quantity beyond an integer column": lambda payload: first_item(payload).update(
        quantityOrdered=2**40
    ),
    "quantity 1e30": lambda payload: first_item(payload).update(quantityOrdered=1e30),
    "the same item twice": lambda payload: payload["orderItems"].append(
        copy.deepcopy(first_item(payload))
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("what", list(UNSTORABLE))
def test_an_order_amazon_sent_with_values_that_cannot_be_stored_is_an_error_order(what):
    store = StoreFactory()
    hostile = hostile_payload(UNSTORABLE[what])
    page = page_around(hostile)

    result = amazon_orders_upsert(store=store, payloads=page)
    again = amazon_orders_upsert(store=store, payloads=page)

    assert result.created == 5 and again.created == 0
    [order] = AmazonOrder.objects.filter(store=store, status=AmazonOrderStatus.ERROR)
    assert order.needs_attention
    assert "cannot be stored as they are" in notes_text(order.order_notes)
    assert len(notes_text(order.order_notes)) < NOTE_LIMIT
    assert_the_others_landed_whole(store, page)


# Containers of another shape than Amazon's model cost only what they hold (the order is
# kept, whole): they used to raise in the parser and stop the page.
ODD_SHAPES = {
    "package status as a list": lambda payload: set_first_package(payload, packageStatus=[1]),
    "package items as a string": lambda payload: set_first_package(payload, packageItems="2"),
    "ship-by window as a list": lambda payload: payload["fulfillment"].update(shipByWindow=[]),
    "programs as objects": lambda payload: payload.update(programs=[{"PRIME": True}]),
    "associated orders as strings": lambda payload: payload.update(associatedOrders=["x"]),
    "cancellation as a list": lambda payload: first_item(payload).update(cancellation=[1]),
    "condition as a string": lambda payload: first_item(payload)["product"].update(condition="NEW"),
    "sales channel as a string": lambda payload: payload.update(salesChannel="AMAZON"),
    "order items as an object": lambda payload: payload.update(
        orderItems={"0": first_item(payload)}
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("what", list(ODD_SHAPES))
def test_a_container_of_another_shape_costs_only_what_it_holds(what):
    store = StoreFactory()
    hostile = hostile_payload(ODD_SHAPES[what])
    page = page_around(hostile)

    result = amazon_orders_upsert(store=store, payloads=page)

    assert result.created == 5
    assert stored(hostile).status == AmazonOrderStatus.UNSHIPPED
    assert_the_others_landed_whole(store, page)


@pytest.mark.django_db
def test_a_title_too_long_for_its_column_is_cut_with_a_note_and_the_order_stays_whole():
    store = StoreFactory()
    hostile = hostile_payload(
        lambda payload: first_item(payload)["product"].update(title="T" * 900)
    )

    amazon_orders_upsert(store=store, payloads=page_around(hostile))

    order = stored(hostile)
    assert order.status == AmazonOrderStatus.UNSHIPPED and not order.needs_attention
    item = order.items.get(order_item_id=first_item(hostile)["orderItemId"])
    assert item.title == "T" * AmazonOrderItem._meta.get_field("title").max_length
    assert "the title: Amazon sent 900 characters; the first 500 are kept." in notes_text(
        order.order_notes
    )


@pytest.mark.django_db
def test_an_order_the_database_still_refuses_is_stored_alone_as_an_error_order(caplog):
    # A limit the parser cannot know of (a column narrowed by hand): the page is stored again
    # order by order, and only the refused order becomes an Error order.
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE amazon_channel_amazonorder ALTER COLUMN buyer_name TYPE varchar(12)"
        )
    store = StoreFactory()
    page = [order_payload(number) for number in range(5)]
    for number, payload in enumerate(page):
        payload["buyer"]["buyerName"] = "Bartholomew Longname" if number == 2 else "Ann Smith"

    result = amazon_orders_upsert(store=store, payloads=page)

    assert result.created == 5
    refused = stored(page[2])
    assert refused.status == AmazonOrderStatus.ERROR and refused.needs_attention
    assert "The database refused this order" in notes_text(refused.order_notes)
    assert "value too long" in notes_text(refused.order_notes)
    assert refused.buyer_name == "" and not refused.items.exists()
    for payload in page[:2] + page[3:]:
        assert stored(payload).status == AmazonOrderStatus.UNSHIPPED
        assert stored(payload).items.count() == len(payload["orderItems"])
    assert "storing them one by one" in caplog.text
    assert "Bartholomew" not in caplog.text  # no buyer data in the log


@pytest.mark.django_db
def test_an_error_order_never_gets_a_commerce_order():
    store = StoreFactory(is_import_enabled=True)
    for item in order_payload(0)["orderItems"]:
        ProductFactory(sku=item["product"]["sellerSku"], quantity_in_stock=100)
    hostile = hostile_payload(UNSTORABLE["SKU longer than Amazon's 40 characters"])
    ProductFactory(sku="S" * 40, quantity_in_stock=100)  # the cut SKU must not match a product

    result = amazon_orders_upsert(store=store, payloads=page_around(hostile))
    created = commerce_orders_follow(store=store, order_ids=result.changed_order_ids)

    assert created == 4
    order = stored(hostile)
    assert order.status == AmazonOrderStatus.ERROR and order.commerce_order_id is None
    assert not CommerceOrder.objects.filter(external_order_id=hostile["orderId"]).exists()


def error_tile(html: str) -> str:
    match = re.search(r'data-count="error-orders"[^>]*><a [^>]*><strong>(\d+)</strong>', html)
    assert match, "the store card has no Error tile"
    return match.group(1)


@pytest.fixture
def merchant_client(client, django_user_model):
    user = django_user_model.objects.create_user("hostile-merchant")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_store", "view_amazonorder"])
    )
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_store_card_counts_the_error_orders(merchant_client):
    store = StoreFactory(name="Hostile Shop")
    hostile = hostile_payload(UNSTORABLE["SKU longer than Amazon's 40 characters"])
    amazon_orders_upsert(store=store, payloads=page_around(hostile))

    response = merchant_client.get(reverse("dashboard:store_list"))

    assert response.status_code == 200
    card = response.content.decode().split(f'data-store="{store.pk}"', 1)[1]
    assert error_tile(card) == "1"


# End to end: the sandbox serves the hostile order over HTTP, the real client reads it.

DE = "A1PA6795UKMFR9"
# PostgreSQL cannot hold a NUL, not even in the sandbox's own tables: the sandbox stores this
# stand-in (U+2400 SYMBOL FOR NULL), and the wire carries a real one, as Amazon's JSON may
# (json.dumps writes the stand-in as the six bytes \u2400, a NUL as \u0000).
NUL_STAND_IN = "\u2400"


class NulOnTheWire:
    """Wraps the sandbox's WSGI app: every stand-in becomes \\u0000 in what it answers."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        return [
            chunk.replace(b"\\u2400", b"\\u0000")
            for chunk in self.application(environ, start_response)
        ]


@pytest.mark.django_db(transaction=True)
def test_a_hostile_order_in_the_sandbox_costs_only_itself_and_the_store_goes_on(
    sandbox_server, sandbox_seller_factory, settings, client, django_user_model
):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    orders = orders_generate(seller=seller, count=12, seed=12, now=minutes_ago(5))
    hostile = orders[5]
    hostile.status, hostile.fulfilled_by = FulfillmentStatus.UNSHIPPED, FulfilledBy.MERCHANT
    details = copy.deepcopy(hostile.details)
    details["buyer"]["buyerName"] = f"Eve{NUL_STAND_IN} Hostile"
    hostile.details = details
    hostile.save(update_fields=["status", "fulfilled_by", "details"])
    item = hostile.items.order_by("pk").first()
    item.seller_sku = "X" * 10_000
    item.gift_message = f"Happy{NUL_STAND_IN} birthday"
    item.save(update_fields=["seller_sku", "gift_message"])
    sandbox_server.recorder.application = NulOnTheWire(sandbox_server.recorder.application)
    store = store_for_seller(sandbox_server, seller)

    run = sync_to_the_end(store)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert any(
        b"\\u0000" in exchange.body and b"X" * 10_000 in exchange.body
        for exchange in sandbox_server.exchanges
    ), "the sandbox did not serve the hostile order"
    store.refresh_from_db()
    assert store.orders_watermark == run.window_end
    assert AmazonOrder.objects.filter(store=store).count() == 12
    error_order = AmazonOrder.objects.get(store=store, amazon_order_id=hostile.order_id)
    assert error_order.status == AmazonOrderStatus.ERROR
    assert "the SKU" in notes_text(error_order.order_notes) and "10000 characters" in notes_text(
        error_order.order_notes
    )
    assert len(notes_text(error_order.order_notes)) < NOTE_LIMIT
    assert "\x00" not in error_order.buyer_name and error_order.buyer_name.startswith("Eve")
    others = AmazonOrder.objects.filter(store=store).exclude(pk=error_order.pk)
    assert not others.filter(status=AmazonOrderStatus.ERROR).exists()
    for order in others:
        assert order.items.exists()

    user = django_user_model.objects.create_user("hostile-merchant")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_store", "view_amazonorder"])
    )
    client.force_login(user)
    card = client.get(reverse("dashboard:store_list")).content.decode()
    assert error_tile(card.split(f'data-store="{store.pk}"', 1)[1]) == "1"

    second = sync_to_the_end(store)

    assert second.status == SyncRun.Status.SUCCEEDED, second.message
    store.refresh_from_db()
    assert store.orders_watermark == second.window_end
    assert AmazonOrder.objects.filter(store=store, status=AmazonOrderStatus.ERROR).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_error_order_whose_id_was_shortened_is_not_asked_of_amazon_again(
    sandbox_server, sandbox_seller_factory, settings
):
    # Given a synced store, and an Error order Amazon sent with an id too long to keep whole.
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    seller = sandbox_seller_factory(marketplace_ids=[DE])
    orders_generate(seller=seller, count=2, seed=13, now=minutes_ago(5))
    store = store_for_seller(sandbox_server, seller)
    sync_to_the_end(store)
    amazon_orders_upsert(store=store, payloads=[{**order_payload(1), "orderId": "9" * 500}])
    shortened = AmazonOrder.objects.get(store=store, amazon_order_id__startswith="999")
    assert shortened.status == AmazonOrderStatus.ERROR
    AmazonOrder.objects.filter(pk=shortened.pk).update(needs_attention=True)
    asked_before = len(sandbox_server.exchanges)

    # When the next sync re-reads the orders that need attention.
    sync_to_the_end(store)

    # Then no getOrder goes out for an id Amazon could never answer.
    asked = [exchange.path for exchange in sandbox_server.exchanges[asked_before:]]
    assert not any(path.startswith("/orders/2026-01-01/orders/") for path in asked), asked
