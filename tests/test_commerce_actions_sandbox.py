"""Order View actions of Commerce orders from Amazon, through to the sandbox over real HTTP:
partial shipments, a shipment or refund Amazon refuses (shown on the Amazon pages too) and its
retry, a credit memo with its reason, Cancel."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from amazon_channel.models import AmazonOrder, OutboxMessage
from amazon_channel.orders.commerce_to_amazon import ShipmentNotAccepted, commerce_shipment_create
from amazon_channel.selectors import store_for_dashboard
from commerce_orders.models import Product
from commerce_orders.notes import notes_text
from commerce_orders.services import invoice_create
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions
from seller_central_sandbox.models import (
    FulfillmentStatus,
    SandboxOrder,
    SandboxPackage,
    SandboxRefund,
)
from seller_central_sandbox.services.orders import (
    _buyer_cancels,
    order_lifecycle_step,
    orders_generate,
)
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import (
    deliver_outbox,
    minutes_ago,
    shipment_made_before_tracking_was_required,
    store_for_seller,
    sync_to_the_end,
)

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def synced_store(sandbox_server, seller):
    from tests.test_commerce_import_sandbox import SKUS

    for sku in SKUS:
        Product.objects.create(sku=sku, name=sku, price="10.00", quantity_in_stock=500)
    orders_generate(seller=seller, count=40, seed=33, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller, is_import_enabled=True)
    sync_to_the_end(store)
    return store


@pytest.fixture
def clerk_client():
    client = Client()
    client.force_login(
        user_with_app_permissions(
            "clerk",
            *COMMERCE_PERMISSIONS,
            "amazon_channel.view_store",
            "amazon_channel.view_amazonorder",
            "amazon_channel.cancel_amazonorder",
        )
    )
    return client


def unshipped_orders(store, *, units: int = 1) -> list[AmazonOrder]:
    """Unshipped merchant-fulfilled orders with a Commerce order of at least `units` units."""
    orders = (
        AmazonOrder.objects.filter(store=store, status="Unshipped", fulfillment_channel="MFN")
        .exclude(commerce_order=None)
        .select_related("commerce_order")
        .order_by("amazon_order_id")
    )
    return [
        order
        for order in orders
        if sum(item.quantity_ordered for item in order.commerce_order.items.all()) >= units
    ]


def ship(client, commerce_order, quantities: dict, tracking_number: str, carrier="DHL"):
    data = {
        f"quantity_{item.pk}": str(quantities.get(item.pk, 0))
        for item in commerce_order.items.all()
    }
    data.update({"carrier_code": carrier, "method": "Paket", "tracking_number": tracking_number})
    return client.post(
        reverse("dashboard:commerce_order_ship_save", args=[commerce_order.pk]), data
    )


def next_sync(store, amazon_order) -> None:
    """The next sync, once Amazon's change is older than the 3 minutes a sync leaves out (2 by
    Amazon's rule, 1 for clock skew) and a whole second newer than what we read last (Amazon's
    dates have whole seconds)."""
    amazon_order.refresh_from_db()
    updated_at = max(minutes_ago(4), amazon_order.last_update_date + timedelta(seconds=1))
    SandboxOrder.objects.filter(order_id=amazon_order.amazon_order_id).update(
        last_updated_time=updated_at
    )
    sync_to_the_end(store)
    amazon_order.refresh_from_db()


def detail(client, commerce_order) -> str:
    response = client.get(reverse("dashboard:commerce_order_detail", args=[commerce_order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def page(client, url, data=None) -> str:
    response = client.get(url, data)
    assert response.status_code == 200
    return response.content.decode()


def amazon_pages(client, amazon_order) -> dict[str, str]:
    """What the Amazon side shows of the order: Amazon Order Details' Order Notes, and the notes
    column of Recent Orders (the store page) and All Orders."""
    store_id = amazon_order.store_id
    details = page(client, reverse("dashboard:order_detail", args=[store_id, amazon_order.pk]))
    recent = page(client, reverse("dashboard:store_detail", args=[store_id]))
    all_orders = page(
        client,
        reverse("dashboard:order_list", args=[store_id]),
        {"order_number": amazon_order.amazon_order_id},
    )
    return {
        "order notes": re.search(r'data-field="order-notes">(.*?)</dd>', details, re.S).group(1),
        "recent orders": row_of(recent, amazon_order),
        "all orders": row_of(all_orders, amazon_order),
    }


def row_of(content: str, amazon_order) -> str:
    match = re.search(rf'<tr data-order="{amazon_order.amazon_order_id}">(.*?)</tr>', content, re.S)
    assert match, f"{amazon_order.amazon_order_id} is not listed"
    return match.group(1)


def newest_unshipped_order(store) -> AmazonOrder:
    """An Unshipped order that Recent Orders lists (the store's newest)."""
    return max(unshipped_orders(store), key=lambda order: (order.purchase_date, order.pk))


def amazon_holds_back(amazon_order) -> None:
    """Amazon takes the order back to Pending (a payment review): until it is paid again it
    refuses shipments ("only unshipped orders can be shipped") and refunds."""
    SandboxOrder.objects.filter(order_id=amazon_order.amazon_order_id).update(
        status=FulfillmentStatus.PENDING
    )


def amazon_releases(seller, amazon_order) -> None:
    """The payment goes through: the order is Unshipped on Amazon again."""
    order_lifecycle_step(seller=seller, order_id=amazon_order.amazon_order_id, step="pay")


def retry(client, commerce_order, message):
    url = reverse("dashboard:commerce_order_amazon_retry", args=[commerce_order.pk, message.pk])
    response = client.post(url)
    assert response.status_code == 302
    return response


def credit_memo(client, commerce_order, item, reason="CustomerReturn", **amounts):
    return client.post(
        reverse("dashboard:commerce_order_creditmemo_save", args=[commerce_order.pk]),
        {
            **{f"quantity_{line.pk}": "0" for line in commerce_order.items.all()},
            f"quantity_{item.pk}": "1",
            "shipping_refund": "0",
            "adjustment_refund": "0",
            "adjustment_fee": "0",
            "adjustment_reason": reason,
            **amounts,
        },
    )


def test_two_partial_shipments_reach_amazon_as_two_packages(synced_store, clerk_client):
    amazon_order = unshipped_orders(synced_store, units=2)[0]
    commerce_order = amazon_order.commerce_order
    units = [
        item for item in commerce_order.items.order_by("pk") for _ in range(item.quantity_ordered)
    ]
    first_unit, rest = units[0], units[1:]
    rest_quantities: dict[int, int] = {}
    for item in rest:
        rest_quantities[item.pk] = rest_quantities.get(item.pk, 0) + 1

    first = ship(clerk_client, commerce_order, {first_unit.pk: 1}, "TRACK-ONE")
    assert first.status_code == 302
    deliver_outbox(synced_store)
    assert SandboxPackage.objects.filter(order__order_id=amazon_order.amazon_order_id).count() == 1
    next_sync(synced_store, amazon_order)
    assert amazon_order.status == "PartiallyShipped"

    second = ship(clerk_client, commerce_order, rest_quantities, "TRACK-TWO", carrier="UPS")
    assert second.status_code == 302
    deliver_outbox(synced_store)
    next_sync(synced_store, amazon_order)

    packages = SandboxPackage.objects.filter(order__order_id=amazon_order.amazon_order_id)
    assert sorted(packages.values_list("tracking_number", flat=True)) == ["TRACK-ONE", "TRACK-TWO"]
    assert {package.carrier_code for package in packages} == {"DHL", "UPS"}
    assert SandboxOrder.objects.get(order_id=amazon_order.amazon_order_id).status == "SHIPPED"
    assert amazon_order.status == "Shipped"
    content = detail(clerk_client, commerce_order)
    assert content.count("Confirmed by Amazon") == 2
    assert "TRACK-ONE" in content
    assert "TRACK-TWO" in content


def test_a_shipment_amazon_refuses_is_shown_and_retry_sends_it_again(
    synced_store, seller, clerk_client
):
    amazon_order = newest_unshipped_order(synced_store)
    commerce_order = amazon_order.commerce_order
    sandbox_order = SandboxOrder.objects.get(order_id=amazon_order.amazon_order_id)
    # The buyer cancels on Amazon before our sync hears of it.
    _buyer_cancels(sandbox_order, reason="Changed my mind", now=minutes_ago(0))
    everything = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}

    ship(clerk_client, commerce_order, everything, "TRACK-REFUSED")
    deliver_outbox(synced_store)

    shipment = commerce_order.shipments.get()
    message = OutboxMessage.objects.get(key=f"ship:{shipment.pk}")
    assert message.state == OutboxMessage.State.FAILED
    assert message.result
    content = detail(clerk_client, commerce_order)
    assert "Not sent to Amazon" in content
    assert "Amazon refused: " in content
    assert message.result.split(":")[0] in content
    retry_url = reverse(
        "dashboard:commerce_order_amazon_retry", args=[commerce_order.pk, message.pk]
    )
    assert retry_url in content
    amazon_order.refresh_from_db()
    assert "Amazon refused the shipment" in notes_text(amazon_order.channel_notes)
    assert message.result in notes_text(amazon_order.channel_notes)
    # The Amazon pages show the refusal in the order's notes, and lead to the retry.
    note = f"Amazon refused the shipment #{shipment.increment_id}: {message.result}"
    pages = amazon_pages(clerk_client, amazon_order)
    for name, shown in pages.items():
        assert note in shown, name
    assert (
        reverse("dashboard:commerce_order_detail", args=[commerce_order.pk])
        in (pages["order notes"])
    )

    response = clerk_client.post(retry_url)

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    assert event_texts(amazon_order, "Sending the shipment") == ["Sending the shipment"]
    deliver_outbox(synced_store)
    message.refresh_from_db()
    # Sent again, and refused again: the order is still canceled on Amazon.
    assert message.state == OutboxMessage.State.FAILED
    assert len(event_texts(amazon_order, "Amazon refused the shipment")) == 2


