"""Import throughput with rate limits off: amazon_orders_upsert (bulk) against a naive loop.

    .venv/bin/python bench/import_throughput.py [--orders 20000] [--naive-orders N]
        [--page-size 100] [--commerce-orders 2000]

Builds realistic payloads from Amazon's example order (distinct order and item ids), then:
  bulk:  amazon_orders_upsert in pages of 100 into a fresh Store;
  naive: per payload parse_order + AmazonOrder.objects.update_or_create + one
         AmazonOrderItem.objects.update_or_create per item, into a second Store;
each for a first import (inserts) and a re-import of the same payloads with a newer
lastUpdatedTime (updates). Prints orders/s and SQL queries per order side by side. Import is
disabled on both stores (no Commerce orders); --commerce-orders N > 0 also times a store with
Import Amazon Orders enabled and a catalog of the SKUs (commerce_orders_follow after each page),
labelled separately. Targets: bulk/naive >= 10x, bulk >= 1,000 orders/s.
"""

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import PayloadFactory, bench_django, store_create, verdict  # noqa: E402

RATIO_TARGET = 10.0
BULK_TARGET = 1000.0


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries():
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


@dataclass_like := None  # placeholder removed below
