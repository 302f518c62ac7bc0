from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from commerce_orders.exceptions import (
    CancelRefused,
    OrderNumberInUse,
    OrderTransitionError,
    ProductUnavailable,
)
from commerce_orders.models import (
    CommerceOrder,
    CommerceOrderEvent,
    Customer,
    OrderAction,
    OrderAddress,
    OrderState,
    Product,
    StockReservation,
)
from commerce_orders.services import (
    OrderLine,
    StockLine,
    creditmemo_create,
    invoice_create,
    order_cancel,
    order_complete,
    order_complete_after_channel_cancellation,
    order_create,
    order_hold,
    order_stock_reference,
    order_unhold,
    shipment_create,
    stock_reserve,
)
from commerce_orders.tests.factories import (
    AddressDataFactory,
    CommerceOrderFactory,
    CommerceOrderItemFactory,
    CustomerFactory,
    OrderLineFactory,
    ProductFactory,
    order_create_arguments,
    order_items_by_sku,
    placed_order,
)

pytestmark = pytest.mark.django_db


def nothing_was_written() -> bool:
    return not CommerceOrder.objects.exists() and not CommerceOrderEvent.objects.exists()


# order_create


def test_order_create_writes_the_order_items_addresses_totals_and_a_history_row():
    user = get_user_model().objects.create_user("merchant")
    mug, tee = ProductFactory(sku="MUG"), ProductFactory(sku="TEE")
    billing = AddressDataFactory(name="Billing Person")
    shipping = AddressDataFactory(name="Shipping Person", city="Berlin")

    order = order_create(
        **order_create_arguments(
            actor=user,
            external_order_id="302-1111111-2222222",
            lines=[
                OrderLine("MUG", "Mug", 2, Decimal("12.50"), Decimal("4.75"), "item-a"),
                OrderLine("TEE", "Tee", 1, Decimal("20.00"), Decimal("3.80"), "item-b"),
            ],
            billing_address=billing,
            shipping_address=shipping,
            po_number="PO-7",
            shipping_method="Expedited",
            shipping_amount=Decimal("4.99"),
        )
    )

    order.refresh_from_db()
    assert order.increment_id == "000000001"
    assert (order.state, order.status) == (OrderState.NEW, "new")
    assert (order.external_channel, order.external_order_id) == ("amazon", "302-1111111-2222222")
    assert order.subtotal == Decimal("45.00")
    assert order.tax_amount == Decimal("8.55")
    assert order.shipping_amount == Decimal("4.99")
    assert order.grand_total == Decimal("58.54")
    assert (order.po_number, order.shipping_method) == ("PO-7", "Expedited")
    assert order.is_guest
    items = list(
        order.items.order_by("pk").values_list(
            "product", "sku", "quantity_ordered", "price", "row_total", "external_item_id"
        )
    )
    assert items == [
        (mug.pk, "MUG", 2, Decimal("12.50"), Decimal("25.00"), "item-a"),
        (tee.pk, "TEE", 1, Decimal("20.00"), Decimal("20.00"), "item-b"),
    ]
    addresses = {address.address_type: address for address in order.addresses.all()}
    assert addresses[OrderAddress.AddressType.BILLING].name == "Billing Person"
    assert addresses[OrderAddress.AddressType.SHIPPING].city == "Berlin"
    [event] = order.events.all()
    assert (event.action, event.actor, event.new_state) == (OrderAction.PLACE, user, "new")


def test_order_create_deducts_the_ordered_quantity_from_stock():
    ProductFactory(sku="MUG", quantity_in_stock=5)

    order_create(**order_create_arguments(lines=[OrderLineFactory(sku="MUG", quantity=3)]))

    assert ProductFactory(sku="MUG").quantity_in_stock == 2


def test_order_create_counts_one_sku_on_two_lines_together_against_stock():
    ProductFactory(sku="MUG", quantity_in_stock=3)
    lines = [OrderLineFactory(sku="MUG", quantity=2), OrderLineFactory(sku="MUG", quantity=2)]

    with pytest.raises(ProductUnavailable) as refused:
        order_create(**order_create_arguments(lines=lines))

    assert str(refused.value) == "SKU MUG is out of stock (4 ordered, 3 available)"


