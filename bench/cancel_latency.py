"""Cancel Order to Amazon: Confirm -> feed submitted, alone, in a row and forty at once (issue 15).

    .venv/bin/python bench/cancel_latency.py [--alone 10] [--spaced 10] [--spacing 2]
        [--burst 40] [--workers 2] [--smtp down|dummy] [--timeout 120]

Production's process layout, each its own OS process: the Seller Central sandbox under gunicorn
(the Procfile's `sandbox:` line on a free port, its access log in a file) and --workers Celery
workers (`celery -A config worker --concurrency 1`), Redis (REDIS_URL) as broker and as the
shared rate limiter. Amazon's real rates and feed times (SANDBOX_TIME_SCALE = 1, nothing
compressed): createFeed 0.0083/s burst 15, getFeed 2/s burst 15, a feed 3 s in the queue and 3 s
in processing. This script plays the merchant: it calls `amazon_order_cancel` (what Confirm
calls), which queues the delivery task on commit.

Scenarios, each on sellers of its own (fresh createFeed buckets):
- alone: --alone sellers, one cancel each, one after the other (a quiet store each time);
- spaced: one seller, --spaced cancels --spacing seconds apart;
- burst: one seller, --burst cancels confirmed back to back ("at once").

Confirm -> feed submitted is measured from the return of `amazon_order_cancel` (committed) to
the sandbox's `createdTime` of the feed that carries the cancellation (the moment Amazon has it;
same machine, same clock). p95 is the nearest rank (for 10 values, the largest). Each scenario
waits until every cancellation is confirmed (the processing report read back) and every order is
cancelled at Amazon. Mail: --smtp down (default) points the workers' smtp backend at a closed
port, the failure of issue 15, so the figures show that mail no longer delays Amazon.

Prints per scenario the latencies p50/p95/max, feeds and messages per feed, 429s, and a RESULT
line with PASS/MISS per target.
"""

import argparse
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
    Processes,
    access_log_counts,
    child_environment,
    free_port,
    sandbox_start,
    sync_store,
    workers_start,
)

FEEDS_PATH = "/feeds/2021-06-30/feeds"


