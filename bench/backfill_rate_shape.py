"""Backfill N orders from the sandbox under Amazon's searchOrders rate-limit shape, time-scaled.

    .venv/bin/python bench/backfill_rate_shape.py [--orders 3000] [--floor-seconds 25]
        [--scale S] [--seed 1]

searchOrders allows 0.0056 requests/s with a burst of 20: reading P pages cannot take less than
floor = (P - 20) / (0.0056 * scale) seconds. The scale (SANDBOX_TIME_SCALE for the sandbox and
AMAZON_RATE_LIMIT_SCALE for our limiter, always the same) is chosen so that the floor is about
--floor-seconds. The sandbox's WSGI handler runs in a thread on a free port; a seller with N
orders (placed over the two days before 10 minutes ago) and a Store pointing at it are created;
every page repeats the first call's parameters with the token, as Amazon requires; the sync runs as
`manage.py sync_amazon_orders` does (sync_run_start, then sync_run_step, sleeping the waits it
returns). Prints pages, orders, wall (from sync_run_start to the end), floor, ratio = wall/floor
(target <= 1.05), Amazon's 429 answers (target 0), the limiter used, and checks that every order
was imported exactly once.
"""

import argparse
import math
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import bench_django, sandbox_seller_create, store_create, verdict

SEARCH_RATE = 0.0056
SEARCH_BURST = 20
PAGE_SIZE = 100
RATIO_TARGET = 1.05


class StatusCounter:
    """The sandbox's WSGI app, counting answers by (path, status)."""

    def __init__(self, application):
        self.application = application
        self.counts: Counter = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")

        def counting_start_response(status, headers, exc_info=None):
            with self.lock:
                self.counts[(path, int(status.split(" ", 1)[0]))] += 1
            return start_response(status, headers, exc_info)

        return self.application(environ, counting_start_response)

    def total(self, status: int) -> int:
        return sum(count for (_, code), count in self.counts.items() if code == status)


