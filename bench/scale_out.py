"""Several Celery workers syncing several stores from the sandbox at once (issue 7).

    .venv/bin/python bench/scale_out.py [--stores 10] [--workers 4] [--orders 3500]
        [--floor-seconds 90] [--scale S] [--timeout 600]

Production's process layout, each its own OS process: the Seller Central sandbox under gunicorn
(the Procfile's `sandbox:` line on a free port, its access log in a file), and --workers Celery
workers (`celery -A config worker --concurrency 1`), with Redis (REDIS_URL) as broker and as the
shared rate limiter. All share this benchmark's database and secrets. --stores sellers with
--orders orders each (placed up to 10 minutes ago) are created in the sandbox, one store each;
then `store_sync_orders` is enqueued for every store at once and the script polls the database
until every store's SyncRun has finished.

searchOrders allows 0.0056 requests/s with a burst of 20 per seller, so a store of P pages cannot
be read in less than (P - 20) / (0.0056 * scale) seconds; the stores' sellers differ, so they
can run in parallel and that is also the floor of the whole run. The scale (SANDBOX_TIME_SCALE =
AMAZON_RATE_LIMIT_SCALE) is chosen so that the floor is about --floor-seconds.

Prints per store pages/orders/status/throttled calls, totals, duplicates (GROUP BY store,
amazon_order_id HAVING count > 1) and the comparison with the sandbox's order ids, the 429s the
sandbox answered (from its access log), wall time (enqueue -> last run finished), the floor and
ratio = wall / floor (target <= 1.10), and PASS/MISS.
"""

import argparse
import contextlib
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _setup import (  # noqa: E402
    PROJECT_DIR,
    bench_django,
    sandbox_seller_create,
    store_create,
    verdict,
)

SEARCH_RATE = 0.0056
SEARCH_BURST = 20
PAGE_SIZE = 100
RATIO_TARGET = 1.10
SEARCH_PATH = "/orders/2026-01-01/orders"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """The child processes this script started; stopped by their own ids (process groups)."""

    def __init__(self):
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], *, environment: dict, log_path: Path):
        log = log_path.open("w")
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: SIGTERM reaches gunicorn's/celery's children
        )
        log.close()
        self.started.append((name, process))
        return process

    def stop_all(self, *, timeout: float = 20.0) -> None:
        for _name, process in self.started:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, process in self.started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"cleanup: {name} (pid {process.pid}) ignored SIGTERM, sending SIGKILL")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.started.clear()


def wait_for_port(port: int, *, process: subprocess.Popen, log_path: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{log_path.stem} exited ({process.returncode}):\n{log_path.read_text()}"
            )
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{log_path.stem} did not listen on {port} in {timeout}s")


def wait_for_workers(app, names: list[str], *, processes: list, timeout: float = 90) -> float:
    """Ping the workers through the broker until each answers; returns the seconds it took."""
    started = time.monotonic()
    answered: set[str] = set()
    while time.monotonic() - started < timeout:
        for name, process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"worker {name} exited with {process.returncode}")
        for reply in app.control.ping(timeout=1.0) or []:
            answered.update(reply)
        if all(any(key.startswith(f"{name}@") for key in answered) for name in names):
            return time.monotonic() - started
    raise RuntimeError(f"workers did not answer a ping in {timeout}s: {sorted(answered)}")


