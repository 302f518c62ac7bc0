"""channel_orders_create: a page of channel orders made Commerce orders, invoiced, at once."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from commerce_orders.exceptions import OrderNumberInUse, ProductUnavailable
from commerce_orders.models import (
    CommerceOrder,
    CommerceOrderEvent,
    CommerceOrderItem,
    CommerceSequence,
    Invoice,
    OrderAction,
    OrderState,
    Product,
    StockReservation,
)
from commerce_orders.notes import note
from commerce_orders.services import (
    AddressData,
    ChannelOrderData,
    OrderLine,
    StockLine,
    channel_orders_create,
    invoice_create,
    order_complete,
    order_create,
    stock_reserve,
)
from commerce_orders.tests.factories import CommerceOrderFactory, ProductFactory

pytestmark = pytest.mark.django_db

CHANNEL = "shop"


def order_data(number: int, *, lines=None, **overrides) -> ChannelOrderData:
    values = {
        "external_order_id": f"EXT-{number}",
        "increment_id": None,
        "customer_email": f"buyer{number}@example.com",
        "customer_name": "Ada Lovelace",
        "create_customer_account": False,
        "currency": "EUR",
        "lines": lines
        or [
            OrderLine("MUG", "Mug", 2, Decimal("10.00"), Decimal("3.80"), f"{number}-1"),
            OrderLine("CAP", "Cap", 1, Decimal("7.33"), Decimal("1.39"), f"{number}-2"),
        ],
        "billing_address": AddressData(name="Ada", city="London", country_code="GB"),
        "shipping_address": AddressData(name="Ada", city="London", country_code="GB"),
        "payment_method": "channel",
        "po_number": f"EXT-{number}",
        "shipping_method": "post",
        "shipping_amount": Decimal("4.90"),
        "is_invoiced": True,
    }
    values.update(overrides)
    return ChannelOrderData(**values)


@pytest.fixture
def catalog():
    ProductFactory(sku="MUG", quantity_in_stock=1000)
    ProductFactory(sku="CAP", quantity_in_stock=1000)


def test_a_page_of_orders_is_created_invoiced_and_numbered_without_gaps(catalog):
    outcomes = channel_orders_create(
        actor=None, external_channel=CHANNEL, orders=[order_data(n) for n in range(5)]
    )

    assert [outcome.is_created for outcome in outcomes] == [True] * 5
    assert [outcome.order.increment_id for outcome in outcomes] == [f"{n:09d}" for n in range(1, 6)]
    assert [outcome.invoice.increment_id for outcome in outcomes] == [
        f"{n:09d}" for n in range(1, 6)
    ]
    assert dict(CommerceSequence.objects.values_list("name", "last_value")) == {
        "order": 5,
        "invoice": 5,
    }
    order = CommerceOrder.objects.get(external_order_id="EXT-0")
    assert (order.state, order.status, order.total_paid) == (
        OrderState.PROCESSING,
        OrderState.PROCESSING,
        order.grand_total,
    )
    assert list(order.items.values_list("quantity_ordered", "quantity_invoiced")) == [
        (2, 2),
        (1, 1),
    ]
    assert Product.objects.get(sku="MUG").quantity_in_stock == 1000 - 10


def test_the_bulk_path_writes_what_create_invoice_and_complete_write_one_by_one(catalog):
    # Given the same order, shipped on its channel, through both paths (each rolled back)
    data = order_data(1, completion_notes=[note("commerce.hold")], invoice_status="paid_here")

    def snapshot():
        order = CommerceOrder.objects.get(external_order_id="EXT-1")
        invoice = order.invoices.get()
        skipped = {"id", "created_at", "updated_at", "order", "invoice", "order_item"}

        def fields(instance):
            return {
                field.attname: getattr(instance, field.attname)
                for field in instance._meta.concrete_fields
                if field.name not in skipped and not field.attname.endswith("order_id")
            } | {"external_order_id": getattr(instance, "external_order_id", None)}

        return {
            "order": fields(order),
            "items": [fields(item) for item in order.items.order_by("sku")],
            "addresses": [fields(a) for a in order.addresses.order_by("address_type")],
            "invoice": fields(invoice),
            "invoice_items": [fields(item) for item in invoice.items.order_by("sku")],
            "events": [
                (e.action, e.old_state, e.new_state, e.old_status, e.new_status, e.notes)
                for e in order.events.order_by("id")
            ],
            "stock": list(Product.objects.order_by("sku").values_list("quantity_in_stock")),
            "sequences": list(
                CommerceSequence.objects.order_by("name").values_list("name", "last_value")
            ),
        }

    with transaction.atomic():
        order = order_create(
            actor=None,
            external_channel=CHANNEL,
            external_order_id=data.external_order_id,
            increment_id=None,
            customer_email=data.customer_email,
            customer_name=data.customer_name,
            create_customer_account=False,
            currency=data.currency,
            lines=data.lines,
            billing_address=data.billing_address,
            shipping_address=data.shipping_address,
            payment_method=data.payment_method,
            po_number=data.po_number,
            shipping_method=data.shipping_method,
            shipping_amount=data.shipping_amount,
        )
        invoice_create(actor=None, order=order, capture_offline=True, status="paid_here")
        order_complete(actor=None, order=order, notes=[note("commerce.hold")])
        one_by_one = snapshot()
        transaction.set_rollback(True)

    channel_orders_create(actor=None, external_channel=CHANNEL, orders=[data])

    assert snapshot() == one_by_one
    assert [event[0] for event in one_by_one["events"]] == [
        OrderAction.PLACE,
        OrderAction.INVOICE,
        OrderAction.COMPLETE,
    ]


def test_orders_that_cannot_be_created_cost_only_themselves(catalog):
    Product.objects.filter(sku="CAP").update(quantity_in_stock=2)
    CommerceOrderFactory(increment_id="TAKEN")
    mugs = [OrderLine("MUG", "Mug", 1, Decimal("10.00"))]
    orders = [
        order_data(1),
        order_data(2, lines=[OrderLine("NOPE", "Nope", 1, Decimal("1.00"))]),
        order_data(3),
        order_data(4),  # no Cap left after orders 1 and 3
        order_data(5, lines=mugs, increment_id="TAKEN"),
        order_data(6, lines=mugs, customer_name="x" * 300),
        order_data(7, lines=mugs),
        order_data(8, lines=mugs, shipping_address=AddressData(street="Main\x00Street")),
    ]

    outcomes = channel_orders_create(actor=None, external_channel=CHANNEL, orders=orders)

    assert [outcome.is_created for outcome in outcomes] == [
        True,
        False,
        True,
        False,
        False,
        False,
        True,
        False,
    ]
    assert isinstance(outcomes[1].error, ProductUnavailable)
    assert outcomes[3].error.problems[0].quantity_available == 0
    assert isinstance(outcomes[4].error, OrderNumberInUse)
    assert str(outcomes[5].error) == "customer_name is too long"
    assert str(outcomes[7].error) == "street contains a NUL character"
    assert Product.objects.get(sku="CAP").quantity_in_stock == 0
    # the refused ones took no number: still gap-free
    assert sorted(
        CommerceOrder.objects.exclude(increment_id="TAKEN").values_list("increment_id", flat=True)
    ) == ["000000001", "000000002", "000000003"]
    assert sorted(Invoice.objects.values_list("increment_id", flat=True)) == [
        "000000001",
        "000000002",
        "000000003",
    ]


def test_an_existing_channel_order_is_returned_and_nothing_is_written_for_it(catalog):
    [first] = channel_orders_create(actor=None, external_channel=CHANNEL, orders=[order_data(1)])

    again, new = channel_orders_create(
        actor=None, external_channel=CHANNEL, orders=[order_data(1), order_data(2)]
    )

    assert (again.is_created, again.order.pk, again.error) == (False, first.order.pk, None)
    assert new.is_created
    assert CommerceOrder.objects.count() == 2
    assert CommerceOrderEvent.objects.filter(order=first.order).count() == 2


def test_hand_made_numbers_in_the_block_are_skipped_as_document_number_next_does(catalog):
    CommerceOrderFactory(increment_id="000000002")

    outcomes = channel_orders_create(
        actor=None, external_channel=CHANNEL, orders=[order_data(n) for n in range(3)]
    )

    assert [outcome.order.increment_id for outcome in outcomes] == [
        "000000001",
        "000000003",
        "000000004",
    ]
    assert [outcome.invoice.increment_id for outcome in outcomes] == [
        "000000001",
        "000000002",
        "000000003",
    ]


def test_a_reservation_held_for_a_channel_order_is_released_into_it(catalog):
    stock_reserve(reference=f"{CHANNEL}:EXT-1", lines=[StockLine("MUG", 5)])
    Product.objects.filter(sku="MUG").update(quantity_in_stock=6)

    [outcome] = channel_orders_create(actor=None, external_channel=CHANNEL, orders=[order_data(1)])

    assert outcome.is_created
    mug = Product.objects.get(sku="MUG")
    assert (mug.quantity_in_stock, mug.quantity_reserved) == (4, 0)
    assert not StockReservation.objects.exists()


def test_a_page_that_rolls_back_takes_its_numbers_with_it(catalog):
    with pytest.raises(RuntimeError), transaction.atomic():
        channel_orders_create(
            actor=None, external_channel=CHANNEL, orders=[order_data(n) for n in range(3)]
        )
        raise RuntimeError("the caller's transaction fails")

    [outcome] = channel_orders_create(actor=None, external_channel=CHANNEL, orders=[order_data(9)])

    assert (outcome.order.increment_id, outcome.invoice.increment_id) == ("000000001",) * 2


def test_a_page_costs_a_fixed_number_of_queries(catalog):
    with CaptureQueriesContext(connection) as hundred:
        channel_orders_create(
            actor=None, external_channel=CHANNEL, orders=[order_data(n) for n in range(100)]
        )
    with CaptureQueriesContext(connection) as ten:
        channel_orders_create(
            actor=None, external_channel=CHANNEL, orders=[order_data(n) for n in range(100, 110)]
        )

    assert CommerceOrderItem.objects.filter(quantity_invoiced__gt=0).count() == 220
    assert len(hundred) <= 2 * 100
    if connection.vendor == "postgresql":  # SQLite splits inserts at 999 parameters
        assert len(hundred) == len(ten) <= 16, [query["sql"][:60] for query in hundred]


def test_a_channel_order_twice_in_one_page_is_created_once(catalog):
    first, second = channel_orders_create(
        actor=None, external_channel=CHANNEL, orders=[order_data(1), order_data(1)]
    )

    assert (first.is_created, second.is_created) == (True, False)
    assert second.order is first.order and second.error is None
    assert CommerceOrder.objects.count() == Invoice.objects.count() == 1
    assert Product.objects.get(sku="MUG").quantity_in_stock == 1000 - 2
