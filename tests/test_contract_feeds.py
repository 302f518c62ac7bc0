"""Amazon's word on our feeds, through the real client against the sandbox over HTTP.

- FATAL: "The feed was aborted due to a fatal error. Some, none, or all of the operations within
  the feed may have completed successfully." (feeds_2021-06-30.json, Feed.processingStatus).
- A lost createFeed answer: getFeeds lists every feed of the seller, its other tools' too, and a
  Feed names neither its application nor its input document: no feed is adopted as ours.
- Result documents may be GZIP (FeedDocument.compressionAlgorithm).
"""

import gzip
import logging
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from amazon_channel.models import (
    AmazonFeed,
    AmazonOrder,
    AmazonOrderCancellation,
    OutboxMessage,
)
from amazon_channel.orders.cancellation import amazon_order_cancel
from amazon_channel.outbox.feeds import (
    UNDECIDED_LIMIT,
    _feed_open,
    store_outbox_deliver,
    stores_with_outbox_work,
)
from amazon_channel.outbox.leases import lease_claim, lease_duration
from amazon_channel.spapi.client import AmazonClient, AmazonRetryableError, feed_document_download
from seller_central_sandbox.models import (
    FeedProcessingStatus,
    ResultCompression,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxOrder,
)
from seller_central_sandbox.services.feeds import feeds_foreign_create, seller_feed_faults_set
from seller_central_sandbox.services.orders import (
    ShipmentItem,
    order_shipment_confirm,
    orders_generate,
)
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import deliver_outbox, minutes_ago, store_for_seller, sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"
ACKNOWLEDGEMENT = "POST_ORDER_ACKNOWLEDGEMENT_DATA"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def merchant():
    return get_user_model().objects.create_user("anna", password="x" * 20)


@pytest.fixture
def store(sandbox_server, seller):
    orders_generate(seller=seller, count=30, seed=21, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller)
    sync_to_the_end(store)
    return store


def unshipped(store, count: int) -> list[AmazonOrder]:
    orders = list(
        AmazonOrder.objects.filter(
            store=store, status="Unshipped", fulfillment_channel="MFN"
        ).order_by("amazon_order_id")[:count]
    )
    assert len(orders) == count
    return orders


def amazon_status(order: AmazonOrder) -> str:
    return SandboxOrder.objects.get(order_id=order.amazon_order_id).status


def cancellation_of(order: AmazonOrder) -> AmazonOrderCancellation:
    return AmazonOrderCancellation.objects.get(order=order)


def our_feeds_naming(seller, order: AmazonOrder) -> int:
    """How many feeds this application sent Amazon that name the order."""
    return sum(
        order.amazon_order_id.encode() in bytes(feed.input_document.content or b"")
        for feed in SandboxFeed.objects.filter(seller=seller, application="")
    )


def ship_at_amazon(seller, order: AmazonOrder) -> None:
    sandbox_order = SandboxOrder.objects.get(order_id=order.amazon_order_id)
    order_shipment_confirm(
        seller=seller,
        order_id=sandbox_order.order_id,
        marketplace_id=DE,
        package_reference_id="P-1",
        carrier_code="UPS",
        tracking_number="1Z1",
        ship_date=minutes_ago(1).isoformat(),
        items=[
            ShipmentItem(order_item_id=item.order_item_id, quantity=item.quantity_ordered)
            for item in sandbox_order.items.all()
        ],
    )