class Scenario:
    def __init__(self, name: str):
        self.name = name
        self.confirmed_at: dict[int, object] = {}  # cancellation pk -> after commit
        self.store_ids: list[int] = []
        self.seller_ids: list[str] = []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alone", type=int, default=10, help="repeats of one cancel alone")
    parser.add_argument("--spaced", type=int, default=10)
    parser.add_argument("--spacing", type=float, default=2.0, help="seconds between spaced ones")
    parser.add_argument("--burst", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smtp", choices=["down", "dummy"], default="down")
    parser.add_argument("--timeout", type=float, default=120.0, help="per scenario")
    arguments = parser.parse_args()

    if not os.environ.get("REDIS_URL"):
        print("REDIS_URL must be set: the workers need a broker and the shared limiter")
        return 2

    from cryptography.fernet import Fernet

    queue = f"bench-cancel-latency-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    mail = {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    if arguments.smtp == "down":
        mail = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(free_port()),  # nothing listens there: connection refused
            "EMAIL_TIMEOUT": "5",
        }
    shared_env = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIALS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        # Amazon's own rates and feed times: nothing is compressed.
        "SANDBOX_TIME_SCALE": "1",
        "AMAZON_RATE_LIMIT_SCALE": "1",
        "SELLER_CENTRAL_SANDBOX_ENABLED": "true",
        "BENCH_CELERY_QUEUE": queue,
        **mail,
    }

    with bench_django(
        "cancel_latency", extra_env=shared_env, settings_module="_bench_settings"
    ) as info:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.utils import timezone

        from amazon_channel.models import AmazonFeed, AmazonOrder, AmazonOrderCancellation
        from amazon_channel.orders.cancellation import amazon_order_cancel
        from config.celery import app as celery_app
        from seller_central_sandbox.models import SandboxFeed, SandboxOrder
        from seller_central_sandbox.services.orders import orders_generate

        if info.vendor != "postgresql":
            print("DATABASE_URL must point at PostgreSQL: several processes write at once")
            return 2
        print(
            f"machine: {os.cpu_count()} cores, load average "
            + " ".join(f"{value:.2f}" for value in os.getloadavg())
        )
        print(
            f"settings: SANDBOX_TIME_SCALE={settings.SANDBOX_TIME_SCALE:g} (real time) "
            # getattr: the script also measures the code before issue 15 (see bench/README.md).
            f"AMAZON_FEED_COLLECT_SECONDS={getattr(settings, 'AMAZON_FEED_COLLECT_SECONDS', '-')} "
            "AMAZON_FEED_FIRST_POLL_SECONDS="
            f"{getattr(settings, 'AMAZON_FEED_FIRST_POLL_SECONDS', '-')} "
            f"AMAZON_FEED_POLL_SECONDS={settings.AMAZON_FEED_POLL_SECONDS:g} "
            f"mail={arguments.smtp} ({settings.EMAIL_BACKEND.rsplit('.', 2)[-2]})"
        )
        merchant = get_user_model().objects.create_user("bench-merchant", password="x" * 20)

        logs = Path(tempfile.mkdtemp(prefix="bench_cancel_latency_logs_"))
        processes = Processes()
        try:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            child_env = child_environment()
            _sandbox, access_log = sandbox_start(
                processes, port=port, logs=logs, environment=child_env
            )

            def seller_with_store(label: str, orders: int):
                seller = sandbox_seller_create(marketplace_id="A1PA6795UKMFR9")
                orders_generate(
                    seller=seller, count=orders, seed=7, now=timezone.now() - timedelta(hours=1)
                )
                store = store_create(
                    name=f"Bench cancels {label}",
                    seller_id=seller.seller_id,
                    marketplace_id=seller.marketplace_ids[0],
                    sp_api_endpoint=url,
                    token_endpoint=f"{url}/auth/o2/token",
                    lwa_client_id=seller.client_id,
                    lwa_client_secret=seller.client_secret,
                    refresh_token=seller.refresh_token,
                )
                sync_store(store)
                return seller, store

            def unshipped(store, count: int) -> list:
                orders = list(
                    AmazonOrder.objects.filter(
                        store=store, status="Unshipped", fulfillment_channel="MFN"
                    ).order_by("amazon_order_id")[:count]
                )
                if len(orders) < count:
                    raise RuntimeError(f"only {len(orders)} unshipped orders, {count} needed")
                return orders

            started = time.perf_counter()
            alone_stores = [
                seller_with_store(f"alone {number}", 20) for number in range(arguments.alone)
            ]
            spaced_store = seller_with_store("spaced", max(60, arguments.spaced * 4))
            burst_store = seller_with_store("burst", max(160, arguments.burst * 4))
            print(
                f"setup: {arguments.alone + 2} sellers, orders generated and imported in "
                f"{time.perf_counter() - started:.1f}s (not timed)"
            )

            workers_start(
                processes, arguments.workers, app=celery_app, environment=child_env, logs=logs
            )
            print(
                f"processes: sandbox under gunicorn on {url}, {arguments.workers} x "
                "`celery -A config worker --concurrency 1`, broker "
                f"{settings.CELERY_BROKER_URL} queue {queue}"
            )
            connection.close()

            def cancel(order, scenario: Scenario) -> None:
                cancellation = amazon_order_cancel(
                    order=order, actor=merchant, reason="NoInventory"
                )
                scenario.confirmed_at[cancellation.pk] = timezone.now()

            def wait_until_settled(scenario: Scenario, *, submitted_only: bool = False) -> bool:
                deadline = time.monotonic() + arguments.timeout
                while time.monotonic() < deadline:
                    cancellations = AmazonOrderCancellation.objects.filter(
                        pk__in=list(scenario.confirmed_at)
                    )
                    if submitted_only:
                        is_done = (
                            not cancellations.filter(outbox_message__feed__feed_id="").exists()
                            and not cancellations.filter(outbox_message__feed=None).exists()
                        )
                    else:
                        is_done = not cancellations.exclude(
                            state=AmazonOrderCancellation.State.CONFIRMED
                        ).exists()
                    if is_done:
                        return True
                    for name, process in processes.started:
                        if process.poll() is not None:
                            raise RuntimeError(f"{name} exited with {process.returncode}")
                    time.sleep(0.05)
                return False

            scenarios: list[Scenario] = []
            timed_out: list[str] = []

            alone = Scenario("alone")
            for seller, store in alone_stores:
                alone.store_ids.append(store.pk)
                alone.seller_ids.append(seller.seller_id)
                single = Scenario("alone-one")
                [order] = unshipped(store, 1)
                cancel(order, single)
                if not wait_until_settled(single, submitted_only=True):
                    timed_out.append("alone")
                alone.confirmed_at.update(single.confirmed_at)
                time.sleep(0.5)
            scenarios.append(alone)

            spaced = Scenario("spaced")
            seller, store = spaced_store
            spaced.store_ids.append(store.pk)
            spaced.seller_ids.append(seller.seller_id)
            began = time.monotonic()
            for number, order in enumerate(unshipped(store, arguments.spaced)):
                time.sleep(max(0.0, began + number * arguments.spacing - time.monotonic()))
                cancel(order, spaced)
            scenarios.append(spaced)

            burst = Scenario("burst")
            seller, store = burst_store
            burst.store_ids.append(store.pk)
            burst.seller_ids.append(seller.seller_id)
            burst_began = time.perf_counter()
            for order in unshipped(store, arguments.burst):
                cancel(order, burst)
            burst_confirm_seconds = time.perf_counter() - burst_began
            scenarios.append(burst)

            for scenario in scenarios:
                if not wait_until_settled(scenario):
                    timed_out.append(scenario.name)
        finally:
            processes.stop_all()

        print()
        answers = access_log_counts(access_log)
        all_429 = sum(count for (_, status), count in answers.items() if status == 429)
        print(
            "sandbox answers: "
            + ", ".join(f"{path} {status}: {n}" for (path, status), n in sorted(answers.items()))
        )
        print(f"burst: {arguments.burst} cancels confirmed in {burst_confirm_seconds:.2f}s")
        figures = {}
        for scenario in scenarios:
            created = {
                feed.feed_id: feed.created_time
                for feed in SandboxFeed.objects.filter(seller__seller_id__in=scenario.seller_ids)
            }
            latencies = []
            by_confirm = []
            cancellations = AmazonOrderCancellation.objects.filter(
                pk__in=list(scenario.confirmed_at)
            ).select_related("outbox_message__feed", "order")
            for cancellation in cancellations:
                feed = cancellation.outbox_message.feed
                if feed is None or feed.feed_id not in created:
                    continue
                confirmed_at = scenario.confirmed_at[cancellation.pk]
                latencies.append((created[feed.feed_id] - confirmed_at).total_seconds())
                by_confirm.append((confirmed_at, latencies[-1], feed.pk))
            feeds = AmazonFeed.objects.filter(store_id__in=scenario.store_ids).order_by("pk")
            sizes = [feed.messages.count() for feed in feeds]
            cancelled = SandboxOrder.objects.filter(
                order_id__in=[cancellation.order.amazon_order_id for cancellation in cancellations],
                status="CANCELLED",
            ).count()
            confirmed = cancellations.filter(state=AmazonOrderCancellation.State.CONFIRMED).count()
            fields = {field.name for field in AmazonOrderCancellation._meta.get_fields()}
            if "buyer_emailed_at" in fields:
                emailed = cancellations.exclude(buyer_emailed_at=None).count()
                mail_waiting = cancellations.exclude(buyer_email_due_at=None).count()
            else:  # before issue 15: the e-mail was sent in the outbox task, not recorded
                emailed = mail_waiting = "-"
            count = len(scenario.confirmed_at)
            submitted = len(latencies)
            # A cancellation that never reached Amazon waited longer than any that did.
            latencies += [math.inf] * (count - submitted)
            stats = (
                (
                    nearest_rank(latencies, 0.5),
                    nearest_rank(latencies, 0.95),
                    max(latencies),
                )
                if latencies
                else (float("nan"),) * 3
            )
            figures[scenario.name] = {
                "p95": stats[1],
                "feeds": len(sizes),
                "sizes": sizes,
                "delivered": cancelled == count and confirmed == count,
                "count": count,
                "submitted": submitted,
            }
            per_feed_stores = (
                f" ({len(scenario.store_ids)} stores, one feed each)"
                if len(scenario.store_ids) > 1
                else ""
            )
            print(
                f"{scenario.name:<7} n={count:<3} Confirm->feed submitted p50={stats[0]:.3f}s "
                f"p95={stats[1]:.3f}s max={stats[2]:.3f}s; feeds={len(sizes)}{per_feed_stores} "
                f"messages per feed={sizes}; at Amazon {submitted}/{count}, cancelled "
                f"{cancelled}/{count}, confirmed {confirmed}/{count}; buyer e-mails sent "
                f"{emailed}, not sent yet {mail_waiting}"
            )
            if scenario.name == "spaced":
                feed_pks = feeds.values_list("pk", flat=True)
                feed_numbers = {pk: number for number, pk in enumerate(feed_pks, start=1)}
                print(
                    "         in order of Confirm (latency s, feed): "
                    + " ".join(
                        f"{latency:.2f}/f{feed_numbers.get(feed_pk, '?')}"
                        for _, latency, feed_pk in sorted(by_confirm)
                    )
                )
        print(f"429s: {all_429} answered by the sandbox (target 0)")
        print("machine after: load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
        if timed_out:
            print(f"TIMED OUT: {timed_out}; logs kept in {logs}")

        alone_f, spaced_f, burst_f = figures["alone"], figures["spaced"], figures["burst"]
        targets = {
            "alone_p95<1s": alone_f["p95"] < 1.0 and alone_f["delivered"],
            "spaced_p95<5s": spaced_f["p95"] < 5.0 and spaced_f["delivered"],
            "spaced_feeds<=3": spaced_f["feeds"] <= 3,
            "burst_delivered": burst_f["delivered"],
            "burst_no_429": all_429 == 0,
            "burst_feeds<=3": burst_f["feeds"] <= 3,
            "burst_many_per_feed": max(burst_f["sizes"] or [0]) >= burst_f["count"] // 2,
        }
        for name, is_met in targets.items():
            print(f"target {name:<22} {verdict(is_met)}")
        print(
            f"RESULT cancel_latency alone_p95={alone_f['p95']:.3f}s "
            f"spaced_p95={spaced_f['p95']:.3f}s spaced_feeds={spaced_f['feeds']} "
            f"burst_feeds={burst_f['feeds']} burst_sizes={burst_f['sizes']} 429s={all_429} "
            f"mail={arguments.smtp} "
            + " ".join(f"{name}={verdict(is_met)}" for name, is_met in targets.items())
            + f" {verdict(all(targets.values()) and not timed_out)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
