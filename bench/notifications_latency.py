"""Amazon's notifications: order change -> visible here, and cancel Confirm -> "Amazon confirmed",
with duplicates, reordering and drops (issue 16).

    .venv/bin/python bench/notifications_latency.py [--changes 100] [--sellers 4] [--spacing 0.6]
        [--copies 3] [--drop 0.1] [--no-swap] [--cancels 6] [--cancel-spacing 10]
        [--feed-seconds 60] [--workers 2] [--no-poll]

Production's process layout, each its own OS process: moto's SQS server (the Procfile's `sqs:`),
the Seller Central sandbox under gunicorn (its pump sends held-back notifications), the consumer
(`manage.py notifications_consume`, the Procfile's `notifications:`) and --workers Celery workers;
PostgreSQL, and Redis as broker and shared limiter. Amazon's real rates and feed times
(SANDBOX_TIME_SCALE = 1): getOrder 0.5/s burst 30 per seller, a feed 3 s queued and 3 s processed.

Changes: --sellers sellers, each with a store subscribed as connect subscribes it
(store_notifications_subscribe: a destination on moto's queue, ORDER_CHANGE and
FEED_PROCESSING_FINISHED), orders generated and imported first (not timed). The seller's delivery
faults: --copies copies of every notification, pairs swapped (unless --no-swap), --drop of them
never sent. Then --changes changes at Amazon, --spacing seconds apart, round robin over the sellers
(Amazon's getOrder rate is per seller): a pending order paid, or a buyer asking to cancel an
unshipped one (OrderChangeNotification's OrderStatusChange and BuyerRequestedChange). A change is
visible when our order shows it (status Unshipped, or the buyer's cancellation request); its
latency runs from the sandbox's commit of the change. What was dropped is caught by the poll:
once Amazon's two-minute rule allows, each store syncs as beat would, and every change must be
visible; those latencies are the poll's (the "before" of a change, minutes).

Cancels: --cancels cancels on a subscribed seller and as many, at the same moments, on a seller
without notifications (the getFeed poll alone: first poll after AMAZON_FEED_FIRST_POLL_SECONDS,
then half the feed's age, at most AMAZON_FEED_POLL_SECONDS), --cancel-spacing seconds apart so
that each goes in a feed of its own: Confirm (the return of amazon_order_cancel) -> the
cancellation CONFIRMED here. The sandbox's feeds take --feed-seconds (its default of 6 s makes
the poll's first tries land on time; Amazon documents no processing time and takes minutes).

Prints the latencies (p50/p95/max, nearest rank), copies and drops counted by the sandbox,
notifications recorded and their receipts, getOrder calls, Amazon orders and Commerce orders per
Amazon order (zero doubles), push misses, and a RESULT line.
"""

import argparse
import itertools
import math
import os
import secrets
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _setup import (  # noqa: E402
    bench_django,
    nearest_rank,
    sandbox_seller_create,
    store_create,
    verdict,
)
from scale_out import (  # noqa: E402
    VENV_BIN,
    Processes,
    access_log_counts,
    child_environment,
    free_port,
    sandbox_start,
    sync_store,
    wait_for_port,
    workers_start,
)

DE = "A1PA6795UKMFR9"
GET_ORDER_PATH = "/orders/2026-01-01/orders/{id}"
VISIBLE_FIELDS = ("store_id", "amazon_order_id", "status", "is_buyer_requested_cancellation")


