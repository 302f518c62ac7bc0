"""What every benchmark shares: its own database, its own VAR_DIR, Django set up, clean-up.

    from _setup import bench_django

    with bench_django("import_throughput", extra_env={...}) as info:
        ...  # Django is set up, migrated, DEBUG query logging is off

With DATABASE_URL set (PostgreSQL) a fresh database `bench_<name>_<pid>` is created on that server
and dropped at the end, also on error or Ctrl-C/SIGTERM; without it a SQLite file in a temp dir is
used. VAR_DIR always points at a temp dir, so var/db.sqlite3 and the test databases are never
touched.
"""

import contextlib
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))


@dataclass
class BenchInfo:
    name: str
    database: str  # "postgresql <db name>" or "sqlite <path>"
    vendor: str
    var_dir: Path
    redis_url: str


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def _admin_connection(url: str):
    import psycopg2

    connection = psycopg2.connect(_with_database(url, "postgres"))
    connection.autocommit = True
    return connection


def _raise_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def bench_django(
    name: str,
    *,
    extra_env: dict | None = None,
    debug: bool = False,
    settings_module: str = "config.settings",
):
    """Set up Django on a database of the benchmark's own; yield a BenchInfo.

    `settings_module` lets a benchmark add a setting of its own on top of config.settings (a
    module under bench/, e.g. _bench_settings: its own Celery queue).
    """
    previous_handler = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    var_dir = Path(tempfile.mkdtemp(prefix=f"bench_{name}_"))
    (var_dir / "static").mkdir()  # STATIC_ROOT, so whitenoise does not warn
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    # The demo defaults (generated secrets under VAR_DIR, the sandbox app installed) need DEBUG
    # on at import time; query logging is switched off below, after setup.
    os.environ["DEBUG"] = "true"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for key, value in (extra_env or {}).items():
        os.environ[key] = str(value)

    server_url = os.environ.get("DATABASE_URL", "")
    is_postgres = server_url.startswith(("postgres://", "postgresql://"))
    # BENCH_DATABASE_PREFIX: sessions sharing one server keep their databases apart.
    database_name = f"{os.environ.get('BENCH_DATABASE_PREFIX', 'bench_')}{name}_{os.getpid()}"
    created = False
    try:
        if is_postgres:
            admin = _admin_connection(server_url)
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{database_name}"')
                cursor.execute(f'CREATE DATABASE "{database_name}"')
            admin.close()
            created = True
            os.environ["DATABASE_URL"] = _with_database(server_url, database_name)
            description = f"postgresql {database_name}"
        else:
            os.environ.pop("DATABASE_URL", None)
            description = f"sqlite {var_dir / 'db.sqlite3'}"

        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection, reset_queries

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"setup: database={description} migrate={time.perf_counter() - started:.1f}s")
        # Production-like: no query log growing (and costing time) during the measurements.
        settings.DEBUG = debug
        connection.force_debug_cursor = False
        reset_queries()
        yield BenchInfo(
            name=name,
            database=description,
            vendor=connection.vendor,
            var_dir=var_dir,
            redis_url=settings.REDIS_URL,
        )
    finally:
        if "django" in sys.modules:
            try:
                from django.db import connections

                connections.close_all()
            except Exception as error:  # noqa: BLE001 - clean-up goes on
                print(f"cleanup: closing connections failed: {error}", file=sys.stderr)
        if created:
            os.environ["DATABASE_URL"] = server_url
            try:
                admin = _admin_connection(server_url)
                with admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
                admin.close()
                print(f"cleanup: dropped database {database_name}")
            except Exception as error:  # noqa: BLE001 - report, don't hide the real error
                print(f"cleanup: could not drop {database_name}: {error}", file=sys.stderr)
        shutil.rmtree(var_dir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous_handler)


# Amazon's example order (Orders API 2026-01-01), the base of realistic generated payloads.
MODEL_PATH = PROJECT_DIR / "seller_central_sandbox" / "sp_api_models" / "orders_2026-01-01.json"


def example_order() -> dict:
    import json

    model = json.loads(MODEL_PATH.read_text())
    search = model["paths"]["/orders/2026-01-01/orders"]["get"]["responses"]["200"]
    return search["examples"]["application/json"]["orders"][0]


class PayloadFactory:
    """Realistic payloads built from Amazon's example: distinct order and item ids per number.

    The same idea as amazon_channel/tests/test_services_orders.order_payload, with json.loads of
    a template instead of deepcopy (several times faster, so building pages costs little).
    """

    def __init__(self, *, base_time=None):
        import json
        from datetime import UTC, datetime

        self.base_time = base_time or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
        template = example_order()
        template.pop("packages", None)
        for item in template["orderItems"]:
            item.get("fulfillment", {}).pop("quantityFulfilled", None)
        self._template = json.dumps(template)
        self._loads = json.loads
        self.skus = [item.get("product", {}).get("sellerSku") for item in template["orderItems"]]

    def payload(self, number: int, *, status: str = "UNSHIPPED", updated_minutes: int = 0):
        from datetime import timedelta

        payload = self._loads(self._template)
        payload["orderId"] = f"305-{number:07d}-0000001"
        payload["createdTime"] = self.base_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        payload["lastUpdatedTime"] = (self.base_time + timedelta(minutes=updated_minutes)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        payload["fulfillment"]["fulfillmentStatus"] = status
        for position, item in enumerate(payload["orderItems"]):
            item["orderItemId"] = f"{number:07d}{position:07d}"
        return payload

    def page(self, start: int, size: int, **kwargs) -> list[dict]:
        return [self.payload(number, **kwargs) for number in range(start, start + size)]


def store_create(*, name: str, seller_id: str, **overrides):
    """A Store row as StoreFactory / tests.sync_helpers.store_for_seller make it."""
    from amazon_channel.models import Store

    values = {
        "name": name,
        "region": "EU",
        "marketplace_code": "DE",
        "marketplace_id": "A1PA6795UKMFR9",
        "seller_id": seller_id,
        "sp_api_endpoint": "http://127.0.0.1:8001",
        "token_endpoint": "http://127.0.0.1:8001/auth/o2/token",
        "lwa_client_id": "amzn1.application-oa2-client.bench",
        "lwa_client_secret": "bench-client-secret",
        "refresh_token": f"Atzr|bench-{seller_id}",
    }
    values.update(overrides)
    return Store.objects.create(**values)


def sandbox_seller_create(*, marketplace_id: str):
    """A seller of the sandbox with its own random id, application and refresh token."""
    import uuid

    from seller_central_sandbox.services.sellers import seller_create

    suffix = uuid.uuid4().hex[:12].upper()
    return seller_create(
        seller_id=f"A{suffix}",
        client_id=f"amzn1.application-oa2-client.{suffix.lower()}",
        client_secret=f"secret-{uuid.uuid4().hex}",
        refresh_token=f"Atzr|{uuid.uuid4().hex}{uuid.uuid4().hex}",
        marketplace_ids=[marketplace_id],
    )


def nearest_rank(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (of 10 values, p95 is the largest); NaN without values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def verdict(is_met: bool) -> str:
    return "PASS" if is_met else "MISS"