def test_a_credit_memo_of_a_shipped_order_reaches_amazon_as_a_refund(synced_store, clerk_client):
    amazon_order = unshipped_orders(synced_store)[0]
    commerce_order = amazon_order.commerce_order
    if not commerce_order.invoices.exists():
        invoice_create(actor=None, order=commerce_order)
    everything = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}
    ship(clerk_client, commerce_order, everything, "TRACK-SHIPPED")
    deliver_outbox(synced_store)
    item = commerce_order.items.order_by("pk").first()

    response = credit_memo(
        clerk_client,
        commerce_order,
        item,
        reason="DifferentItem",
        adjustment_refund="1.50",
        comment="Arrived broken.",
    )
    assert response.status_code == 302
    deliver_outbox(synced_store)

    memo = commerce_order.credit_memos.get()
    refunds = SandboxRefund.objects.filter(order__order_id=amazon_order.amazon_order_id)
    assert refunds.count() == 1
    refund = refunds.get()
    assert refund.item.order_item_id == item.external_item_id
    assert refund.principal == item.price + Decimal("1.50")
    assert refund.tax == memo.tax_amount
    assert refund.reason == "DifferentItem"
    message = OutboxMessage.objects.get(key=f"refund:{memo.pk}")
    assert message.state == OutboxMessage.State.DONE
    assert "Confirmed by Amazon" in detail(clerk_client, commerce_order)


