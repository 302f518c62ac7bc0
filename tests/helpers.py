import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
# The dashboard's pages (GET); every other dashboard URL is an action (POST).
DASHBOARD_PAGES = frozenset(
    {
        "store_list",
        "store_sync_status",
        "store_reauthorize",
        "order_cancellation_status",
        "store_detail",
        "store_sync_log",
        "store_connect",
        "store_settings",
        "order_list",
        "order_detail",
        "order_cancel",
        "commerce_order_list",
        "commerce_order_detail",
        "commerce_order_ship",
        "commerce_order_creditmemo",
    }
)


def project_environment(*, var_dir: Path, keep_services: bool, **overrides: str) -> dict:
    """The environment a project process gets: demo defaults, or the services of this test run."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if keep_services or key not in SERVICE_VARIABLES
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    environment.update({"VAR_DIR": str(var_dir), "PYTHONPATH": str(PROJECT_DIR)}, **overrides)
    return environment


def _run(arguments: list[str], environment: dict, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        arguments,
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_python(code: str, environment: dict) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-c", code], environment, timeout=120)


def run_manage(*arguments: str, environment: dict) -> subprocess.CompletedProcess:
    return _run([sys.executable, "manage.py", *arguments], environment, timeout=300)


def run_script(script: str, *arguments: str, environment: dict) -> subprocess.CompletedProcess:
    """A script of the project (bench/...) in a process of its own."""
    return _run([sys.executable, script, *arguments], environment, timeout=300)


def run_pytest(*arguments: str, environment: dict) -> subprocess.CompletedProcess:
    """pytest in a process of its own (its own settings and database), without a cache."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *arguments]
    return _run(command, environment, timeout=300)


def subprocess_environment(settings, *, var_dir: Path, **overrides: str) -> dict:
    """The environment of a project process that shares this test's database, broker and
    keys (so it reads the stores' encrypted credentials), with fast Amazon pacing."""
    from django.db import connection

    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        raise RuntimeError("a second process cannot share an in-memory SQLite test database")
    environment = project_environment(
        var_dir=var_dir,
        keep_services=True,
        DATABASE_URL=(
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        ),
        DJANGO_SETTINGS_MODULE="config.settings",
        CREDENTIALS_ENCRYPTION_KEYS=",".join(settings.CREDENTIALS_ENCRYPTION_KEYS),
        SECRET_KEY=settings.SECRET_KEY,
        AMAZON_RATE_LIMIT_SCALE=str(settings.AMAZON_RATE_LIMIT_SCALE),
        AMAZON_RETRY_BASE_SECONDS="0.05",
        AMAZON_FEED_POLL_SECONDS="0.2",
        AMAZON_LEASE_SECONDS="2",
    )
    environment.update(overrides)
    return environment