def test_order_create_numbers_orders_from_the_commerce_sequence():
    first = order_create(**order_create_arguments())
    second = order_create(**order_create_arguments())

    assert (first.increment_id, second.increment_id) == ("000000001", "000000002")


def test_order_create_uses_the_callers_order_number_when_given():
    order = order_create(**order_create_arguments(increment_id="302-1111111-2222222"))

    assert order.increment_id == "302-1111111-2222222"
    assert order_create(**order_create_arguments()).increment_id == "000000001"


def test_order_create_refuses_an_order_number_that_another_order_has():
    CommerceOrderFactory(increment_id="302-1111111-2222222")
    product = ProductFactory(quantity_in_stock=4)

    with pytest.raises(OrderNumberInUse) as refused:
        order_create(
            **order_create_arguments(
                increment_id="302-1111111-2222222", lines=[OrderLineFactory(sku=product.sku)]
            )
        )

    assert refused.value.increment_id == "302-1111111-2222222"
    assert CommerceOrder.objects.count() == 1
    product.refresh_from_db()
    assert product.quantity_in_stock == 4


def test_order_create_is_idempotent_on_the_channel_order():
    ProductFactory(sku="MUG", quantity_in_stock=5)
    arguments = order_create_arguments(
        external_order_id="302-1111111-2222222", lines=[OrderLineFactory(sku="MUG", quantity=2)]
    )

    first = order_create(**arguments)
    second = order_create(**arguments)

    assert second.pk == first.pk
    assert CommerceOrder.objects.count() == 1
    assert CommerceOrderEvent.objects.count() == 1
    assert ProductFactory(sku="MUG").quantity_in_stock == 3


def test_order_create_keeps_one_order_per_channel_but_the_same_id_on_two_channels_is_two_orders():
    first = order_create(**order_create_arguments(external_channel="amazon", external_order_id="1"))
    second = order_create(**order_create_arguments(external_channel="ebay", external_order_id="1"))

    assert first.pk != second.pk


def test_order_create_sets_the_callers_status_label():
    order = order_create(**order_create_arguments(status="pending"))

    assert (order.state, order.status) == (OrderState.NEW, "pending")


def test_order_create_makes_a_guest_order_unless_an_account_is_asked_for():
    order = order_create(**order_create_arguments(create_customer_account=False))

    assert order.customer is None
    assert not Customer.objects.exists()


def test_order_create_creates_the_customer_account_when_asked():
    order = order_create(
        **order_create_arguments(
            create_customer_account=True,
            customer_email="erika@marketplace.example",
            customer_name="Erika Maria Mustermann",
        )
    )

    customer = order.customer
    assert customer.email == "erika@marketplace.example"
    assert (customer.first_name, customer.last_name) == ("Erika Maria", "Mustermann")


def test_order_create_reuses_the_customer_account_with_that_email():
    existing = CustomerFactory(email="erika@marketplace.example")

    order = order_create(
        **order_create_arguments(
            create_customer_account=True, customer_email="Erika@Marketplace.example"
        )
    )

    assert order.customer == existing
    assert Customer.objects.count() == 1


def test_order_create_refuses_a_sku_not_in_the_catalog_and_writes_nothing():
    mug = ProductFactory(sku="MUG", quantity_in_stock=5)
    lines = [OrderLineFactory(sku="MUG"), OrderLineFactory(sku="GHOST", quantity=2)]

    with pytest.raises(ProductUnavailable) as refused:
        order_create(**order_create_arguments(lines=lines))

    [problem] = refused.value.problems
    assert (problem.sku, problem.reason) == ("GHOST", "not_in_catalog")
    assert problem.message == "SKU GHOST is not in the catalog"
    assert nothing_was_written()
    mug.refresh_from_db()
    assert mug.quantity_in_stock == 5


def test_order_create_refuses_more_than_the_salable_quantity_and_lists_every_short_sku():
    ProductFactory(sku="MUG", quantity_in_stock=1)
    ProductFactory(sku="TEE", quantity_in_stock=0)
    ProductFactory(sku="CAP", quantity_in_stock=9)
    lines = [
        OrderLineFactory(sku="MUG", quantity=2),
        OrderLineFactory(sku="CAP", quantity=1),
        OrderLineFactory(sku="TEE", quantity=1),
        OrderLineFactory(sku="GHOST", quantity=1),
    ]

    with pytest.raises(ProductUnavailable) as refused:
        order_create(**order_create_arguments(lines=lines))

    assert [problem.message for problem in refused.value.problems] == [
        "SKU MUG is out of stock (2 ordered, 1 available)",
        "SKU TEE is out of stock (1 ordered, 0 available)",
        "SKU GHOST is not in the catalog",
    ]
    assert nothing_was_written()
    assert ProductFactory(sku="CAP").quantity_in_stock == 9


