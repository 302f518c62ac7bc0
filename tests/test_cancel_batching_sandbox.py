"""Cancels in a row, through the real client against the sandbox over HTTP (issue 15).

createFeed allows a burst of 15 and then one call per 2 minutes (0.0083/s, feeds_2021-06-30.json),
so cancellations are batched: the first of a quiet period goes at once, the next are collected
for a short window, nothing is opened while createFeed has no token, and a submitted feed does
not hold back the next one (IN_QUEUE "may be waiting for another IN_PROGRESS feed": Amazon
queues a seller's feeds itself). getFeed (2/s, burst 15) is polled soon, then less often. The
buyer's e-mail is a step of its own: a mail server that is down neither stops nor delays what
goes to Amazon.
"""

import socket
import socketserver
import threading
import time

import pytest
from celery.exceptions import Retry
from django.contrib.auth import get_user_model
from django.utils import timezone

from amazon_channel.models import AmazonFeed, AmazonOrder, AmazonOrderCancellation, OutboxMessage
from amazon_channel.orders.cancellation import amazon_order_cancel
from amazon_channel.outbox.feeds import feed_collection_window, store_outbox_deliver
from amazon_channel.spapi.client import OPERATION_LIMITS, AmazonClient
from amazon_channel.tasks import cancellation_buyer_email
from seller_central_sandbox.models import FeedProcessingStatus, SandboxFeed, SandboxOrder
from seller_central_sandbox.services.orders import orders_generate
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.sync_helpers import (
    buyer_emails_send,
    deliver_outbox,
    minutes_ago,
    store_for_seller,
    sync_to_the_end,
)

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"
FEEDS_PATH = "/feeds/2021-06-30/feeds"


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    settings.AMAZON_FEED_FIRST_POLL_SECONDS = 0.05
    settings.AMAZON_FEED_POLL_SECONDS = 0.2
    settings.AMAZON_FEED_COLLECT_SECONDS = 0.5
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def merchant():
    return get_user_model().objects.create_user("anna", password="x" * 20)


def synced_store(server, seller, *, count: int):
    orders_generate(seller=seller, count=count, seed=31, now=minutes_ago(30))
    store = store_for_seller(server, seller)
    sync_to_the_end(store)
    return store


@pytest.fixture
def store(sandbox_server, seller):
    return synced_store(sandbox_server, seller, count=30)


def unshipped(store, count: int) -> list[AmazonOrder]:
    orders = list(
        AmazonOrder.objects.filter(
            store=store, status="Unshipped", fulfillment_channel="MFN"
        ).order_by("amazon_order_id")[:count]
    )
    assert len(orders) == count
    return orders


def create_feed_calls(server) -> list:
    return [
        exchange
        for exchange in server.exchanges
        if exchange.method == "POST" and exchange.path == FEEDS_PATH
    ]


# The worker these tests play: a feed it leaves waiting (for its next poll) is its own, and it
# comes back to it (another worker would leave it alone until the lease lapses).
WORKER = "test-worker"


def deliver_once(store, *, holder: str = WORKER) -> float:
    """One delivery task's run, as Celery runs it after each Confirm; the wait it asks for."""
    outcome = store_outbox_deliver(store_id=store.pk, holder=holder)
    return 0.0 if outcome.is_finished else outcome.wait_seconds


def cancelled_at_amazon(orders) -> set[str]:
    return set(
        SandboxOrder.objects.filter(
            order_id__in=[order.amazon_order_id for order in orders], status="CANCELLED"
        ).values_list("order_id", flat=True)
    )


def test_the_first_cancel_goes_at_once_and_the_next_ones_are_collected_into_one_feed(
    sandbox_server, store, merchant, settings
):
    # Given a store that has sent no feed lately, and a window longer than this test's loop
    settings.AMAZON_FEED_COLLECT_SECONDS = 4
    first, *others = unshipped(store, 6)

    # When one cancel is confirmed, then five more right after it, each followed by its task
    amazon_order_cancel(order=first, actor=merchant, reason="NoInventory")
    deliver_once(store)  # the feed is submitted (on a slow machine it may be settled already)
    assert len(create_feed_calls(sandbox_server)) == 1
    for order in others:
        amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
        wait = deliver_once(store)
        # Then while the collection window runs nothing more is sent
        assert 0 < wait <= 4
    assert len(create_feed_calls(sandbox_server)) == 1
    time.sleep(4)
    deliver_outbox(store, holder=WORKER)

    # And the five travel together in the second feed, and all six are cancelled at Amazon
    assert len(create_feed_calls(sandbox_server)) == 2
    feeds = list(AmazonFeed.objects.filter(store=store).order_by("pk"))
    assert [feed.messages.count() for feed in feeds] == [1, 5]
    assert cancelled_at_amazon([first, *others]) == {
        order.amazon_order_id for order in [first, *others]
    }