def workers_start(processes: Processes, count: int, *, app, environment: dict, logs: Path) -> float:
    """`count` Celery workers as the benchmarks run them (`celery -A config worker
    --concurrency 1`, named w1, w2...), each its own process; returns once each answers a ping,
    with the seconds that took."""
    names = [f"w{index}" for index in range(1, count + 1)]
    workers = [
        (
            name,
            processes.start(
                name,
                [
                    str(VENV_BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "WARNING",
                    "-n",
                    f"{name}@%h",
                ],
                environment=environment,
                log_path=logs / f"{name}.log",
            ),
        )
        for name in names
    ]
    return wait_for_workers(app, names, processes=workers)


def sync_store(store, *, timeout: float = 180) -> None:
    """Sync the store in this process to the end, as `manage.py sync_amazon_orders` does."""
    from amazon_channel.models import SyncRun
    from amazon_channel.orders.sync import sync_run_start, sync_run_step

    run = sync_run_start(store=store, kind=SyncRun.Kind.COMMAND)
    if run is None:
        raise RuntimeError(f"store {store.pk}: a sync is already running")
    holder = f"bench-{uuid.uuid4()}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = sync_run_step(run_id=run.pk, holder=holder)
        if outcome.is_finished or outcome.is_busy:
            return
        time.sleep(min(outcome.wait_seconds, 5))
    raise RuntimeError(f"store {store.pk} did not sync in time")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def group_cpu_seconds(group_id: int) -> float:
    """User + system CPU seconds of the live processes of a process group (ours, by its id)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group_id:  # pgrp
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


# A path segment that names one thing (a feed, a document, an order), not an API version
# (2021-06-30): counted under "{id}".
ID_SEGMENT = re.compile(r"^(?!\d{4}-\d{2}-\d{2}$)(?=.*\d)[\w.-]{6,}$")


def access_log_counts(path: Path) -> Counter:
    """(path, status) -> answers, from the access log written as '%(m)s %(U)s %(s)s'; paths
    with their ids as "{id}" (/feeds/2021-06-30/feeds/{id}), so one line counts each operation."""
    counts: Counter = Counter()
    if not path.exists():
        return counts
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit():
            segments = parts[1].split("/")
            operation = "/".join(
                "{id}" if ID_SEGMENT.match(segment) else segment for segment in segments
            )
            counts[(operation, int(parts[2]))] += 1
    return counts


def child_environment() -> dict:
    """The environment of the benchmark's server and worker processes: production-like (no
    query log, no generated secrets), with the benchmark's settings module."""
    environment = dict(os.environ)
    environment.update(
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        PYTHONPATH=os.pathsep.join([str(BENCH_DIR), str(PROJECT_DIR)]),
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="_bench_settings",
        LOG_LEVEL="WARNING",
    )
    return environment