def test_a_refused_shipment_sent_again_once_amazon_takes_it_is_confirmed_and_its_note_cleared(
    synced_store, seller, clerk_client
):
    amazon_order = newest_unshipped_order(synced_store)
    commerce_order = amazon_order.commerce_order
    amazon_holds_back(amazon_order)
    everything = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}
    ship(clerk_client, commerce_order, everything, "TRACK-LATER")
    deliver_outbox(synced_store)
    message = OutboxMessage.objects.get(key=f"ship:{commerce_order.shipments.get().pk}")
    assert message.state == OutboxMessage.State.FAILED
    assert "PENDING" in message.result
    assert "Amazon refused the shipment" in amazon_pages(clerk_client, amazon_order)["order notes"]

    amazon_releases(seller, amazon_order)
    retry(clerk_client, commerce_order, message)
    deliver_outbox(synced_store)

    message.refresh_from_db()
    amazon_order.refresh_from_db()
    assert message.state == OutboxMessage.State.DONE
    assert SandboxPackage.objects.get(order__order_id=amazon_order.amazon_order_id).tracking_number
    assert notes_text(amazon_order.channel_notes) == ""
    for name, shown in amazon_pages(clerk_client, amazon_order).items():
        assert "Amazon refused" not in shown, name
    content = detail(clerk_client, commerce_order)
    assert "Confirmed by Amazon" in content
    assert "Not sent to Amazon" not in content
    accepted = [
        event
        for event in amazon_order.events.all()
        if event.message_text == "Amazon accepted the shipment."
    ]
    assert len(accepted) == 1
    assert not [event for event in amazon_order.events.all() if event.message_text.endswith(": OK")]


