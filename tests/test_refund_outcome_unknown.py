"""A refund whose feed Amazon ended FATAL, through the Commerce order's page and the sandbox.

FATAL means "Some, none, or all of the operations within the feed may have completed
successfully" (feeds_2021-06-30.json). Amazon's order shows no refund state (the Orders API
2026-01-01 model has no refund or adjustment field), so a refund whose outcome the answer leaves
unknown is never sent again by itself nor by a plain Retry: the merchant checks Seller Central
and confirms it does not show the refund before it is sent again.
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from amazon_channel.models import AmazonOrderEvent, OutboxMessage
from amazon_channel.outbox.feeds import store_outbox_deliver
from commerce_orders.models import Product
from commerce_orders.notes import notes_text
from commerce_orders.services import invoice_create
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions
from seller_central_sandbox.models import FeedProcessingStatus, SandboxFeed, SandboxRefund
from seller_central_sandbox.services.feeds import seller_feed_faults_set
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import deliver_outbox, minutes_ago, store_for_seller, sync_to_the_end
from tests.test_commerce_actions_sandbox import credit_memo, detail, ship, unshipped_orders
from tests.test_contract_feeds import worker_died_while_creating

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"
REFUND_FEED = "POST_PAYMENT_ADJUSTMENT_DATA"


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
    orders_generate(seller=seller, count=20, seed=33, now=minutes_ago(30))
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
        )
    )
    return client


def shipped_commerce_order(store, client):
    """A Commerce order from Amazon, invoiced and shipped, Amazon told of the shipment."""
    amazon_order = unshipped_orders(store)[0]
    commerce_order = amazon_order.commerce_order
    if not commerce_order.invoices.exists():
        invoice_create(actor=None, order=commerce_order)
    everything = {item.pk: item.quantity_ordered for item in commerce_order.items.all()}
    assert ship(client, commerce_order, everything, "TRACK-SHIPPED").status_code == 302
    deliver_outbox(store)
    return amazon_order, commerce_order


def refund_sent_into_a_fatal_feed(store, seller, client, *, applied: int, has_report: bool):
    amazon_order, commerce_order = shipped_commerce_order(store, client)
    seller_feed_faults_set(
        seller=seller, fatal_next=1, fatal_applied=applied, has_fatal_report=has_report
    )
    item = commerce_order.items.order_by("pk").first()
    assert credit_memo(client, commerce_order, item).status_code == 302
    deliver_outbox(store)
    memo = commerce_order.credit_memos.get()
    return amazon_order, commerce_order, memo, OutboxMessage.objects.get(key=f"refund:{memo.pk}")


def memo_row(content: str, memo) -> str:
    return re.search(
        rf'<tr data-credit-memo="{memo.increment_id}">(.*?)</tr>', content, re.S
    ).group(1)


def refunds_at_amazon(amazon_order) -> int:
    return SandboxRefund.objects.filter(order__order_id=amazon_order.amazon_order_id).count()


def refund_feeds(seller) -> int:
    return SandboxFeed.objects.filter(seller=seller, feed_type=REFUND_FEED).count()


def test_a_refund_of_unknown_outcome_is_never_sent_again_by_itself_nor_by_a_plain_retry(
    synced_store, seller, clerk_client
):
    # Given a refund Amazon applied, in a feed it then ended FATAL without a report
    amazon_order, commerce_order, memo, message = refund_sent_into_a_fatal_feed(
        synced_store, seller, clerk_client, applied=1, has_report=False
    )

    # Then its outcome is unknown: it is not sent again, however often the outbox runs
    assert message.state == OutboxMessage.State.VERIFYING
    assert message.is_awaiting_merchant
    deliver_outbox(synced_store)
    assert refunds_at_amazon(amazon_order) == 1
    assert refund_feeds(seller) == 1
    # The credit memo says so, without a plain Retry button but with the confirmation form
    row = memo_row(detail(clerk_client, commerce_order), memo)
    assert "Outcome unknown: check this refund in Seller Central" in row
    assert 'data-action="amazon-retry"' not in row
    assert 'name="is_absent_in_seller_central"' in row
    amazon_order.refresh_from_db()
    assert "check this refund in Seller Central" in notes_text(amazon_order.channel_notes)

    # When the form is posted without the confirmation (a plain retry)
    retry_url = reverse(
        "dashboard:commerce_order_amazon_retry", args=[commerce_order.pk, message.pk]
    )
    response = clerk_client.post(retry_url)

    # Then nothing is sent again
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.VERIFYING
    deliver_outbox(synced_store)
    assert refunds_at_amazon(amazon_order) == 1
    assert refund_feeds(seller) == 1


def test_a_refund_of_unknown_outcome_is_sent_again_once_the_merchant_confirms_it_is_absent(
    synced_store, seller, clerk_client
):
    # Given a refund Amazon did not apply, in a feed it ended FATAL without a report
    amazon_order, commerce_order, _memo, message = refund_sent_into_a_fatal_feed(
        synced_store, seller, clerk_client, applied=0, has_report=False
    )
    assert message.state == OutboxMessage.State.VERIFYING
    assert refunds_at_amazon(amazon_order) == 0

    # When the merchant confirms that Seller Central does not show it
    response = clerk_client.post(
        reverse("dashboard:commerce_order_amazon_retry", args=[commerce_order.pk, message.pk]),
        {"is_absent_in_seller_central": "on"},
    )
    assert response.status_code == 302
    deliver_outbox(synced_store)

    # Then it is sent again, once, and confirmed; the confirmation is on record with its user
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.DONE
    assert not message.is_awaiting_merchant
    assert refunds_at_amazon(amazon_order) == 1
    assert refund_feeds(seller) == 2
    amazon_order.refresh_from_db()
    assert notes_text(amazon_order.channel_notes) == ""
    [confirmation] = [
        event
        for event in amazon_order.events.filter(kind=AmazonOrderEvent.Kind.NOTE)
        if event.message_text.startswith("Seller Central does not show")
    ]
    assert confirmation.actor.get_username() == "clerk"


def test_a_fatal_refund_report_that_accounts_for_the_refund_settles_it(
    synced_store, seller, clerk_client
):
    amazon_order, commerce_order, memo, message = refund_sent_into_a_fatal_feed(
        synced_store, seller, clerk_client, applied=1, has_report=True
    )

    assert message.state == OutboxMessage.State.DONE
    assert refunds_at_amazon(amazon_order) == 1
    assert "Confirmed by Amazon" in memo_row(detail(clerk_client, commerce_order), memo)


def test_a_lost_refund_feed_is_left_to_the_merchant_only_once_no_feed_that_could_be_ours_runs(
    synced_store, seller, clerk_client
):
    # Given a refund whose worker died during createFeed after Amazon took the feed, which
    # Amazon has not processed yet
    amazon_order, commerce_order = shipped_commerce_order(synced_store, clerk_client)
    item = commerce_order.items.order_by("pk").first()
    assert credit_memo(clerk_client, commerce_order, item).status_code == 302
    memo = commerce_order.credit_memos.get()
    worker_died_while_creating(synced_store, is_create_feed_sent=True)
    SandboxFeed.objects.filter(seller=seller, feed_type=REFUND_FEED).update(
        processing_status=FeedProcessingStatus.IN_PROGRESS,
        processing_start_time=timezone.now() + timedelta(seconds=1.5),
    )

    # When the outbox runs while that feed is unfinished
    store_outbox_deliver(store_id=synced_store.pk, holder="next-worker")

    # Then the refund is still being checked: Seller Central could not show it yet, so the
    # merchant is not asked, and nothing is sent again
    message = OutboxMessage.objects.get(key=f"refund:{memo.pk}")
    assert message.state == OutboxMessage.State.VERIFYING
    row = memo_row(detail(clerk_client, commerce_order), memo)
    assert "Checking with Amazon" in row
    assert 'name="is_absent_in_seller_central"' not in row

    # When the feed has finished
    deliver_outbox(synced_store)

    # Then the merchant is asked to check Seller Central, which shows the refund, applied once
    row = memo_row(detail(clerk_client, commerce_order), memo)
    assert "Outcome unknown: check this refund in Seller Central" in row
    assert 'name="is_absent_in_seller_central"' in row
    assert refunds_at_amazon(amazon_order) == 1
    assert refund_feeds(seller) == 1
