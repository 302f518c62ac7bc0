"""Amazon Order Details: what it shows, when Cancel Order appears, and Save Order."""

from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from itertools import takewhile

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from amazon_channel.models import (
    AmazonOrderCancellation,
    AmazonOrderEvent,
    AmazonOrderPackage,
)
from amazon_channel.orders.address_edits import amazon_order_shipping_address_update
from amazon_channel.stores.changes import marks_kept
from amazon_channel.tests.factories import (
    AmazonOrderFactory,
    AmazonOrderItemFactory,
    StoreFactory,
)
from commerce_orders.notes import text_note
from commerce_orders.tests.factories import CommerceOrderFactory, placed_order
from dashboard.tests.factories import CancellationFactory
from dashboard.tests.queries import permission_queries_again

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Erika Mustermann",
    "addressLine1": "Heidestraße 17",
    "city": "Köln",
    "postalCode": "51147",
    "countryCode": "DE",
}


def detail_url(order):
    return reverse("dashboard:order_detail", args=[order.store_id, order.pk])


class _PageText(HTMLParser):
    """The page's <dt>/<dd> pairs and table rows, as the reader sees their text."""

    CELLS = {"dt", "dd", "th", "td"}

    def __init__(self):
        super().__init__()
        self.terms: list[tuple[str, str]] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._term = ""

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag in self.CELLS:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in self.CELLS and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self._cell = None
            if tag == "dt":
                self._term = text
            elif tag == "dd":
                self.terms.append((self._term, text))
            elif self._row is not None:
                self._row.append(text)
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None


def page_text(content: str) -> _PageText:
    parser = _PageText()
    parser.feed(content)
    return parser


def details_of(content: str) -> dict[str, str]:
    """Order and Shipping Details: label -> value (the first list of the page)."""
    details: dict[str, str] = {}
    for term, value in page_text(content).terms:
        details.setdefault(term, value)
    return details


def item_rows_of(content: str) -> list[dict[str, str]]:
    """Order Items: one {column: value} per item row."""
    rows = page_text(content).rows
    header = next(row for row in rows if "Condition" in row)
    items = takewhile(lambda row: len(row) == len(header), rows[rows.index(header) + 1 :])
    return [dict(zip(header, row, strict=True)) for row in items]


def test_the_details_show_items_tracking_commerce_order_and_history(merchant_client, merchant):
    store = StoreFactory(is_import_enabled=True)
    order = AmazonOrderFactory(
        store=store,
        shipping_address=ADDRESS,
        ship_service_level="Std DE Dom",
        latest_ship_date=timezone.now() + timedelta(days=2),
        is_prime=True,
        order_notes=[text_note("Gift wrap please")],
        commerce_order=CommerceOrderFactory(increment_id="000000077"),
    )
    AmazonOrderItemFactory(order=order, title="Blue mug", seller_sku="MUG-BLUE", asin="B000MUG")
    AmazonOrderPackage.objects.create(
        order=order,
        package_reference_id="1",
        carrier="DHL",
        shipping_service="Paket",
        tracking_number="00340434161094042557",
    )
    AmazonOrderEvent.objects.create(
        order=order,
        kind=AmazonOrderEvent.Kind.STATUS_CHANGED,
        actor=merchant,
        old_status="Pending",
        new_status="Unshipped",
    )

    response = merchant_client.get(detail_url(order))

    content = response.content.decode()
    for text in (
        "Amazon Order Details",
        order.amazon_order_id,
        "Heidestraße 17",
        "Std DE Dom",
        "Prime",
        "Gift wrap please",
        "Blue mug",
        "MUG-BLUE",
        "B000MUG",
        "29.90 EUR",
        "DHL",
        "00340434161094042557",
        "000000077",
        reverse("dashboard:commerce_order_detail", args=[order.commerce_order.pk]),
        "merchant",
        "Pending → Unshipped",
        "Cancel Order",
    ):
        assert text in content, text