def test_a_submitted_feed_does_not_hold_back_the_next_one(
    sandbox_server, store, merchant, settings
):
    # Given a feed Amazon keeps in its queue for a while (3 s at this time scale)
    settings.SANDBOX_TIME_SCALE = 1
    first, second = unshipped(store, 2)
    amazon_order_cancel(order=first, actor=merchant, reason="NoInventory")
    deliver_once(store, holder="first-task")
    [queued] = SandboxFeed.objects.filter(seller__seller_id=store.seller_id)

    # When a second cancel comes after the collection window, its task finds the first feed
    # still unfinished (and held by the first task, which polls it)
    amazon_order_cancel(order=second, actor=merchant, reason="NoInventory")
    time.sleep(0.5)
    deliver_once(store, holder="second-task")

    # Then the second feed is submitted without waiting for the first to finish
    assert len(create_feed_calls(sandbox_server)) == 2
    queued.refresh_from_db()
    assert queued.processing_status == FeedProcessingStatus.IN_QUEUE
    feeds = AmazonFeed.objects.filter(store=store).order_by("pk")
    assert [feed.state for feed in feeds] == [AmazonFeed.State.SUBMITTED] * 2
    assert OutboxMessage.objects.get(cancellation__order=second).feed == feeds[1]


def test_no_feed_is_opened_while_create_feed_has_no_token(sandbox_server, store, merchant):
    # Given our limiter has spent createFeed's burst for this seller (another store, say)
    client = AmazonClient(store)
    _rate, burst = OPERATION_LIMITS["createFeed"]
    for _ in range(burst):
        assert client.limiter.acquire(
            client._bucket_key("createFeed"), rate=client.paced_rate("createFeed"), burst=burst
        ) == (0.0)
    orders = unshipped(store, 3)

    # When cancels come in
    waits = []
    for order in orders:
        amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
        waits.append(deliver_once(store))

    # Then no feed is opened: the messages gather until a token is due (about one refill)
    refill = 1 / client.paced_rate("createFeed")
    assert all(0.5 < wait <= refill + 0.1 for wait in waits)
    assert not AmazonFeed.objects.filter(store=store).exists()
    assert create_feed_calls(sandbox_server) == []
    assert set(OutboxMessage.objects.filter(store=store).values_list("state", flat=True)) == {
        OutboxMessage.State.PENDING
    }

    # And once the token is due they all go in one feed
    time.sleep(refill)
    deliver_outbox(store, holder=WORKER)
    assert len(create_feed_calls(sandbox_server)) == 1
    assert cancelled_at_amazon(orders) == {order.amazon_order_id for order in orders}


def test_forty_cancels_at_once_go_in_few_feeds_without_a_429(
    sandbox_server, seller, merchant, settings
):
    # Given forty unshipped orders, and a collection window longer than it takes this test to
    # confirm forty cancels one by one (on any machine)
    store = synced_store(sandbox_server, seller, count=160)
    orders = unshipped(store, 40)
    settings.AMAZON_FEED_COLLECT_SECONDS = 60

    # When the merchant cancels all forty at once, each Confirm starting its task
    for order in orders:
        amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
        deliver_once(store)
    assert len(create_feed_calls(sandbox_server)) == 1  # the first, at once
    # and the window ends (shortened instead of waited for)
    settings.AMAZON_FEED_COLLECT_SECONDS = 0.01
    deliver_outbox(store, holder=WORKER)

    # Then every one reaches Amazon, in at most 3 createFeed calls, and Amazon throttled none
    assert cancelled_at_amazon(orders) == {order.amazon_order_id for order in orders}
    assert len(create_feed_calls(sandbox_server)) <= 3
    assert [exchange for exchange in sandbox_server.exchanges if exchange.status == 429] == []
    sizes = sorted(feed.messages.count() for feed in AmazonFeed.objects.filter(store=store))
    assert sum(sizes) == 40
    assert sizes == [1, 39]
    assert set(
        AmazonOrderCancellation.objects.filter(store=store).values_list("state", flat=True)
    ) == {AmazonOrderCancellation.State.CONFIRMED}