def refund_amazon_refuses(synced_store, clerk_client):
    """An order Amazon holds back: our shipment and then our refund are refused (Amazon refunds
    only shipped orders). Returns the Amazon order, the credit memo and the two messages."""
    amazon_order = newest_unshipped_order(synced_store)
    commerce_order = amazon_order.commerce_order
    if not commerce_order.invoices.exists():
        invoice_create(actor=None, order=commerce_order)
    amazon_holds_back(amazon_order)
    everything = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}
    ship(clerk_client, commerce_order, everything, "TRACK-HELD")
    item = commerce_order.items.order_by("pk").first()
    assert credit_memo(clerk_client, commerce_order, item).status_code == 302
    deliver_outbox(synced_store)
    shipment = OutboxMessage.objects.get(key=f"ship:{commerce_order.shipments.get().pk}")
    memo = commerce_order.credit_memos.get()
    refund = OutboxMessage.objects.get(key=f"refund:{memo.pk}")
    return amazon_order, memo, shipment, refund


def test_a_refund_amazon_refuses_is_shown_on_the_credit_memo_and_the_amazon_order(
    synced_store, clerk_client
):
    amazon_order, memo, _shipment, refund = refund_amazon_refuses(synced_store, clerk_client)
    commerce_order = amazon_order.commerce_order

    assert refund.state == OutboxMessage.State.FAILED
    # The sandbox's processing report has an error for the message, in Amazon's words.
    assert "only shipped orders can be refunded" in refund.result
    assert not SandboxRefund.objects.filter(order__order_id=amazon_order.amazon_order_id).exists()
    content = detail(clerk_client, commerce_order)
    memo_row = re.search(
        rf'<tr data-credit-memo="{memo.increment_id}">(.*?)</tr>', content, re.S
    ).group(1)
    assert f"Amazon refused: {refund.result}" in memo_row
    assert (
        reverse("dashboard:commerce_order_amazon_retry", args=[commerce_order.pk, refund.pk])
        in memo_row
    )
    amazon_order.refresh_from_db()
    note = f"Amazon refused the refund #{memo.increment_id}: {refund.result}"
    assert note in notes_text(amazon_order.channel_notes)
    for name, shown in amazon_pages(clerk_client, amazon_order).items():
        assert note in shown, name