@pytest.mark.parametrize(
    ("channel", "channel_label"),
    [("MFN", "Fulfilled by merchant"), ("AFN", "Fulfilled by Amazon")],
)
def test_the_details_show_buyer_email_dates_fulfillment_counts_order_type_and_item_money(
    merchant_client, channel, channel_label
):
    latest_ship_date = timezone.make_aware(datetime(2025, 3, 12, 18, 30))
    order = AmazonOrderFactory(
        buyer_email="erika@marketplace.amazon.de",
        latest_ship_date=latest_ship_date,
        fulfillment_channel=channel,
        number_of_items_shipped=1,
        number_of_items_unshipped=2,
        is_business_order=True,
        is_premium_order=True,
    )
    AmazonOrderItemFactory(
        order=order,
        title="Blue mug",
        condition="Used",
        quantity_ordered=3,
        quantity_shipped=1,
        item_price=Decimal("29.90"),
        item_tax=Decimal("4.77"),
        shipping_price=Decimal("3.99"),
    )

    content = merchant_client.get(detail_url(order)).content.decode()

    details = details_of(content)
    assert details["Buyer email"] == "erika@marketplace.amazon.de"
    assert details["Latest ship date"] == date_format(
        timezone.localtime(latest_ship_date), "SHORT_DATETIME_FORMAT"
    )
    assert details["Fulfillment channel"] == channel_label
    assert details["Items shipped"] == "1"
    assert details["Items unshipped"] == "2"
    assert details["Order type"] == "Business order Premium order"
    assert item_rows_of(content) == [
        {
            "Title": "Blue mug",
            "ASIN": order.items.get().asin,
            "SKU": order.items.get().seller_sku,
            "Condition": "Used",
            "Qty ordered": "3",
            "Qty shipped": "1",
            "Price": "29.90 EUR",
            "Tax": "4.77 EUR",
            "Shipping": "3.99 EUR",
        }
    ]


def test_a_standard_order_has_no_order_type_badge(merchant_client):
    order = AmazonOrderFactory(is_prime=False, is_business_order=False, is_premium_order=False)

    content = merchant_client.get(detail_url(order)).content.decode()

    assert details_of(content)["Order type"] == "Standard"