def sandbox_start():
    from wsgiref.simple_server import WSGIRequestHandler

    from django.core.servers.basehttp import ThreadedWSGIServer

    from seller_central_sandbox.ratelimit import reset_rate_limits
    from seller_central_sandbox.wsgi import SandboxHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):
            pass

    reset_rate_limits()
    counter = StatusCounter(SandboxHandler())
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(counter)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return server, thread, counter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--floor-seconds", type=float, default=25.0)
    parser.add_argument("--scale", type=float, default=None, help="default: from --floor-seconds")
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()

    pages_expected = max(1, math.ceil(arguments.orders / PAGE_SIZE))
    if arguments.scale:
        scale = arguments.scale
    elif pages_expected > SEARCH_BURST:
        scale = (pages_expected - SEARCH_BURST) / (SEARCH_RATE * arguments.floor_seconds)
    else:
        scale = 1.0
    scale_env = {"SANDBOX_TIME_SCALE": f"{scale:.6f}", "AMAZON_RATE_LIMIT_SCALE": f"{scale:.6f}"}

    with bench_django("backfill_rate_shape", extra_env=scale_env) as info:
        from datetime import timedelta

        from django.conf import settings
        from django.utils import timezone

        from amazon_channel.models import AmazonOrder, AmazonOrderItem, SyncRun
        from amazon_channel.orders.sync import sync_run_start, sync_run_step
        from amazon_channel.spapi.ratelimit import get_rate_limiter
        from seller_central_sandbox.models import SandboxOrder, SandboxOrderItem
        from seller_central_sandbox.services.orders import orders_generate

        limiter = type(get_rate_limiter()).__name__
        print(
            f"scale: SANDBOX_TIME_SCALE={settings.SANDBOX_TIME_SCALE:g} "
            f"AMAZON_RATE_LIMIT_SCALE={settings.AMAZON_RATE_LIMIT_SCALE:g}"
        )
        print(f"limiter: {limiter} (REDIS_URL {'set' if info.redis_url else 'not set'})")

        server, thread, counter = sandbox_start()
        try:
            host, port = server.server_address[:2]
            url = f"http://{host}:{port}"
            seller = sandbox_seller_create(marketplace_id="ATVPDKIKX0DER")
            started = time.perf_counter()
            orders_generate(
                seller=seller,
                count=arguments.orders,
                seed=arguments.seed,
                now=timezone.now() - timedelta(minutes=10),
                window=timedelta(days=2),  # history: the backfill reads the past
            )
            print(
                f"sandbox: {url}, {arguments.orders} orders generated in "
                f"{time.perf_counter() - started:.1f}s (not timed)"
            )
            store = store_create(
                name="Bench backfill",
                seller_id=seller.seller_id,
                marketplace_id=seller.marketplace_ids[0],
                sp_api_endpoint=url,
                token_endpoint=f"{url}/auth/o2/token",
                lwa_client_id=seller.client_id,
                lwa_client_secret=seller.client_secret,
                refresh_token=seller.refresh_token,
            )

            # The foreground command's loop (sync_amazon_orders.Command.sync), without tqdm.
            holder = f"bench-{uuid.uuid4()}"
            waits = []
            started = time.perf_counter()
            run = sync_run_start(store=store, kind=SyncRun.Kind.COMMAND)
            if run is None:
                raise RuntimeError("a sync was already running")
            while True:
                outcome = sync_run_step(run_id=run.pk, holder=holder)
                if outcome.is_finished or outcome.is_busy:
                    break
                if outcome.wait_seconds:
                    waits.append(outcome.wait_seconds)
                    time.sleep(outcome.wait_seconds)
            wall = time.perf_counter() - started
            run.refresh_from_db()
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)

        pages = run.pages
        floor = max(0, pages - SEARCH_BURST) / (SEARCH_RATE * scale)
        ratio = wall / floor if floor else float("nan")
        amazon_429 = counter.total(429)
        by_status = ", ".join(
            f"{path} {status}: {count}" for (path, status), count in sorted(counter.counts.items())
        )
        sandbox_ids = set(
            SandboxOrder.objects.filter(seller=seller).values_list("order_id", flat=True)
        )
        our_ids = list(
            AmazonOrder.objects.filter(store=store).values_list("amazon_order_id", flat=True)
        )
        duplicates = len(our_ids) - len(set(our_ids))
        missing = len(sandbox_ids - set(our_ids))
        extra = len(set(our_ids) - sandbox_ids)
        sandbox_items = SandboxOrderItem.objects.filter(order__seller=seller).count()
        our_items = AmazonOrderItem.objects.filter(order__store=store).count()
        is_complete = (
            run.status == SyncRun.Status.SUCCEEDED
            and duplicates == 0
            and missing == 0
            and extra == 0
            and our_items == sandbox_items
        )

        print(
            f"run: status={run.status} pages={pages} created={run.orders_created} "
            f"updated={run.orders_updated} unchanged={run.orders_unchanged} "
            f"with_problems={run.orders_with_problems} throttled_calls={run.throttled_calls} "
            f"retried_errors={run.retried_errors} {run.message}".rstrip()
        )
        print(f"sandbox answers: {by_status}")
        print(f"limiter waits: {len(waits)} sleeps, {sum(waits):.1f}s in total")
        print(f"pages:   {pages}")
        print(
            f"orders:  {len(our_ids)} stored of {len(sandbox_ids)} on Amazon "
            f"(duplicates={duplicates} missing={missing} extra={extra}; "
            f"items {our_items} of {sandbox_items})"
        )
        print(f"wall:    {wall:.2f}s")
        print(
            f"floor:   {floor:.2f}s  = max(0, {pages} - {SEARCH_BURST})"
            f" / ({SEARCH_RATE} * {scale:.2f})"
        )
        print(f"ratio:   {ratio:.3f}  (target <= {RATIO_TARGET})")
        print(f"429s:    {amazon_429} answered by Amazon (sandbox)  (target 0)")
        print(f"limiter: {limiter}")
        # With no more pages than the burst there is no floor: only the 429s and the import count.
        is_met = (not floor or ratio <= RATIO_TARGET) and amazon_429 == 0 and is_complete
        print(
            f"RESULT backfill ratio={ratio:.3f} 429s={amazon_429} orders={len(our_ids)}/"
            f"{len(sandbox_ids)} duplicates={duplicates} limiter={limiter} "
            f"target<={RATIO_TARGET} {verdict(is_met)}"
            + ("" if is_complete else " IMPORT-INCOMPLETE")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