def test_order_create_cannot_sell_what_another_pending_order_reserved():
    ProductFactory(sku="MUG", quantity_in_stock=2)
    stock_reserve(reference="amazon:other-order", lines=[StockLine("MUG", 2)])

    with pytest.raises(ProductUnavailable) as refused:
        order_create(**order_create_arguments(lines=[OrderLineFactory(sku="MUG")]))

    assert str(refused.value) == "SKU MUG is out of stock (1 ordered, 0 available)"


def test_order_create_sells_what_was_reserved_for_it_and_releases_that_reservation():
    ProductFactory(sku="MUG", quantity_in_stock=2)
    ProductFactory(sku="CAP", quantity_in_stock=5)
    reference = order_stock_reference(external_channel="amazon", external_order_id="302-1")
    # The pending order also held a cap it no longer has: that reservation goes too.
    stock_reserve(reference=reference, lines=[StockLine("MUG", 2), StockLine("CAP", 1)])

    order_create(
        **order_create_arguments(
            external_order_id="302-1", lines=[OrderLineFactory(sku="MUG", quantity=2)]
        )
    )

    mug, cap = ProductFactory(sku="MUG"), ProductFactory(sku="CAP")
    assert (mug.quantity_in_stock, mug.quantity_reserved) == (0, 0)
    assert (cap.quantity_in_stock, cap.quantity_reserved) == (5, 0)
    assert not StockReservation.objects.exists()


def test_order_create_refuses_an_order_without_lines():
    with pytest.raises(ValueError, match="at least one line"):
        order_create(**order_create_arguments(lines=[]))


def test_order_create_refuses_two_lines_with_one_channel_item_id():
    lines = [OrderLineFactory(external_item_id="1"), OrderLineFactory(external_item_id="1")]

    with pytest.raises(ValueError, match="unique"):
        order_create(**order_create_arguments(lines=lines))


def test_an_order_line_refuses_a_quantity_below_one():
    with pytest.raises(ValueError, match="positive"):
        OrderLine("MUG", "Mug", 0, Decimal("1.00"))


# order_complete


def test_order_complete_moves_a_processing_order_to_complete_with_the_comment():
    order = CommerceOrderFactory(state=OrderState.PROCESSING, status="processing")
    item = CommerceOrderItemFactory(order=order, quantity_ordered=3, quantity_canceled=1)

    order_complete(actor=None, order=order, comment="Shipped by Amazon.")

    order.refresh_from_db()
    item.refresh_from_db()
    assert (order.state, order.status) == (OrderState.COMPLETE, "complete")
    assert item.quantity_shipped == 2
    [event] = order.events.all()
    assert (event.action, event.old_state, event.new_state, event.comment) == (
        OrderAction.COMPLETE,
        "processing",
        "complete",
        "Shipped by Amazon.",
    )


@pytest.mark.parametrize(
    "state",
    [
        OrderState.NEW,
        OrderState.COMPLETE,
        OrderState.CLOSED,
        OrderState.CANCELED,
        OrderState.HOLDED,
    ],
)
def test_order_complete_is_refused_unless_the_order_is_processing(state):
    order = CommerceOrderFactory(state=state, status=state)

    with pytest.raises(OrderTransitionError) as refused:
        order_complete(actor=None, order=order)

    assert (refused.value.increment_id, refused.value.state) == (order.increment_id, state)
    order.refresh_from_db()
    assert order.state == state
    assert not order.events.exists()


# order_complete_after_channel_cancellation