def acknowledgement_of(seller, order: AmazonOrder) -> bytes:
    """What a seller's ERP sends: the order acknowledged (StatusCode Success)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header>'
        f"<DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>{seller.seller_id}"
        "</MerchantIdentifier></Header><MessageType>OrderAcknowledgement</MessageType>"
        "<Message><MessageID>1</MessageID><OrderAcknowledgement>"
        f"<AmazonOrderID>{order.amazon_order_id}</AmazonOrderID><StatusCode>Success</StatusCode>"
        "</OrderAcknowledgement></Message></AmazonEnvelope>"
    ).encode()


def worker_died_while_creating(store, *, is_create_feed_sent: bool) -> AmazonFeed:
    """A worker uploaded the feed, wrote CREATING (half a minute ago) and died during
    createFeed: with the call sent (Amazon has the feed) or before it left."""
    feed = _feed_open(store, AmazonClient(store)).feed
    feed = lease_claim(AmazonFeed.objects, pk=feed.pk, holder="dead", duration=lease_duration())
    client = AmazonClient(store)
    feed.feed_document_id = client.feed_document_upload(
        content=feed.content.encode(), content_type="text/xml; charset=UTF-8"
    )
    feed.state = AmazonFeed.State.CREATING
    feed.submitted_at = timezone.now() - timedelta(seconds=30)
    feed.save()
    if is_create_feed_sent:
        client.feed_create(feed_type=feed.feed_type, document_id=feed.feed_document_id)
    AmazonFeed.objects.filter(pk=feed.pk).update(lease_expires_at=timezone.now())
    return feed


# FATAL feeds


def test_a_fatal_feed_with_a_report_settles_each_cancellation_from_amazons_orders(
    store, seller, merchant
):
    # Given two cancellations in one feed, which Amazon aborts after applying the first
    first, second = unshipped(store, 2)
    for order in (first, second):
        amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    seller_feed_faults_set(seller=seller, fatal_next=1, fatal_applied=1)

    # When the outbox is delivered
    deliver_outbox(store)

    # Then the report does not account for either (one processed of two), so Amazon's orders
    # decide: the first was applied and is confirmed without being sent again, the second was
    # not and is sent again, once, in a new feed
    assert cancellation_of(first).state == AmazonOrderCancellation.State.CONFIRMED
    assert cancellation_of(second).state == AmazonOrderCancellation.State.CONFIRMED
    assert (amazon_status(first), amazon_status(second)) == ("CANCELLED", "CANCELLED")
    assert our_feeds_naming(seller, first) == 1
    assert our_feeds_naming(seller, second) == 2
    assert OutboxMessage.objects.filter(state=OutboxMessage.State.DONE).count() == 2


def test_a_fatal_feed_without_a_report_is_confirmed_from_the_order_and_not_sent_again(
    store, seller, merchant
):
    (order,) = unshipped(store, 1)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    seller_feed_faults_set(seller=seller, fatal_next=1, fatal_applied=1, has_fatal_report=False)

    deliver_outbox(store)

    assert cancellation_of(order).state == AmazonOrderCancellation.State.CONFIRMED
    assert our_feeds_naming(seller, order) == 1
    assert AmazonFeed.objects.get().processing_status == "FATAL"


def test_an_error_row_in_a_fatal_report_is_a_refusal_and_a_message_it_accounts_for_is_applied(
    store, seller, merchant
):
    # Given two cancellations, the first of an order that shipped meanwhile; Amazon processes
    # both, then aborts the feed
    shipped, cancellable = unshipped(store, 2)
    for order in (shipped, cancellable):
        amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    ship_at_amazon(seller, shipped)
    seller_feed_faults_set(seller=seller, fatal_next=1, fatal_applied=2)

    deliver_outbox(store)

    # Then the error row refuses the first, in Amazon's words; the summary (2 processed, 1
    # successful) proves the second applied: confirmed, and nothing is sent again
    refused = cancellation_of(shipped)
    assert refused.state == AmazonOrderCancellation.State.REJECTED
    assert "only unshipped orders can be canceled" in refused.amazon_message
    assert cancellation_of(cancellable).state == AmazonOrderCancellation.State.CONFIRMED
    assert SandboxFeed.objects.filter(seller=seller).count() == 1


def test_a_cancellation_whose_order_shipped_meanwhile_is_rejected_with_a_clear_message(
    store, seller, merchant
):
    (order,) = unshipped(store, 1)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    ship_at_amazon(seller, order)
    seller_feed_faults_set(seller=seller, fatal_next=1, fatal_applied=0, has_fatal_report=False)

    deliver_outbox(store)

    cancellation = cancellation_of(order)
    assert cancellation.state == AmazonOrderCancellation.State.REJECTED
    assert "the order has shipped since" in cancellation.amazon_message
    assert SandboxFeed.objects.filter(seller=seller).count() == 1
    order.refresh_from_db()
    assert order.status == "Shipped"


def test_a_cancellation_amazon_never_applies_is_sent_again_once_then_rejected(
    store, seller, merchant
):
    (order,) = unshipped(store, 1)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    seller_feed_faults_set(seller=seller, fatal_next=5, fatal_applied=0, has_fatal_report=False)

    deliver_outbox(store)

    cancellation = cancellation_of(order)
    assert cancellation.state == AmazonOrderCancellation.State.REJECTED
    assert "sent twice" in cancellation.amazon_message
    assert our_feeds_naming(seller, order) == 2
    assert amazon_status(order) == "UNSHIPPED"
    assert OutboxMessage.objects.get().key == f"cancel:{order.pk}"


# A lost createFeed answer


def test_a_lost_create_feed_never_adopts_another_tools_feed(store, seller, merchant):
    # Given our worker died before its createFeed left, and the seller's ERP acknowledged an
    # order in a feed of the same type since
    order, acknowledged = unshipped(store, 2)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    worker_died_while_creating(store, is_create_feed_sent=False)
    erp = feeds_foreign_create(
        seller=seller, feed_type=ACKNOWLEDGEMENT, content=acknowledgement_of(seller, acknowledged)
    )

    # When the outbox is delivered
    deliver_outbox(store)

    # Then the ERP's feed is not taken for ours: the order, still unshipped at Amazon, is
    # cancelled by our feed sent again, and that is what confirms the cancellation
    assert amazon_status(order) == "CANCELLED"
    assert cancellation_of(order).state == AmazonOrderCancellation.State.CONFIRMED
    assert erp.feed_id not in set(AmazonFeed.objects.values_list("feed_id", flat=True))
    assert our_feeds_naming(seller, order) == 1


def test_a_lost_feed_still_in_queue_is_waited_for_and_not_sent_twice(store, seller, merchant):
    # Given our worker died after its createFeed reached Amazon, and Amazon has not started
    # that feed yet; an ERP's feed of the same type came first
    order, acknowledged = unshipped(store, 2)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    erp = feeds_foreign_create(
        seller=seller, feed_type=ACKNOWLEDGEMENT, content=acknowledgement_of(seller, acknowledged)
    )
    worker_died_while_creating(store, is_create_feed_sent=True)
    lost = SandboxFeed.objects.get(seller=seller, application="")
    SandboxFeed.objects.filter(pk=lost.pk).update(
        processing_status=FeedProcessingStatus.IN_PROGRESS,
        processing_start_time=timezone.now() + timedelta(seconds=1.5),
    )

    # When the outbox is delivered
    deliver_outbox(store)

    # Then it waited for the unfinished feeds before reading the order: the cancellation is
    # confirmed from Amazon's order, our feed was sent once, and no feed was adopted
    assert cancellation_of(order).state == AmazonOrderCancellation.State.CONFIRMED
    assert our_feeds_naming(seller, order) == 1
    assert amazon_status(order) == "CANCELLED"
    assert list(AmazonFeed.objects.values_list("feed_id", flat=True)) == [""]
    assert erp.feed_id not in set(AmazonFeed.objects.values_list("feed_id", flat=True))


# An order whose state Amazon does not tell


def cancellation_checked_against(store, seller, merchant, *, status: str) -> OutboxMessage:
    """A cancellation Amazon did not apply, in a feed it ended FATAL without a report, checked
    once against its order while Amazon shows the order in `status`."""
    (order,) = unshipped(store, 1)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    seller_feed_faults_set(seller=seller, fatal_next=1, fatal_applied=0, has_fatal_report=False)
    SandboxOrder.objects.filter(order_id=order.amazon_order_id).update(status=status)
    deadline = time.monotonic() + 30
    while AmazonFeed.objects.filter(processing_status="FATAL").count() == 0:
        assert time.monotonic() < deadline, "the feed did not end in time"
        outcome = store_outbox_deliver(store_id=store.pk, holder="delivery")
        time.sleep(min(outcome.wait_seconds, 1))
    return OutboxMessage.objects.get(kind=OutboxMessage.Kind.CANCEL_ORDER)


def test_a_cancellation_waiting_on_its_order_is_left_to_its_delivery_until_the_next_check(
    store, seller, merchant
):
    # Given a cancellation whose order Amazon shows in a status we cannot read, checked once
    message = cancellation_checked_against(store, seller, merchant, status="ON_HOLD")

    # Then it waits for its next check, and the beat's sweep does not start another delivery
    assert message.state == OutboxMessage.State.VERIFYING
    assert message.lease_expires_at > timezone.now()
    assert store.pk not in stores_with_outbox_work()

    # Until that check is due and no delivery took it (its task was lost)
    OutboxMessage.objects.filter(pk=message.pk).update(lease_expires_at=timezone.now())
    assert store.pk in stores_with_outbox_work()


def test_a_cancellation_whose_order_stays_unreadable_is_handed_to_the_merchant(
    store, seller, merchant
):
    # Given a cancellation whose order Amazon has shown in an unknown status for a day
    message = cancellation_checked_against(store, seller, merchant, status="ON_HOLD")
    assert message.state == OutboxMessage.State.VERIFYING
    OutboxMessage.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - UNDECIDED_LIMIT - timedelta(minutes=1),
        lease_expires_at=timezone.now(),
    )

    # When it is checked again
    deliver_outbox(store)

    # Then it is no longer checked: rejected, telling the merchant to look in Seller Central
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED
    cancellation = message.cancellation
    assert cancellation.state == AmazonOrderCancellation.State.REJECTED
    assert "ON_HOLD" in cancellation.amazon_message
    assert "check the order in Amazon Seller Central" in cancellation.amazon_message
    assert store.pk not in stores_with_outbox_work()


def test_a_cancellation_whose_order_amazon_refuses_to_show_is_handed_to_the_merchant(
    store, seller, merchant
):
    # Given a cancellation waiting on its order, which Amazon refuses to show (400)
    message = cancellation_checked_against(store, seller, merchant, status="ON_HOLD")
    OutboxMessage.objects.filter(pk=message.pk).update(
        payload={**message.payload, "amazon_order_id": "not-an-order-id"}
    )

    # When it is checked again
    deliver_outbox(store)

    # Then a 4xx is not retried: rejected, telling the merchant to look in Seller Central
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED
    assert message.cancellation.state == AmazonOrderCancellation.State.REJECTED
    assert "check the order in Amazon Seller Central" in message.cancellation.amazon_message


# GZIP processing reports


def test_a_gzip_processing_report_is_read(store, seller, merchant):
    (order,) = unshipped(store, 1)
    seller_feed_faults_set(seller=seller, result_compression=ResultCompression.GZIP)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")

    deliver_outbox(store)

    assert cancellation_of(order).state == AmazonOrderCancellation.State.CONFIRMED
    feed = AmazonFeed.objects.get()
    assert feed.report.startswith("<?xml")
    assert SandboxFeed.objects.get(feed_id=feed.feed_id).result_document.compression_algorithm


def processed_report(store, seller, merchant) -> SandboxFeedDocument:
    """A cancellation delivered, and the sandbox's stored (GZIP) report of its feed."""
    (order,) = unshipped(store, 1)
    seller_feed_faults_set(seller=seller, result_compression=ResultCompression.GZIP)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    deliver_outbox(store)
    return SandboxFeed.objects.get(seller=seller).result_document