def test_a_submitted_feed_is_polled_soon_then_less_and_less_often(
    sandbox_server, store, merchant, settings
):
    # Given a feed that stays in Amazon's queue (30 s at this time scale) and a poll schedule
    # that starts at 0.2 s and grows up to 30 s
    settings.SANDBOX_TIME_SCALE = 0.1
    settings.AMAZON_RATE_LIMIT_SCALE = 0.1
    settings.AMAZON_FEED_FIRST_POLL_SECONDS = 0.2
    settings.AMAZON_FEED_POLL_SECONDS = 30
    [order] = unshipped(store, 1)
    amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    holder = "test-poller"

    # When the delivery comes back after each wait it asks for
    waits = []
    for _ in range(7):
        outcome = store_outbox_deliver(store_id=store.pk, holder=holder)
        waits.append(outcome.wait_seconds)
        time.sleep(outcome.wait_seconds)

    # Then the first poll comes soon, and each wait is at least as long as the one before,
    # growing by half as much again once the feed's age passes the first wait
    polls = [
        exchange
        for exchange in sandbox_server.exchanges
        if exchange.method == "GET" and exchange.path.startswith(f"{FEEDS_PATH}/")
    ]
    assert len(polls) == 7  # one right after createFeed, then one per wait
    # (at least the first-poll setting; half the feed's age when a busy machine made it older)
    assert 0.2 <= waits[0] <= 1.0
    assert waits == sorted(waits)
    assert waits[-1] > 3 * waits[0]
    # (half the age: the last wait plus twice the one before, and the calls' own time)
    assert waits[-1] >= 1.45 * waits[-2]
    assert SandboxFeed.objects.get(seller__seller_id=store.seller_id).processing_status in (
        FeedProcessingStatus.IN_QUEUE,
        FeedProcessingStatus.IN_PROGRESS,
    )


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's smtp backend: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self):
        self.reply("220 localhost test SMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "DATA":
                self.reply("354 end with .")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data)
                self.server.received.append((recipients, b"".join(body)))
                recipients = []
                self.reply("250 queued")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_mail_server_neither_stops_nor_delays_the_cancellations(
    sandbox_server, store, merchant, settings
):
    # Given a mail server that refuses connections (a closed port, the real smtp backend)
    port = closed_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_TIMEOUT = 2
    AmazonOrder.objects.filter(store=store).update(buyer_email="buyer@example.com")
    orders = unshipped(store, 9)

    # When nine cancellations are confirmed and delivered (the buyer e-mails tried after)
    for order in orders:
        amazon_order_cancel(order=order, actor=merchant, reason="NoInventory")
    deliver_outbox(store, holder=WORKER)

    # Then every one reached Amazon and is confirmed, and each e-mail waits for a retry
    assert cancelled_at_amazon(orders) == {order.amazon_order_id for order in orders}
    cancellations = AmazonOrderCancellation.objects.filter(store=store).order_by("pk")
    assert {cancellation.state for cancellation in cancellations} == {
        AmazonOrderCancellation.State.CONFIRMED
    }
    for cancellation in cancellations:
        assert cancellation.buyer_emailed_at is None
        assert cancellation.buyer_email_attempts == 1
        assert "ConnectionRefusedError" in cancellation.buyer_email_error
        assert cancellation.buyer_email_due_at > timezone.now()
    # And the e-mail's task asks Celery to retry it, the outbox untouched
    with pytest.raises(Retry):
        cancellation_buyer_email(cancellation_id=cancellations[0].pk)
    assert not OutboxMessage.objects.exclude(state=OutboxMessage.State.DONE).exists()

    # When the mail server is back and the retries come
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), _SMTPHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        assert buyer_emails_send(store) == [0.0] * 9
        assert buyer_emails_send(store) == []
        cancellation_buyer_email(cancellation_id=cancellations[0].pk)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    # Then each buyer got one e-mail, recorded as sent (the first after one more failure)
    assert len(server.received) == 9
    assert all(recipients == ["buyer@example.com"] for recipients, _ in server.received)
    attempts = []
    for cancellation in cancellations.all():
        assert cancellation.buyer_emailed_at is not None
        assert cancellation.buyer_email_due_at is None
        attempts.append(cancellation.buyer_email_attempts)
    assert attempts == [3] + [2] * 8


def test_the_collection_window_stays_short_for_ten_cancels_and_grows_after(settings):
    # Given the documented window of 4 s
    settings.AMAZON_FEED_COLLECT_SECONDS = 4

    # Then a quiet seller's first feed goes at once, the next five wait one window (10 cancels
    # within 20 s make at most 6 feeds), and each further feed within 2 minutes doubles it, up
    # to one createFeed refill
    windows = [feed_collection_window(recent) for recent in range(12)]
    assert windows == [0, 4, 4, 4, 4, 4, 8, 16, 32, 64, 120, 120]