def test_a_refused_refund_retried_once_the_order_shipped_reaches_amazon(
    synced_store, seller, clerk_client
):
    amazon_order, memo, shipment, refund = refund_amazon_refuses(synced_store, clerk_client)
    commerce_order = amazon_order.commerce_order
    amazon_releases(seller, amazon_order)

    retry(clerk_client, commerce_order, shipment)
    deliver_outbox(synced_store)
    retry(clerk_client, commerce_order, refund)
    deliver_outbox(synced_store)

    refund.refresh_from_db()
    shipment.refresh_from_db()
    amazon_order.refresh_from_db()
    assert (shipment.state, refund.state) == (OutboxMessage.State.DONE, OutboxMessage.State.DONE)
    refunds = SandboxRefund.objects.filter(order__order_id=amazon_order.amazon_order_id)
    assert refunds.count() == 1
    assert refunds.get().principal == memo.subtotal
    assert notes_text(amazon_order.channel_notes) == ""
    for name, shown in amazon_pages(clerk_client, amazon_order).items():
        assert "Amazon refused" not in shown, name
    assert detail(clerk_client, commerce_order).count("Confirmed by Amazon") == 2


def test_cancel_of_a_commerce_order_from_amazon_leads_to_amazon_cancel_order(
    synced_store, clerk_client
):
    amazon_order = unshipped_orders(synced_store)[0]
    commerce_order = amazon_order.commerce_order
    cancel_page = reverse("dashboard:order_cancel", args=[synced_store.pk, amazon_order.pk])
    assert cancel_page in detail(clerk_client, commerce_order)

    response = clerk_client.post(
        reverse("dashboard:commerce_order_cancel", args=[commerce_order.pk]), follow=True
    )

    assert response.redirect_chain[0][0] == cancel_page
    assert "Reason for cancellation" in response.content.decode()
    commerce_order.refresh_from_db()
    assert commerce_order.state != "canceled"
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.CANCEL_ORDER).exists()


def test_submit_shipment_of_an_amazon_order_requires_tracking_and_a_carrier_of_amazons_list(
    synced_store, clerk_client
):
    amazon_order = newest_unshipped_order(synced_store)
    commerce_order = amazon_order.commerce_order
    everything = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}

    without_tracking = ship(clerk_client, commerce_order, everything, "")
    unlisted = ship(clerk_client, commerce_order, everything, "TRACK-1", carrier="PostNL")
    other_unnamed = ship(clerk_client, commerce_order, everything, "TRACK-1", carrier="Other")

    assert without_tracking.status_code == 400
    assert "Amazon requires a tracking number." in without_tracking.content.decode()
    assert unlisted.status_code == 400
    assert "Select a valid choice. PostNL is not one of the available choices." in (
        unlisted.content.decode()
    )
    assert other_unnamed.status_code == 400
    assert "Enter the carrier&#x27;s name for Other." in other_unnamed.content.decode()
    assert not commerce_order.shipments.exists()
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.CONFIRM_SHIPMENT).exists()
    # The service refuses too, whatever posts to it.
    with pytest.raises(ShipmentNotAccepted, match=r"Amazon requires a tracking number\."):
        commerce_shipment_create(
            actor=None, order=commerce_order, quantities=everything, carrier_code="DHL"
        )

    named = ship(clerk_client, commerce_order, everything, "TRACK-OTHER", carrier="Other")
    assert named.status_code == 400  # Other still needs the carrier's name
    data = {f"quantity_{pk}": str(quantity) for pk, quantity in everything.items()}
    data.update(
        {"carrier_code": "Other", "carrier_title": "Trans-o-Flex", "tracking_number": "TOF-1"}
    )
    response = clerk_client.post(
        reverse("dashboard:commerce_order_ship_save", args=[commerce_order.pk]), data
    )
    assert response.status_code == 302
    deliver_outbox(synced_store)
    package = SandboxPackage.objects.get(order__order_id=amazon_order.amazon_order_id)
    assert (package.carrier_code, package.carrier_name, package.tracking_number) == (
        "Other",
        "Trans-o-Flex",
        "TOF-1",
    )