@pytest.mark.parametrize("damage", ["truncated", "not gzip at all"])
def test_a_corrupt_gzip_report_is_a_retryable_error_never_a_report(store, seller, merchant, damage):
    # Given a report Amazon says is GZIP whose bytes are cut short, or are not gzip at all
    document = processed_report(store, seller, merchant)
    stored = bytes(document.content)
    damaged = stored[:-12] if damage == "truncated" else gzip.decompress(stored)
    SandboxFeedDocument.objects.filter(pk=document.pk).update(content=damaged)

    # Then reading it is a retryable "could not read", never a report
    with pytest.raises(AmazonRetryableError, match="corrupt"):
        AmazonClient(store).feed_result_document(document.document_id)


def test_an_expired_document_url_is_retryable(store, seller, merchant, sandbox_server):
    document = processed_report(store, seller, merchant)
    SandboxFeedDocument.objects.filter(pk=document.pk).update(
        url_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with pytest.raises(AmazonRetryableError) as refused:
        feed_document_download(
            url=f"{sandbox_server.url}/feed-documents/{document.url_token}",
            compression_algorithm="GZIP",
            timeout=5,
        )

    assert refused.value.status_code == 403


def test_the_presigned_document_url_is_never_logged(store, seller, merchant, caplog):
    document = processed_report(store, seller, merchant)
    # Everything logged, httpx included (development logs its requests at INFO).
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")

    text = AmazonClient(store).feed_result_document(document.document_id)

    assert "<ProcessingReport>" in text
    refreshed = SandboxFeedDocument.objects.get(pk=document.pk)
    assert refreshed.url_token not in caplog.text