def figures(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (
        f"n={len(values)} p50={nearest_rank(values, 0.5):.2f}s "
        f"p95={nearest_rank(values, 0.95):.2f}s max={max(values):.2f}s"
    )


class Change:
    def __init__(self, *, store_id: int, order_id: str, step: str, at):
        self.store_id = store_id
        self.order_id = order_id
        self.step = step
        self.at = at
        self.seen_at = None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--sellers", type=int, default=4)
    parser.add_argument("--spacing", type=float, default=0.6, help="seconds between changes")
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--drop", type=float, default=0.1, help="share of notifications dropped")
    parser.add_argument("--no-swap", action="store_true", help="deliver in order")
    parser.add_argument("--cancels", type=int, default=6, help="per seller, with and without")
    parser.add_argument("--cancel-spacing", type=float, default=10.0)
    parser.add_argument(
        "--feed-seconds",
        type=float,
        default=60.0,
        help="the sandbox's feed time, half queued and half processed (its default is 6)",
    )
    parser.add_argument(
        "--no-poll",
        action="store_true",
        help="no poll after the changes (with --drop 0 it has nothing to catch): a quick run",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=240.0, help="per wait")
    arguments = parser.parse_args()

    if not os.environ.get("REDIS_URL"):
        print("REDIS_URL must be set: the workers need a broker and the shared limiter")
        return 2

    from cryptography.fernet import Fernet

    sqs_port = free_port()
    sqs_url = f"http://127.0.0.1:{sqs_port}"
    queue_name = f"bench-notifications-{uuid.uuid4().hex[:8]}"
    # moto's account and the queue URL it gives for the name (the consumer reads this URL).
    queue_url = f"{sqs_url}/123456789012/{queue_name}"
    celery_queue = f"bench-notifications-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    shared_env = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIALS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SANDBOX_TIME_SCALE": "1",
        "AMAZON_RATE_LIMIT_SCALE": "1",
        "SELLER_CENTRAL_SANDBOX_ENABLED": "true",
        "SANDBOX_SQS_ENDPOINT_URL": sqs_url,
        "SANDBOX_NOTIFICATION_PUMP_SECONDS": "0.5",
        "SANDBOX_FEED_QUEUE_SECONDS": str(arguments.feed_seconds / 2),
        "SANDBOX_FEED_PROCESSING_SECONDS": str(arguments.feed_seconds / 2),
        "AMAZON_SQS_ENDPOINT_URL": sqs_url,
        "AMAZON_NOTIFICATIONS_QUEUE_URL": queue_url,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        # The poll that catches drops runs as soon as Amazon's two-minute rule allows.
        "AMAZON_CLOCK_SKEW_MARGIN_SECONDS": "5",
        "BENCH_CELERY_QUEUE": celery_queue,
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }

    with bench_django(
        "notifications_latency", extra_env=shared_env, settings_module="_bench_settings"
    ) as info:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.db.models import Count
        from django.utils import timezone

        from amazon_channel.models import (
            AmazonNotification,
            AmazonOrder,
            AmazonOrderCancellation,
            SyncRun,
        )
        from amazon_channel.notifications.queues import notification_queue_create
        from amazon_channel.notifications.setup import store_notifications_subscribe
        from amazon_channel.orders.cancellation import amazon_order_cancel
        from commerce_orders.models import CommerceOrder
        from config.celery import app as celery_app
        from seller_central_sandbox.models import SandboxNotification
        from seller_central_sandbox.models import SandboxOrder as Amazon
        from seller_central_sandbox.services.notifications import seller_notification_faults_set
        from seller_central_sandbox.services.orders import (
            order_lifecycle_step,
            orders_generate,
        )

        if info.vendor != "postgresql":
            print("DATABASE_URL must point at PostgreSQL: several processes write at once")
            return 2
        print(
            f"machine: {os.cpu_count()} cores, load average "
            + " ".join(f"{value:.2f}" for value in os.getloadavg())
        )
        print(
            f"settings: SANDBOX_TIME_SCALE={settings.SANDBOX_TIME_SCALE:g} (real time) "
            "AMAZON_NOTIFICATIONS_COALESCE_SECONDS="
            f"{settings.AMAZON_NOTIFICATIONS_COALESCE_SECONDS:g} "
            f"AMAZON_FEED_FIRST_POLL_SECONDS={settings.AMAZON_FEED_FIRST_POLL_SECONDS:g} "
            f"AMAZON_FEED_POLL_SECONDS={settings.AMAZON_FEED_POLL_SECONDS:g} "
            f"sandbox feed time {arguments.feed_seconds:g}s"
        )
        merchant = get_user_model().objects.create_user("bench-merchant", password="x" * 20)
        logs = Path(tempfile.mkdtemp(prefix="bench_notifications_logs_"))
        processes = Processes()
        child_env = child_environment()
        try:
            moto = processes.start(
                "sqs",
                [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(sqs_port)],
                environment=child_env,
                log_path=logs / "sqs.log",
            )
            wait_for_port(sqs_port, process=moto, log_path=logs / "sqs.log")
            queue = notification_queue_create(
                name=queue_name,
                max_receives=settings.AMAZON_NOTIFICATIONS_MAX_RECEIVES,
                region="us-east-1",
                endpoint_url=sqs_url,
            )
            if queue.url != queue_url:
                raise RuntimeError(f"moto named the queue {queue.url}, not {queue_url}")

            port = free_port()
            url = f"http://127.0.0.1:{port}"
            _sandbox, access_log = sandbox_start(
                processes, port=port, logs=logs, environment=child_env
            )

            def seller_with_store(label: str, orders: int, *, is_subscribed: bool):
                seller = sandbox_seller_create(marketplace_id=DE)
                orders_generate(
                    seller=seller, count=orders, seed=11, now=timezone.now() - timedelta(hours=1)
                )
                store = store_create(
                    name=f"Bench notifications {label}",
                    seller_id=seller.seller_id,
                    marketplace_id=DE,
                    sp_api_endpoint=url,
                    token_endpoint=f"{url}/auth/o2/token",
                    lwa_client_id=seller.client_id,
                    lwa_client_secret=seller.client_secret,
                    refresh_token=seller.refresh_token,
                )
                sync_store(store)
                if is_subscribed and not store_notifications_subscribe(store_id=store.pk):
                    raise RuntimeError(f"{label}: notifications not on")
                return seller, store

            started = time.perf_counter()
            per_seller = math.ceil(arguments.changes / arguments.sellers)
            change_sellers = [
                seller_with_store(f"changes {n}", per_seller * 3, is_subscribed=True)
                for n in range(1, arguments.sellers + 1)
            ]
            cancel_count = max(20, arguments.cancels * 3)
            cancel_on = seller_with_store("cancels, notified", cancel_count, is_subscribed=True)
            cancel_off = seller_with_store("cancels, polled", cancel_count, is_subscribed=False)
            print(
                f"setup: {len(change_sellers) + 2} sellers, orders generated, imported and "
                f"subscribed in {time.perf_counter() - started:.1f}s (not timed)"
            )

            for name in ("notifications",):
                processes.start(
                    name,
                    [str(VENV_BIN / "python"), "manage.py", "notifications_consume"],
                    # Its last line counts what it took: recorded, copies, poison...
                    environment={**child_env, "LOG_LEVEL": "INFO"},
                    log_path=logs / f"{name}.log",
                )
            workers_start(
                processes, arguments.workers, app=celery_app, environment=child_env, logs=logs
            )
            print(
                f"processes: moto SQS on {sqs_url}, sandbox under gunicorn on {url}, "
                f"`manage.py notifications_consume`, {arguments.workers} x `celery worker "
                f"--concurrency 1`; logs in {logs}"
            )
            # Faults from now on: the set-up's own notifications went plainly.
            for seller, _store in change_sellers:
                seller_notification_faults_set(
                    seller=seller,
                    copies=arguments.copies,
                    drop_share=arguments.drop,
                    is_order_swapped=not arguments.no_swap,
                )

            def check_alive() -> None:
                for name, process in processes.started:
                    if process.poll() is not None:
                        raise RuntimeError(f"{name} exited with {process.returncode}")

            # -- order changes ------------------------------------------------------------
            candidates = []
            for seller, store in change_sellers:
                pending = list(
                    Amazon.objects.filter(seller=seller, status="PENDING").values_list(
                        "order_id", flat=True
                    )
                )
                unshipped = list(
                    Amazon.objects.filter(
                        seller=seller, status="UNSHIPPED", fulfilled_by="MERCHANT"
                    ).values_list("order_id", flat=True)
                )
                # Both kinds in turn, as far as each lasts.
                steps = [
                    step
                    for pair in itertools.zip_longest(
                        [("pay", order_id) for order_id in pending],
                        [("request_cancel", order_id) for order_id in unshipped],
                    )
                    for step in pair
                    if step is not None
                ]
                candidates.append((seller, store, steps[:per_seller]))
            plan = []
            for index in range(per_seller):
                for seller, store, steps in candidates:
                    if index < len(steps):
                        plan.append((seller, store, *steps[index]))
            plan = plan[: arguments.changes]
            if len(plan) < arguments.changes:
                raise RuntimeError(f"only {len(plan)} changes possible, {arguments.changes} asked")
            connection.close()

            changes: list[Change] = []

            def visible(change: Change, order) -> bool:
                if change.step == "pay":
                    return order.status != "Pending"
                return order.is_buyer_requested_cancellation

            def look(pending: list[Change]) -> list[Change]:
                by_key = {
                    (order.store_id, order.amazon_order_id): order
                    for order in AmazonOrder.objects.filter(
                        amazon_order_id__in=[change.order_id for change in pending]
                    ).only(
                        "store_id", "amazon_order_id", "status", "is_buyer_requested_cancellation"
                    )
                }
                now = timezone.now()
                left = []
                for change in pending:
                    order = by_key.get((change.store_id, change.order_id))
                    if order is not None and visible(change, order):
                        change.seen_at = now
                    else:
                        left.append(change)
                return left

            # Changes at Amazon on time, and between them a look at what is visible already.
            began = time.monotonic()
            pending: list[Change] = []
            for number, (seller, store, step, order_id) in enumerate(plan):
                while (due := began + number * arguments.spacing - time.monotonic()) > 0:
                    pending = look(pending)
                    time.sleep(min(0.1, max(0.0, due)))
                # From before the call: the sandbox commits the change, then sends its
                # notification, before it returns.
                at = timezone.now()
                order_lifecycle_step(seller=seller, order_id=order_id, step=step)
                change = Change(store_id=store.pk, order_id=order_id, step=step, at=at)
                changes.append(change)
                pending.append(change)
            changes_took = time.monotonic() - began

            # Drops never come: wait for the others, then for the poll.
            deadline = time.monotonic() + arguments.timeout
            quiet_since = time.monotonic()
            while pending and time.monotonic() < deadline:
                check_alive()
                before = len(pending)
                pending = look(pending)
                if len(pending) != before:
                    quiet_since = time.monotonic()
                # All that notifications can bring has come when nothing moved for 30 s.
                if time.monotonic() - quiet_since > 30:
                    break
                time.sleep(0.1)
            pushed = [change for change in changes if change.seen_at is not None]
            by_push = [(change.seen_at - change.at).total_seconds() for change in pushed]

            sellers = [seller for seller, _store in change_sellers]
            sent = SandboxNotification.objects.filter(
                seller__in=sellers, notification_type="ORDER_CHANGE"
            )
            deliveries = dict(sent.values_list("delivery").annotate(count=Count("pk")).order_by())
            print(
                f"changes: {len(changes)} in {changes_took:.1f}s over {len(change_sellers)} "
                f"sellers; sandbox ORDER_CHANGE notifications: {deliveries}, copies sent "
                f"{sum(sent.values_list('copies', flat=True))}"
            )

            # The poll: as soon as Amazon's two-minute rule lets a window reach the last change.
            poll_at = changes[-1].at + timedelta(
                seconds=120 + settings.AMAZON_CLOCK_SKEW_MARGIN_SECONDS + 3
            )
            wait = (poll_at - timezone.now()).total_seconds()
            if arguments.no_poll:
                print("no poll (--no-poll): the drops, if any, stay unseen")
                change_sellers_polled = []
            else:
                change_sellers_polled = change_sellers
            if wait > 0 and change_sellers_polled:
                print(f"waiting {wait:.0f}s for Amazon's two-minute rule before the poll")
                time.sleep(wait)
            runs_before = set(SyncRun.objects.values_list("pk", flat=True))
            for _seller, store in change_sellers_polled:
                sync_store(store)
            pending = look(pending)
            by_poll = [
                (change.seen_at - change.at).total_seconds()
                for change in changes
                if change.seen_at is not None and change not in pushed
            ]
            push_misses = sum(
                SyncRun.objects.exclude(pk__in=runs_before)
                .filter(store__in=[store for _seller, store in change_sellers])
                .values_list("push_misses", flat=True)
            )

            # -- cancels --------------------------------------------------------------------
            def unshipped(store, count: int) -> list:
                orders = list(
                    AmazonOrder.objects.filter(
                        store=store,
                        status="Unshipped",
                        fulfillment_channel="MFN",
                        is_buyer_requested_cancellation=False,
                    ).order_by("amazon_order_id")[:count]
                )
                if len(orders) < count:
                    raise RuntimeError(f"only {len(orders)} unshipped orders, {count} needed")
                return orders

            # Both sellers at once, a cancel each every --cancel-spacing seconds: the same
            # machine load for the notified and the polled.
            stores = {"notified": cancel_on[1], "polled": cancel_off[1]}
            orders = {label: unshipped(store, arguments.cancels) for label, store in stores.items()}
            confirmed_at: dict[str, dict[int, object]] = {label: {} for label in stores}
            for index in range(arguments.cancels):
                for label in stores:
                    cancellation = amazon_order_cancel(
                        order=orders[label][index], actor=merchant, reason="NoInventory"
                    )
                    confirmed_at[label][cancellation.pk] = timezone.now()
                time.sleep(arguments.cancel_spacing)
            every = [pk for by_label in confirmed_at.values() for pk in by_label]
            deadline = time.monotonic() + arguments.timeout
            while time.monotonic() < deadline:
                check_alive()
                if (
                    not AmazonOrderCancellation.objects.filter(pk__in=every)
                    .exclude(state=AmazonOrderCancellation.State.CONFIRMED)
                    .exists()
                ):
                    break
                time.sleep(0.1)
            confirmed: dict[str, list[float]] = {}
            for label, by_pk in confirmed_at.items():
                confirmed[label] = [
                    (cancellation.resolved_at - by_pk[cancellation.pk]).total_seconds()
                    if cancellation.state == AmazonOrderCancellation.State.CONFIRMED
                    else math.inf
                    for cancellation in AmazonOrderCancellation.objects.filter(pk__in=list(by_pk))
                ]
        finally:
            processes.stop_all()

        print()
        answers = access_log_counts(access_log)
        get_orders = sum(n for (path, status), n in answers.items() if path == GET_ORDER_PATH)
        throttled = sum(n for (_path, status), n in answers.items() if status == 429)
        print(
            "sandbox answers: "
            + ", ".join(f"{path} {status}: {n}" for (path, status), n in sorted(answers.items()))
        )
        stores = [store for _seller, store in change_sellers]
        recorded = AmazonNotification.objects.filter(store__in=stores)
        receipts = sum(recorded.values_list("receive_count", flat=True))
        states = dict(recorded.values_list("state").annotate(count=Count("pk")).order_by())
        doubles = (
            AmazonOrder.objects.values("store_id", "amazon_order_id")
            .annotate(count=Count("pk"))
            .filter(count__gt=1)
            .count()
        )
        commerce_doubles = (
            CommerceOrder.objects.exclude(external_order_id="")
            .values("external_channel", "external_order_id")
            .annotate(count=Count("pk"))
            .filter(count__gt=1)
            .count()
        )
        invisible = [change for change in changes if change.seen_at is None]
        print(
            f"notifications recorded: {recorded.count()} ({states}), received {receipts} times "
            f"(copies counted once); getOrder calls {get_orders}; 429s {throttled}"
        )
        print(f"change -> visible by notification: {figures(by_push)}")
        print(
            f"change -> visible by the poll (drops): {figures(by_poll)}; push misses {push_misses}"
        )
        print(
            f"visible: {len(changes) - len(invisible)}/{len(changes)}; Amazon orders twice: "
            f"{doubles}; Commerce orders twice: {commerce_doubles}"
        )
        for label, latencies in confirmed.items():
            print(f"cancel Confirm -> Amazon confirmed, {label}: {figures(latencies)}")
        print("machine after: load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
        p95 = nearest_rank(by_push, 0.95)
        is_met = (
            not invisible and doubles == 0 and commerce_doubles == 0 and p95 < 10 and throttled == 0
        )
        print(
            f"RESULT notifications_latency {verdict(is_met)}: every change visible "
            f"{not invisible}, zero doubles {doubles == 0 and commerce_doubles == 0}, "
            f"change -> visible p95 {p95:.2f}s "
            f"(target < 10 s), 429s {throttled}; cancel confirmed p95 notified "
            f"{nearest_rank(confirmed.get('notified', []), 0.95):.2f}s, polled "
            f"{nearest_rank(confirmed.get('polled', []), 0.95):.2f}s"
        )
        return 0


if __name__ == "__main__":
    sys.exit(main())