def test_a_merchant_with_the_permissions_gets_cancel_order_and_save_order(merchant_client):
    order = AmazonOrderFactory(status="Unshipped", shipping_address=ADDRESS)

    content = merchant_client.get(detail_url(order)).content.decode()

    cancel = reverse("dashboard:order_cancel", args=[order.store_id, order.pk])
    save = reverse("dashboard:order_shipping_address_update", args=[order.store_id, order.pk])
    assert f'href="{cancel}"' in content
    assert f'action="{save}"' in content
    assert "Save Order" in content.split(f'action="{save}"', 1)[1].split("</form>", 1)[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("order_count", [1, 10])
def test_the_details_use_the_same_queries_however_long_the_history(
    merchant_client, merchant, django_assert_num_queries, order_count, session_queries
):
    order = AmazonOrderFactory()
    AmazonOrderItemFactory.create_batch(order_count, order=order)
    for _ in range(order_count):
        AmazonOrderEvent.objects.create(order=order, kind="note", actor=merchant)

    # Session (unless Redis holds it), user, permissions (2), the store (on PostgreSQL with
    # its mark), the order, items, packages, events with users; what Amazon sent as it came is
    # for Django admin, never read.
    with django_assert_num_queries(8 + session_queries) as captured:
        first = merchant_client.get(detail_url(order))

    assert not any("raw_payload" in query["sql"] for query in captured.captured_queries)
    if marks_kept():
        # Again, nothing written: the order as this process read it under the store's mark
        # (user, permissions unless Redis holds them now, store with its mark).
        with django_assert_num_queries(2 + permission_queries_again() + session_queries):
            again = merchant_client.get(detail_url(order))
        assert again.context["order"].pk == first.context["order"].pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_the_details_show_a_write_at_once_though_kept_under_the_mark(merchant_client, merchant):
    commerce_order = CommerceOrderFactory()
    order = AmazonOrderFactory(commerce_order=commerce_order)
    AmazonOrderEvent.objects.create(order=order, kind="note", actor=merchant, message="Checked.")
    url = detail_url(order)
    merchant_client.get(url)
    assert merchant.username in merchant_client.get(url).content.decode()  # kept

    AmazonOrderEvent.objects.create(order=order, kind="note", message="Called the buyer.")
    AmazonOrderPackage.objects.create(
        order=order, package_reference_id="1", tracking_number="TRK-77"
    )
    merchant.username = "renamed-merchant"
    merchant.save()

    content = merchant_client.get(url).content.decode()
    assert "Called the buyer." in content
    assert "TRK-77" in content
    assert "renamed-merchant" in content


@pytest.mark.parametrize("status", ["Pending", "PendingAvailability", "PartiallyShipped"])
def test_pending_orders_say_to_cancel_in_seller_central_and_show_no_button(merchant_client, status):
    order = AmazonOrderFactory(status=status, store=StoreFactory(marketplace_code="DE"))

    content = merchant_client.get(detail_url(order)).content.decode()

    assert "This order can only be canceled in Amazon Seller Central." in content
    assert "https://sellercentral-europe.amazon.com" in content
    assert "Cancel Order" not in content
    assert reverse("dashboard:order_cancel", args=[order.store_id, order.pk]) not in content


def test_shipped_orders_say_returns_are_handled_in_seller_central(merchant_client):
    order = AmazonOrderFactory(
        status="Shipped", store=StoreFactory(marketplace_code="US", region="NA")
    )

    content = merchant_client.get(detail_url(order)).content.decode()

    assert "returns and exchanges are handled in Amazon Seller Central" in content
    assert "https://sellercentral.amazon.com" in content
    assert "Cancel Order" not in content


def test_a_cancellation_in_progress_is_shown(merchant_client):
    cancellation = CancellationFactory()

    content = merchant_client.get(detail_url(cancellation.order)).content.decode()

    # What the cancellation waits for; the flash message after Confirm says it was submitted.
    assert "Waiting for Amazon to confirm the cancellation." in content
    assert "has been submitted to Amazon" not in content
    assert "Cancel Order" not in content
    # The pending cancellation says it all: no second notice that the order is canceled.
    assert "The order is already canceled." not in content


def test_a_rejected_cancellation_is_shown_and_can_be_marked_as_reviewed(merchant_client):
    cancellation = CancellationFactory(
        state=AmazonOrderCancellation.State.REJECTED, amazon_message="Order already shipped."
    )
    order = cancellation.order

    before = merchant_client.get(detail_url(order)).content.decode()
    response = merchant_client.post(
        reverse("dashboard:order_cancellation_acknowledge", args=[order.store_id, order.pk])
    )
    after = merchant_client.get(detail_url(order)).content.decode()

    assert "Cancellation rejected by Amazon" in before
    assert "Order already shipped." in before
    assert "Mark as reviewed" in before
    assert response.status_code == 302
    cancellation.refresh_from_db()
    assert cancellation.is_rejection_acknowledged is True
    assert order.events.filter(kind=AmazonOrderEvent.Kind.NOTE).count() == 1
    assert "Mark as reviewed" not in after


def test_a_rejected_cancellation_of_a_shipped_order_shows_the_rejection_and_the_returns_notice(
    merchant_client,
):
    # Given Amazon rejected the cancellation because the order had shipped, as read back
    cancellation = CancellationFactory(
        order__status="Shipped",
        order__store=StoreFactory(marketplace_code="DE"),
        state=AmazonOrderCancellation.State.REJECTED,
        amazon_message="Order already shipped.",
    )
    order = cancellation.order

    content = merchant_client.get(detail_url(order)).content.decode()

    assert 'data-notice="cancellation-rejected"' in content
    assert "Order already shipped." in content
    assert "returns and exchanges are handled in Amazon Seller Central" in content
    assert "https://sellercentral-europe.amazon.com" in content
    assert reverse("dashboard:order_cancel", args=[order.store_id, order.pk]) not in content


def test_a_merchant_can_mark_a_rejected_cancellation_as_reviewed_only_until_it_is(merchant_client):
    cancellation = CancellationFactory(
        order__status="Unshipped", state=AmazonOrderCancellation.State.REJECTED
    )
    order = cancellation.order
    review = reverse("dashboard:order_cancellation_acknowledge", args=[order.store_id, order.pk])

    before = merchant_client.get(detail_url(order)).content.decode()
    merchant_client.post(review)
    after = merchant_client.get(detail_url(order)).content.decode()

    assert f'action="{review}"' in before
    assert f'action="{review}"' not in after
    # Reviewed, and the order still Unshipped: Cancel Order may be tried again.
    assert f'href="{reverse("dashboard:order_cancel", args=[order.store_id, order.pk])}"' in after


def test_a_buyer_requested_cancellation_is_shown(merchant_client):
    order = AmazonOrderFactory(
        is_buyer_requested_cancellation=True, buyer_cancellation_reason="Ordered twice"
    )

    content = merchant_client.get(detail_url(order)).content.decode()

    assert "The buyer asked to cancel this order." in content
    assert "Ordered twice" in content


def test_save_order_changes_the_address_and_records_who_did_it(merchant_client):
    order = AmazonOrderFactory(shipping_address={**ADDRESS, "companyName": "ACME"})
    url = reverse("dashboard:order_shipping_address_update", args=[order.store_id, order.pk])

    response = merchant_client.post(
        url, {**ADDRESS, "addressLine1": "Domstraße 1", "countryCode": "de"}, follow=True
    )

    order.refresh_from_db()
    assert order.shipping_address == {
        **ADDRESS,
        "addressLine1": "Domstraße 1",
        "companyName": "ACME",
    }
    event = order.events.get()
    assert event.kind == AmazonOrderEvent.Kind.ADDRESS_CHANGED
    assert event.actor.get_username() == "merchant"
    assert "addressLine1" in event.message_text
    assert "You saved the order." in response.content.decode()
    assert "Shipping address changed" in response.content.decode()


def test_save_order_with_a_missing_street_shows_the_error_and_saves_nothing(merchant_client):
    order = AmazonOrderFactory(shipping_address=ADDRESS)
    url = reverse("dashboard:order_shipping_address_update", args=[order.store_id, order.pk])

    response = merchant_client.post(url, {**ADDRESS, "addressLine1": "", "countryCode": "DEU"})

    assert response.status_code == 400
    assert set(response.context["address_form"].errors) == {"addressLine1", "countryCode"}
    order.refresh_from_db()
    assert order.shipping_address == ADDRESS
    assert not order.events.exists()


def test_saving_the_same_address_records_no_event(merchant):
    order = AmazonOrderFactory(shipping_address=ADDRESS)

    amazon_order_shipping_address_update(order=order, actor=merchant, address=dict(ADDRESS))

    assert not order.events.exists()


def test_the_address_service_refuses_unknown_keys(merchant):
    order = AmazonOrderFactory(shipping_address=ADDRESS)

    with pytest.raises(ValueError, match="unknown address keys"):
        amazon_order_shipping_address_update(
            order=order, actor=merchant, address={"addressLine3": "x"}
        )


@pytest.mark.parametrize(
    ("fulfillment_channel", "status", "is_commerce_shipped", "reason"),
    [
        ("AFN", "Unshipped", False, "Amazon fulfils this order"),
        ("AFN", "Shipped", False, "Amazon fulfils this order"),
        ("MFN", "Shipped", False, "The order has shipped"),
        ("MFN", "PartiallyShipped", False, "The order has shipped"),
        ("MFN", "Canceled", False, "The order is canceled"),
        ("MFN", "Unshipped", True, "The order has shipped"),
    ],
)
def test_edit_shipping_address_is_offered_only_where_it_can_matter(
    merchant_client, fulfillment_channel, status, is_commerce_shipped, reason
):
    order = AmazonOrderFactory(
        fulfillment_channel=fulfillment_channel, status=status, shipping_address=ADDRESS
    )
    if is_commerce_shipped:
        commerce_order = placed_order(external_order_id=order.amazon_order_id)
        commerce_order.items.update(quantity_shipped=1)
        order.commerce_order = commerce_order
        order.save(update_fields=["commerce_order"])
    url = reverse("dashboard:order_shipping_address_update", args=[order.store_id, order.pk])

    content = merchant_client.get(detail_url(order)).content.decode()
    response = merchant_client.post(url, {**ADDRESS, "addressLine1": "Domstraße 1"}, follow=True)

    assert "Edit shipping address" not in content
    assert f'action="{url}"' not in content
    assert response.redirect_chain == [(detail_url(order), 302)]
    assert reason in response.content.decode()
    order.refresh_from_db()
    assert order.shipping_address == ADDRESS
    assert not order.events.exists()


def test_edit_shipping_address_stays_on_an_unshipped_merchant_fulfilled_order(merchant_client):
    order = AmazonOrderFactory(fulfillment_channel="MFN", status="Unshipped")

    content = merchant_client.get(detail_url(order)).content.decode()

    assert "Edit shipping address" in content


def test_a_shipped_amazon_fulfilled_order_says_what_amazon_says_of_its_shipment(merchant_client):
    last_update = timezone.now() - timedelta(days=1)
    order = AmazonOrderFactory(
        fulfillment_channel="AFN",
        status="Shipped",
        ship_service_level="Expedited",
        number_of_items_shipped=2,
        number_of_items_unshipped=0,
        last_update_date=last_update,
    )

    content = merchant_client.get(detail_url(order)).content.decode()

    assert "No package has shipped yet." not in content
    shipped_on = date_format(timezone.localtime(last_update), "SHORT_DATETIME_FORMAT")
    assert (
        f"Fulfilled by Amazon: Amazon reports 2 items shipped (Amazon's last update: "
        f"{shipped_on})." in content
    )
    assert "Ship service level: Expedited." in content
    assert "Amazon gives no packages or tracking numbers of the orders it fulfils." in content


def test_an_unshipped_merchant_order_still_says_no_package_has_shipped(merchant_client):
    order = AmazonOrderFactory(fulfillment_channel="MFN", status="Unshipped")

    content = merchant_client.get(detail_url(order)).content.decode()

    assert "No package has shipped yet." in content
    assert "Fulfilled by Amazon" not in content.split("Tracking", 1)[1]
