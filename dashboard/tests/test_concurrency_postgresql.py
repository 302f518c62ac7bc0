"""Two people press Confirm on the same order at the same moment: one cancellation, and Amazon
receives one feed with one message."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderEvent,
    OutboxMessage,
)
from amazon_channel.orders.cancellation import (
    amazon_order_cancel,
    amazon_order_cancellation_acknowledge,
    cancellation_reject,
)
from amazon_channel.tests.factories import AmazonOrderFactory, AmazonOrderItemFactory
from dashboard.tests.factories import user_with_permissions
from seller_central_sandbox.acknowledgement import parse_acknowledgements
from seller_central_sandbox.models import SandboxFeed, SandboxOrder
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import deliver_outbox, minutes_ago, store_for_seller, sync_to_the_end

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

DE = "A1PA6795UKMFR9"
# The messages of the page each user lands on (the order page also states the cancellation).
SUCCESS = (
    'class="message success" role="status">The Amazon order has been canceled and the request '
    "has been submitted to Amazon."
)
REFUSAL = 'class="message error" role="status">The order is already canceled.'


def confirm_together(order, users, reason="NoInventory") -> list[str]:
    """Each user posts Confirm in a thread of their own, released together by a Barrier;
    returns the pages they land on."""
    url = reverse("dashboard:order_cancel_confirm", args=[order.store_id, order.pk])
    barrier = threading.Barrier(len(users))
    outcomes, errors = [], []

    def confirm(user):
        client = Client()
        client.force_login(user)
        try:
            barrier.wait(timeout=10)
            response = client.post(url, {"reason": reason}, follow=True)
            assert response.status_code == 200, response.status_code
            outcomes.append(response.content.decode())
        except Exception as error:  # noqa: BLE001 - reported below, in the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(outcomes) == len(users)
    return outcomes


def two_cancelers():
    return [
        user_with_permissions(name, "view_store", "view_amazonorder", "cancel_amazonorder")
        for name in ("anna", "ben")
    ]


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    return sandbox_seller_factory(marketplace_ids=[DE])


def test_two_concurrent_confirms_give_one_cancellation_event_and_outbox_message(
    settings, sandbox_server, seller
):
    # Given an Unshipped order synced from the sandbox
    settings.CELERY_TASK_ALWAYS_EAGER = False
    orders_generate(seller=seller, count=10, seed=31, now=minutes_ago(30))
    store = store_for_seller(sandbox_server, seller)
    sync_to_the_end(store)
    order = (
        AmazonOrder.objects.filter(store=store, status="Unshipped", fulfillment_channel="MFN")
        .order_by("amazon_order_id")
        .first()
    )
    assert order is not None

    # When two users confirm Cancel Order at the same moment, and the outbox is delivered
    outcomes = confirm_together(order, two_cancelers())
    deliver_outbox(store)

    # Then one of them canceled it, the other was told so, and Amazon got one message
    assert sorted(SUCCESS in page for page in outcomes) == [False, True]
    assert sum(REFUSAL in page for page in outcomes) == 1
    assert AmazonOrderCancellation.objects.filter(order=order).count() == 1
    assert AmazonOrderEvent.objects.filter(order=order, kind="cancel_requested").count() == 1
    assert OutboxMessage.objects.filter(key=f"cancel:{order.pk}").count() == 1
    assert OutboxMessage.objects.count() == 1
    [feed] = SandboxFeed.objects.filter(seller=seller)
    assert feed.feed_type == "POST_ORDER_ACKNOWLEDGEMENT_DATA"
    messages = parse_acknowledgements(bytes(feed.input_document.content))
    assert [(message.amazon_order_id, message.status_code) for message in messages] == [
        (order.amazon_order_id, "Failure")
    ]
    assert SandboxOrder.objects.get(order_id=order.amazon_order_id).status == "CANCELLED"
    assert AmazonOrderCancellation.objects.get(order=order).state == "confirmed"


def test_two_concurrent_confirms_after_a_reviewed_rejection_give_one_new_attempt(settings):
    # Given a cancellation Amazon rejected (the order Unshipped again), reviewed by a merchant
    settings.CELERY_TASK_ALWAYS_EAGER = False
    order = AmazonOrderFactory(status="Unshipped")
    AmazonOrderItemFactory(order=order)
    users = two_cancelers()
    cancellation = amazon_order_cancel(order=order, actor=users[0], reason="NoInventory")
    cancellation_reject(cancellation=cancellation, amazon_message="Try again later.")
    amazon_order_cancellation_acknowledge(cancellation=cancellation, actor=users[0])

    # When both users confirm Cancel Order again at the same moment
    outcomes = confirm_together(order, users, reason="BuyerCanceled")

    # Then exactly one new attempt: one new message under the attempt's key, one new event
    assert sorted(SUCCESS in page for page in outcomes) == [False, True]
    assert sum(REFUSAL in page for page in outcomes) == 1
    assert AmazonOrderCancellation.objects.get(order=order).state == "pending"
    assert AmazonOrderEvent.objects.filter(order=order, kind="cancel_requested").count() == 2
    assert sorted(OutboxMessage.objects.values_list("key", flat=True)) == [
        f"cancel:{order.pk}",
        f"cancel:{order.pk}:2",
    ]