@pytest.mark.parametrize("state", [OrderState.NEW, OrderState.PROCESSING])
def test_channel_cancellation_completes_the_order_cancels_what_did_not_ship_and_restocks_it(state):
    order = CommerceOrderFactory(state=state, status=state)
    mug = ProductFactory(sku="MUG", quantity_in_stock=1)
    partly_shipped = CommerceOrderItemFactory(
        order=order, product=mug, quantity_ordered=3, quantity_shipped=1
    )
    other_mugs = CommerceOrderItemFactory(order=order, product=mug, quantity_ordered=2)

    order_complete_after_channel_cancellation(actor=None, order=order, reason="Buyer cancelled")

    order.refresh_from_db()
    partly_shipped.refresh_from_db()
    other_mugs.refresh_from_db()
    mug.refresh_from_db()
    assert (order.state, order.status) == (OrderState.COMPLETE, "complete")
    assert (partly_shipped.quantity_canceled, other_mugs.quantity_canceled) == (2, 2)
    assert mug.quantity_in_stock == 5
    [event] = order.events.all()
    assert event.action == OrderAction.COMPLETE_AFTER_CHANNEL_CANCELLATION
    assert (event.old_state, event.new_state) == (state, "complete")
    assert "Reason for cancellation: Buyer cancelled" in event.comment_text


@pytest.mark.parametrize(
    "state", [OrderState.COMPLETE, OrderState.CLOSED, OrderState.CANCELED, OrderState.HOLDED]
)
def test_channel_cancellation_is_refused_once_the_order_is_settled_or_on_hold(state):
    order = CommerceOrderFactory(state=state, status=state)
    item = CommerceOrderItemFactory(order=order, product__quantity_in_stock=0, quantity_ordered=1)

    with pytest.raises(OrderTransitionError):
        order_complete_after_channel_cancellation(actor=None, order=order, reason="late")

    item.refresh_from_db()
    item.product.refresh_from_db()
    assert (item.quantity_canceled, item.product.quantity_in_stock) == (0, 0)
    assert not order.events.exists()


# Hold and unhold


def test_hold_keeps_the_state_and_status_it_came_from():
    order = placed_order()
    invoice_create(actor=None, order=order, status="amazon_processing")

    order_hold(actor=None, order=order)

    order.refresh_from_db()
    assert (order.state, order.status) == (OrderState.HOLDED, "holded")
    assert (order.hold_before_state, order.hold_before_status) == (
        OrderState.PROCESSING,
        "amazon_processing",
    )
    event = order.events.get(action=OrderAction.HOLD)
    assert (event.old_status, event.new_status) == ("amazon_processing", "holded")


@pytest.mark.parametrize("invoiced", [False, True])
def test_unhold_returns_to_the_state_and_status_held_from(invoiced):
    order = placed_order()
    if invoiced:
        invoice_create(actor=None, order=order, status="amazon_processing")
    order.refresh_from_db()
    before = (order.state, order.status)
    order_hold(actor=None, order=order)

    order_unhold(actor=None, order=order)

    order.refresh_from_db()
    assert (order.state, order.status) == before
    assert (order.hold_before_state, order.hold_before_status) == ("", "")
    event = order.events.get(action=OrderAction.UNHOLD)
    assert (event.old_state, event.new_state) == ("holded", before[0])


def test_unhold_of_an_order_held_without_a_saved_state_picks_one_from_its_quantities():
    fresh = CommerceOrderFactory(state=OrderState.HOLDED, status="holded")
    CommerceOrderItemFactory(order=fresh)
    started = CommerceOrderFactory(state=OrderState.HOLDED, status="holded")
    CommerceOrderItemFactory(order=started, quantity_invoiced=1)

    order_unhold(actor=None, order=fresh)
    order_unhold(actor=None, order=started)

    fresh.refresh_from_db()
    started.refresh_from_db()
    assert (fresh.state, fresh.status) == (OrderState.NEW, "new")
    assert (started.state, started.status) == (OrderState.PROCESSING, "processing")


@pytest.mark.parametrize(
    "state",
    [OrderState.HOLDED, OrderState.COMPLETE, OrderState.CLOSED, OrderState.CANCELED],
)
def test_hold_is_refused_from_a_state_that_is_not_new_or_processing(state):
    order = CommerceOrderFactory(state=state, status=state)

    with pytest.raises(OrderTransitionError) as refused:
        order_hold(actor=None, order=order)

    assert (refused.value.action, refused.value.state) == (OrderAction.HOLD, state)
    order.refresh_from_db()
    assert order.hold_before_state == ""
    assert not order.events.exists()


