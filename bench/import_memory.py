"""Peak memory while importing many orders with amazon_orders_upsert, page by page.

    .venv/bin/python bench/import_memory.py [--orders 100000] [--page-size 100]
        [--checkpoints 10000,25000,50000,100000] [--no-tracemalloc]

Payloads are generated one page at a time (never all in memory). After each checkpoint it prints
peak RSS (resource.getrusage ru_maxrss) and the tracemalloc peak of Python allocations (peak since
the start, and the current traced size). Django's query log is off (DEBUG False, no forced
debug cursor). Target: flat, i.e. peak RSS and tracemalloc peak grow by less than 10% between the
second checkpoint (25k) and the last (100k).
"""

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import PayloadFactory, bench_django, store_create, verdict

GROWTH_TARGET = 0.10


def rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_now_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--checkpoints", default=None, help="default: 10%%,25%%,50%%,100%% of --orders"
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="RSS only (faster)")
    arguments = parser.parse_args()
    total = arguments.orders
    if arguments.checkpoints:
        checkpoints = sorted(int(value) for value in arguments.checkpoints.split(","))
    else:
        checkpoints = sorted({max(1, total * share // 100) for share in (10, 25, 50, 100)})
    checkpoints = [value for value in checkpoints if value <= total] or [total]
    if checkpoints[-1] != total:
        checkpoints.append(total)

    with bench_django("import_memory") as info:
        from django.conf import settings
        from django.db import connection, reset_queries

        from amazon_channel.models import AmazonOrder
        from amazon_channel.orders.upsert import amazon_orders_upsert

        assert not settings.DEBUG and not connection.queries_logged, "query logging must be off"
        print(
            f"database vendor: {info.vendor}; DEBUG={settings.DEBUG} "
            f"queries_logged={connection.queries_logged}"
        )
        factory = PayloadFactory()
        store = store_create(name="Bench memory", seller_id="ABENCHMEMORY")
        gc.collect()
        print(f"before import: rss_now={rss_now_mib():.1f} MiB peak_rss={rss_peak_mib():.1f} MiB")
        if not arguments.no_tracemalloc:
            tracemalloc.start()

        figures = {}
        done = 0
        started = time.perf_counter()
        pending = list(checkpoints)
        while done < total:
            size = min(arguments.page_size, total - done, pending[0] - done)
            page = factory.page(done, size)
            amazon_orders_upsert(store=store, payloads=page)
            del page
            reset_queries()  # a no-op with DEBUG off; keeps the log empty if someone turns it on
            done += size
            if done == pending[0]:
                pending.pop(0)
                traced_now, traced_peak = (
                    tracemalloc.get_traced_memory() if tracemalloc.is_tracing() else (0, 0)
                )
                figures[done] = (rss_peak_mib(), traced_peak / 2**20)
                print(
                    f"after {done:>7} orders: peak_rss={rss_peak_mib():8.1f} MiB "
                    f"rss_now={rss_now_mib():8.1f} MiB "
                    f"tracemalloc_peak={traced_peak / 2**20:7.2f} MiB "
                    f"tracemalloc_now={traced_now / 2**20:7.2f} MiB "
                    f"elapsed={time.perf_counter() - started:7.1f}s",
                    flush=True,
                )
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        stored = AmazonOrder.objects.filter(store=store).count()
        print(
            f"stored orders: {stored} of {total}; {total / (time.perf_counter() - started):.0f} "
            f"orders/s (with tracemalloc on: slower than without)"
        )

        base = checkpoints[1] if len(checkpoints) > 1 else checkpoints[0]
        rss_growth = figures[total][0] / figures[base][0] - 1
        traced_growth = figures[total][1] / figures[base][1] - 1 if figures[base][1] else 0.0
        is_flat = rss_growth < GROWTH_TARGET and traced_growth < GROWTH_TARGET
        print(
            f"growth {base}->{total}: peak_rss {rss_growth * 100:+.1f}%  "
            f"tracemalloc_peak {traced_growth * 100:+.1f}%  (target < +{GROWTH_TARGET:.0%})"
        )
        print(
            f"RESULT import_memory orders={total} peak_rss={figures[total][0]:.1f}MiB "
            f"tracemalloc_peak={figures[total][1]:.2f}MiB rss_growth={rss_growth * 100:+.1f}% "
            f"traced_growth={traced_growth * 100:+.1f}% flat<10% {verdict(is_flat)}"
            + ("" if stored == total else " CHECK-FAILED")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