def sandbox_start(
    processes: Processes, *, port: int, logs: Path, environment: dict
) -> tuple[subprocess.Popen, Path]:
    """The Seller Central sandbox under gunicorn as the Procfile runs it, with an access log
    access_log_counts() reads; returns the process, once it listens, and the log's path."""
    access_log = logs / "sandbox-access.log"
    sandbox = processes.start(
        "sandbox",
        [
            str(VENV_BIN / "gunicorn"),
            "seller_central_sandbox.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(m)s %(U)s %(s)s",
        ],
        environment=environment,
        log_path=logs / "sandbox.log",
    )
    wait_for_port(port, process=sandbox, log_path=logs / "sandbox.log")
    return sandbox, access_log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--orders", type=int, default=3500, help="per store; more than 2000 to have a floor"
    )
    parser.add_argument("--floor-seconds", type=float, default=90.0)
    parser.add_argument("--scale", type=float, default=None, help="default: from --floor-seconds")
    parser.add_argument("--retry-base-seconds", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=600.0, help="for the sync to finish")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()

    if not os.environ.get("REDIS_URL"):
        print("REDIS_URL must be set: the workers need a broker and the shared limiter")
        return 2

    pages_expected = max(1, math.ceil(arguments.orders / PAGE_SIZE))
    if arguments.scale:
        scale = arguments.scale
    elif pages_expected > SEARCH_BURST:
        scale = (pages_expected - SEARCH_BURST) / (SEARCH_RATE * arguments.floor_seconds)
    else:
        scale = 1.0
        print(
            f"note: {pages_expected} pages per store fit in the burst of {SEARCH_BURST}: no floor"
        )

    from cryptography.fernet import Fernet

    queue = f"bench-scale-out-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    shared_env = {
        # The same secrets in every process: the workers decrypt what this script encrypted,
        # the sandbox reads the pagination tokens it signed.
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIALS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SANDBOX_TIME_SCALE": f"{scale:.6f}",
        "AMAZON_RATE_LIMIT_SCALE": f"{scale:.6f}",
        "AMAZON_RETRY_BASE_SECONDS": str(arguments.retry_base_seconds),
        "SELLER_CENTRAL_SANDBOX_ENABLED": "true",
        "BENCH_CELERY_QUEUE": queue,
    }

    with bench_django("scale_out", extra_env=shared_env, settings_module="_bench_settings") as info:
        from datetime import timedelta

        from django.conf import settings
        from django.db import connection
        from django.db.models import Count, Max, Min
        from django.utils import timezone

        from amazon_channel.models import AmazonOrder, AmazonOrderItem, SyncRun
        from amazon_channel.tasks import store_sync_orders
        from config.celery import app as celery_app
        from seller_central_sandbox.models import SandboxOrder, SandboxOrderItem
        from seller_central_sandbox.services.orders import orders_generate

        if info.vendor != "postgresql":
            print("DATABASE_URL must point at PostgreSQL: several processes write at once")
            return 2
        print(
            f"scale: SANDBOX_TIME_SCALE={settings.SANDBOX_TIME_SCALE:g} "
            f"AMAZON_RATE_LIMIT_SCALE={settings.AMAZON_RATE_LIMIT_SCALE:g} "
            f"AMAZON_RETRY_BASE_SECONDS={settings.AMAZON_RETRY_BASE_SECONDS:g} "
            f"margin={settings.AMAZON_RATE_LIMIT_MARGIN:g}"
        )
        print(f"broker: {settings.CELERY_BROKER_URL} queue={settings.CELERY_TASK_DEFAULT_QUEUE}")

        # 1. Sellers and their orders in the sandbox (not timed).
        started = time.perf_counter()
        sellers = []
        generated_at = timezone.now() - timedelta(minutes=10)
        for number in range(arguments.stores):
            seller = sandbox_seller_create(marketplace_id="ATVPDKIKX0DER")
            orders_generate(
                seller=seller,
                count=arguments.orders,
                seed=arguments.seed * 1000 + number,
                now=generated_at,
            )
            sellers.append(seller)
        print(
            f"sandbox data: {arguments.stores} sellers x {arguments.orders} orders generated in "
            f"{time.perf_counter() - started:.1f}s (not timed)"
        )

        logs = Path(tempfile.mkdtemp(prefix="bench_scale_out_logs_"))
        processes = Processes()
        try:
            # 2. The sandbox, as the Procfile runs it, with an access log we can count.
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            child_env = child_environment()
            sandbox, access_log = sandbox_start(
                processes, port=port, logs=logs, environment=child_env
            )
            print(f"sandbox: gunicorn pid {sandbox.pid} on {url}")

            stores = []
            for number, seller in enumerate(sellers, start=1):
                stores.append(
                    store_create(
                        name=f"Bench scale-out {number:02d}",
                        seller_id=seller.seller_id,
                        marketplace_id=seller.marketplace_ids[0],
                        sp_api_endpoint=url,
                        token_endpoint=f"{url}/auth/o2/token",
                        lwa_client_id=seller.client_id,
                        lwa_client_secret=seller.client_secret,
                        refresh_token=seller.refresh_token,
                    )
                )

            # 3. The workers, each its own process.
            ready_after = workers_start(
                processes, arguments.workers, app=celery_app, environment=child_env, logs=logs
            )
            print(
                f"workers: {arguments.workers} x `celery -A config worker --concurrency 1` "
                f"answered a ping after {ready_after:.1f}s"
            )

            # 4. Enqueue every store at once; wait for their runs to finish.
            connection.close()  # the workers write; this process only polls
            cpu_before_by_process = {
                name: group_cpu_seconds(process.pid) for name, process in processes.started
            }
            cpu_before = machine_cpu()
            enqueued_at = timezone.now()
            wall_started = time.perf_counter()
            for store in stores:
                store_sync_orders.delay(store_id=store.pk, kind=SyncRun.Kind.MANUAL)
            store_ids = [store.pk for store in stores]
            is_timed_out = False
            while True:
                finished = SyncRun.objects.filter(store_id__in=store_ids).exclude(
                    status=SyncRun.Status.RUNNING
                )
                if finished.values("store_id").distinct().count() == len(store_ids):
                    break
                if time.perf_counter() - wall_started > arguments.timeout:
                    is_timed_out = True
                    break
                for name, process in processes.started:
                    if process.poll() is not None:
                        raise RuntimeError(f"{name} exited with {process.returncode}")
                time.sleep(0.25)
            polled_wall = time.perf_counter() - wall_started
            cpu_after = machine_cpu()
            process_cpu = {
                name: group_cpu_seconds(process.pid) - cpu_before_by_process.get(name, 0.0)
                for name, process in processes.started
            }
        finally:
            processes.stop_all()

        # 5. Figures.
        runs = list(
            SyncRun.objects.filter(store_id__in=store_ids)
            .select_related("store")
            .order_by("store__name", "started_at")
        )
        last_finished = max((run.finished_at for run in runs if run.finished_at), default=None)
        # Each page is committed in one transaction: its orders' created_at is the page's time.
        page_times = {
            row["store_id"]: row
            for row in AmazonOrder.objects.filter(store_id__in=store_ids)
            .values("store_id")
            .annotate(first=Min("created_at"), last=Max("created_at"))
        }
        wall = (last_finished - enqueued_at).total_seconds() if last_finished else polled_wall
        print()
        print(
            f"{'store':<22} {'run':>4} {'status':<10} {'pages':>5} {'created':>7} "
            f"{'updated':>7} {'throttled':>9} {'retried':>7} {'opened+s':>8} "
            f"{'1st page+s':>10} {'last page+s':>11} {'own floor+s':>11}"
        )
        for run in runs:
            times = page_times.get(run.store_id, {"first": enqueued_at, "last": enqueued_at})
            first_page = (times["first"] - enqueued_at).total_seconds()
            last_page = (times["last"] - enqueued_at).total_seconds()
            # The earliest this store could end, given when its first page was read.
            own_floor = first_page + max(0, run.pages - SEARCH_BURST) / (SEARCH_RATE * scale)
            print(
                f"{run.store.name:<22} {run.pk:>4} {run.status:<10} {run.pages:>5} "
                f"{run.orders_created:>7} {run.orders_updated:>7} {run.throttled_calls:>9} "
                f"{run.retried_errors:>7} {(run.started_at - enqueued_at).total_seconds():>8.2f} "
                f"{first_page:>10.2f} {last_page:>11.2f} {own_floor:>11.2f}"
                + (f"  {run.message}" if run.message else "")
            )
        total_pages = sum(run.pages for run in runs)
        total_throttled = sum(run.throttled_calls for run in runs)
        run_statuses = Counter(run.status for run in runs)

        duplicates = list(
            AmazonOrder.objects.filter(store_id__in=store_ids)
            .values("store_id", "amazon_order_id")
            .annotate(copies=Count("id"))
            .filter(copies__gt=1)
        )
        missing = extra = 0
        for store, seller in zip(stores, sellers, strict=True):
            theirs = set(
                SandboxOrder.objects.filter(seller=seller).values_list("order_id", flat=True)
            )
            ours = set(
                AmazonOrder.objects.filter(store=store).values_list("amazon_order_id", flat=True)
            )
            missing += len(theirs - ours)
            extra += len(ours - theirs)
        stored_orders = AmazonOrder.objects.filter(store_id__in=store_ids).count()
        sandbox_orders = SandboxOrder.objects.filter(seller__in=sellers).count()
        stored_items = AmazonOrderItem.objects.filter(order__store_id__in=store_ids).count()
        sandbox_items = SandboxOrderItem.objects.filter(order__seller__in=sellers).count()

        answers = access_log_counts(access_log)
        search_429 = answers[(SEARCH_PATH, 429)]
        all_429 = sum(count for (_, status), count in answers.items() if status == 429)
        by_status = ", ".join(
            f"{path} {status}: {count}" for (path, status), count in sorted(answers.items())
        )

        pages_per_store = max((run.pages for run in runs), default=0)
        floor = max(0, pages_per_store - SEARCH_BURST) / (SEARCH_RATE * scale)
        ratio = wall / floor if floor else float("nan")
        window = SyncRun.objects.filter(store_id__in=store_ids).aggregate(
            first_start=Min("started_at"), last_start=Max("started_at")
        )
        is_complete = (
            not is_timed_out
            and run_statuses == Counter({SyncRun.Status.SUCCEEDED: len(store_ids)})
            and not duplicates
            and missing == 0
            and extra == 0
            and stored_items == sandbox_items
        )

        print()
        print(
            f"runs:       {dict(run_statuses)} of {len(store_ids)} stores"
            + (" (TIMED OUT)" if is_timed_out else "")
        )
        print(f"pages:      {total_pages} ({pages_per_store} per store)")
        print(
            f"orders:     {stored_orders} stored of {sandbox_orders} on Amazon "
            f"(missing={missing} extra={extra}; items {stored_items} of {sandbox_items})"
        )
        print(f"duplicates: {len(duplicates)} (store, amazon_order_id) groups with count > 1")
        print(f"sandbox:    {by_status}")
        print(
            f"429s:       {search_429} on searchOrders, {all_429} in all, answered by the sandbox; "
            f"runs counted {total_throttled} throttled calls  (target 0)"
        )
        first_open = (window["first_start"] - enqueued_at).total_seconds()
        last_open = (window["last_start"] - enqueued_at).total_seconds()
        print(f"starts:     runs opened {first_open:.2f}s to {last_open:.2f}s after enqueue")
        print(f"wall:       {wall:.2f}s (enqueue -> last run finished)")
        per_page_ms = sum(process_cpu.values()) / max(1, total_pages) * 1000
        busy = (cpu_after[0] - cpu_before[0]) / max(1.0, cpu_after[1] - cpu_before[1])
        cores = os.cpu_count() or 1
        print(
            f"cpu:        machine {busy:.0%} busy over {cores} cores during the sync; "
            + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in process_cpu.items())
            + f" (PostgreSQL and Redis not included); {per_page_ms:.0f} ms of sandbox+worker "
            "CPU per page"
        )
        print(
            f"floor:      {floor:.2f}s = max(0, {pages_per_store} - {SEARCH_BURST}) / "
            f"({SEARCH_RATE} * {scale:.2f})"
        )
        print(f"ratio:      {ratio:.3f}  (target <= {RATIO_TARGET})")
        if is_complete and all_429 == 0:
            shutil.rmtree(logs, ignore_errors=True)
        else:
            print(f"logs:       {logs} (kept: sandbox access log, sandbox and worker output)")
        is_met = (
            (not floor or ratio <= RATIO_TARGET)
            and search_429 == 0
            and all_429 == 0
            and is_complete
        )
        print(
            f"RESULT scale_out stores={len(store_ids)} workers={arguments.workers} "
            f"ratio={ratio:.3f} wall={wall:.1f}s floor={floor:.1f}s 429s={all_429} "
            f"duplicates={len(duplicates)} orders={stored_orders}/{sandbox_orders} "
            f"target<={RATIO_TARGET} {verdict(is_met)}"
            + ("" if is_complete else " SYNC-INCOMPLETE")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