@pytest.mark.parametrize(
    "state", [OrderState.NEW, OrderState.PROCESSING, OrderState.COMPLETE, OrderState.CANCELED]
)
def test_unhold_is_refused_unless_the_order_is_on_hold(state):
    order = CommerceOrderFactory(state=state, status=state)

    with pytest.raises(OrderTransitionError):
        order_unhold(actor=None, order=order)


def test_a_held_order_gets_no_invoice_and_no_cancel():
    order = placed_order()
    order_hold(actor=None, order=order)

    with pytest.raises(OrderTransitionError):
        invoice_create(actor=None, order=order)
    with pytest.raises(OrderTransitionError):
        order_cancel(actor=None, order=order)

    order.refresh_from_db()
    assert order.state == OrderState.HOLDED
    assert not order.invoices.exists()


# Cancel


def test_cancel_cancels_every_unit_returns_the_stock_and_records_the_reason():
    order = placed_order()
    assert Product.objects.get(sku="MUG").quantity_in_stock == 8

    order_cancel(actor=None, order=order, comment="Customer changed their mind")

    order.refresh_from_db()
    assert (order.state, order.status) == (OrderState.CANCELED, "canceled")
    assert list(order.items.values_list("sku", "quantity_canceled")) == [("MUG", 2), ("TEE", 1)]
    assert dict(Product.objects.values_list("sku", "quantity_in_stock")) == {"MUG": 10, "TEE": 10}
    event = order.events.get(action=OrderAction.CANCEL)
    assert (event.old_state, event.new_state) == ("new", "canceled")
    assert event.comment == "Customer changed their mind"
    assert event.comment_text == "Order canceled.\nCustomer changed their mind"


def test_cancel_is_refused_once_invoiced():
    order = placed_order()
    invoice_create(actor=None, order=order)

    with pytest.raises(CancelRefused) as refused:
        order_cancel(actor=None, order=order)

    assert refused.value.reason == CancelRefused.INVOICED
    assert "Create a credit memo instead" in str(refused.value)
    order.refresh_from_db()
    assert order.state == OrderState.PROCESSING
    assert Product.objects.get(sku="MUG").quantity_in_stock == 8


def test_cancel_is_refused_once_shipped():
    order = placed_order()
    item = order_items_by_sku(order)["MUG"]
    shipment_create(actor=None, order=order, quantities={item.pk: 1}, carrier_code="dhl")

    with pytest.raises(CancelRefused) as refused:
        order_cancel(actor=None, order=order)

    assert refused.value.reason == CancelRefused.SHIPPED
    assert list(order.items.values_list("quantity_canceled", flat=True)) == [0, 0]


def test_cancel_is_refused_when_every_unit_is_canceled_already():
    order = CommerceOrderFactory(state=OrderState.NEW)
    CommerceOrderItemFactory(order=order, quantity_ordered=1, quantity_canceled=1)

    with pytest.raises(CancelRefused) as refused:
        order_cancel(actor=None, order=order)

    assert refused.value.reason == CancelRefused.NOTHING_LEFT


@pytest.mark.parametrize(
    "state", [OrderState.HOLDED, OrderState.COMPLETE, OrderState.CLOSED, OrderState.CANCELED]
)
def test_cancel_is_refused_from_a_state_that_is_not_new_or_processing(state):
    order = CommerceOrderFactory(state=state, status=state)
    CommerceOrderItemFactory(order=order)

    with pytest.raises(OrderTransitionError) as refused:
        order_cancel(actor=None, order=order)

    assert refused.value.state == state


def test_a_refunded_and_closed_order_cannot_be_canceled():
    order = placed_order()
    invoice_create(actor=None, order=order)
    items = order_items_by_sku(order)
    creditmemo_create(actor=None, order=order, quantities={items["MUG"].pk: 2, items["TEE"].pk: 1})

    with pytest.raises(OrderTransitionError):
        order_cancel(actor=None, order=order)


# Moved from test_selectors.py with the selector only it used (order_get_by_external_id).


def test_an_order_is_found_by_its_sales_channel_and_external_id():
    order = order_create(**order_create_arguments(external_order_id="302-9"))

    def found(channel: str) -> CommerceOrder | None:
        return CommerceOrder.objects.filter(
            external_channel=channel, external_order_id="302-9"
        ).first()

    assert found("amazon") == order
    assert found("ebay") is None