def test_a_shipment_refused_for_want_of_tracking_is_corrected_and_reaches_amazon(
    synced_store, clerk_client
):
    amazon_order = newest_unshipped_order(synced_store)
    commerce_order = amazon_order.commerce_order
    message = shipment_made_before_tracking_was_required(amazon_order)
    deliver_outbox(synced_store)
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED
    assert "packageDetail.trackingNumber is required." in message.result
    shipment = commerce_order.shipments.get()
    assert store_for_dashboard(synced_store.pk).refused_shipment_count == 1
    card = page(clerk_client, reverse("dashboard:store_list"))
    assert re.search(r'data-count="refused-shipments"[^>]*><a [^>]*><strong>1</strong>', card)
    content = detail(clerk_client, commerce_order)
    assert "Amazon requires a tracking number." in content
    assert 'data-action="amazon-retry"' not in content  # the same package would be refused
    assert 'data-form="shipment-correction"' in content

    # A plain retry (another tab, an old page) is refused: nothing changed.
    retry(clerk_client, commerce_order, message)
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED
    prefix = f"shipment-{shipment.pk}"
    url = reverse(
        "dashboard:commerce_order_shipment_correct", args=[commerce_order.pk, shipment.pk]
    )
    still_empty = clerk_client.post(
        url, {f"{prefix}-carrier_code": "DHL", f"{prefix}-tracking_number": ""}
    )
    assert still_empty.status_code == 400
    assert "Amazon requires a tracking number." in still_empty.content.decode()

    corrected = clerk_client.post(
        url, {f"{prefix}-carrier_code": "UPS", f"{prefix}-tracking_number": "1Z999AA10123456784"}
    )

    assert corrected.status_code == 302
    deliver_outbox(synced_store)
    message.refresh_from_db()
    shipment.refresh_from_db()
    amazon_order.refresh_from_db()
    assert message.state == OutboxMessage.State.DONE
    package = SandboxPackage.objects.get(order__order_id=amazon_order.amazon_order_id)
    assert (package.carrier_code, package.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert package.package_reference_id == shipment.increment_id
    assert (shipment.carrier_code, shipment.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert amazon_order.channel_notes == []
    assert store_for_dashboard(synced_store.pk).refused_shipment_count == 0
    assert "Confirmed by Amazon" in detail(clerk_client, commerce_order)
    assert any(
        event.comment_text.startswith(f"Shipment #{shipment.increment_id} corrected")
        for event in commerce_order.events.all()
    )


def test_cancel_order_is_refused_once_a_shipment_is_on_its_way_or_the_commerce_order_shipped(
    synced_store, clerk_client, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the shipment waits in the outbox
    amazon_order = newest_unshipped_order(synced_store)
    commerce_order = amazon_order.commerce_order
    everything = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}
    ship(clerk_client, commerce_order, everything, "TRACK-CANCEL")
    details_url = reverse("dashboard:order_detail", args=[synced_store.pk, amazon_order.pk])
    cancel_url = reverse("dashboard:order_cancel", args=[synced_store.pk, amazon_order.pk])
    confirm_url = reverse("dashboard:order_cancel_confirm", args=[synced_store.pk, amazon_order.pk])

    on_its_way = page(clerk_client, details_url)
    commerce_page = detail(clerk_client, commerce_order)
    refused = clerk_client.post(confirm_url, {"reason": "NoInventory"}, follow=True)

    assert "A shipment of this order is on its way to Amazon" in on_its_way
    assert cancel_url not in on_its_way
    assert "Cancel Order is not available: A shipment of this order is on its way" in (
        commerce_page
    )
    assert "View or Cancel Amazon Order" not in commerce_page
    assert "A shipment of this order is on its way to Amazon" in refused.content.decode()
    amazon_order.refresh_from_db()
    assert amazon_order.status == "Unshipped"
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.CANCEL_ORDER).exists()

    deliver_outbox(synced_store)  # Amazon took the shipment; our copy still says Unshipped
    shipped = page(clerk_client, details_url)
    assert f"Commerce order #{commerce_order.increment_id} has already shipped" in shipped
    assert cancel_url not in shipped
    clerk_client.post(confirm_url, {"reason": "NoInventory"})
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.CANCEL_ORDER).exists()


def event_texts(order, start: str) -> list[str]:
    """The starts of the order's history texts (in the active language) that begin with `start`."""
    return [
        event.message_text[: len(start)]
        for event in order.events.all()
        if event.message_text.startswith(start)
    ]
