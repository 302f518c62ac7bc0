"""Shared pytest set-up: real services or a visible reason, never a silent skip under CI."""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytest_plugins = ["seller_central_sandbox.testing"]

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# beside it are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IS_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"


def require_service(reason: str) -> None:
    """Skip with a visible reason on a developer machine; fail under CI=true."""
    if IS_CI:
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    pytest.skip(reason)


def redis_url_reachable() -> str | None:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return None
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return None
    return url


REDIS_DATABASES = 16  # Redis's default `databases`
RUN_REDIS_URL = os.environ.get("REDIS_URL", "")  # this run's, before a worker moves it


def redis_url_of_worker(url: str, worker_id: str, databases: str = "") -> str:
    """REDIS_URL's database moved on by the xdist worker's number (gw0 keeps it): each worker's
    broker queues, cache and rate-limit buckets are its own, as its test database is. On a
    Redis shared with other runs, `databases` ("9,12,13,14", TEST_REDIS_DATABASES) names the
    ones this run may use, one per worker."""
    parts = urlsplit(url)
    index = int(worker_id.removeprefix("gw"))
    if databases:
        choices = [int(database) for database in databases.split(",")]
        if index >= len(choices):
            raise pytest.UsageError(f"TEST_REDIS_DATABASES={databases} has none for {worker_id}")
        database = choices[index]
    else:
        database = (int(parts.path.strip("/") or 0) + index) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{database}"))


def pytest_configure(config):
    worker_id = getattr(config, "workerinput", {}).get("workerid")
    if worker_id and os.environ.get("REDIS_URL"):
        _give_this_worker_its_own_redis_database(worker_id)


def _give_this_worker_its_own_redis_database(worker_id: str) -> None:
    """Django read REDIS_URL before this conftest loaded: move the settings derived from it, and
    the environment that subprocess servers and workers inherit."""
    from django.conf import settings

    from config.celery import app as celery_app

    shared = os.environ["REDIS_URL"]
    own = redis_url_of_worker(shared, worker_id, os.environ.get("TEST_REDIS_DATABASES", ""))
    os.environ["REDIS_URL"] = own
    settings.REDIS_URL = own
    if os.environ.get("CELERY_BROKER_URL", shared) == shared:
        if "CELERY_BROKER_URL" in os.environ:
            os.environ["CELERY_BROKER_URL"] = own
        settings.CELERY_BROKER_URL = own
        celery_app.conf.broker_url = own
    for cache in settings.CACHES.values():
        if cache.get("LOCATION") == shared:
            cache["LOCATION"] = own


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgresql"):
        from django.conf import settings

        if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
            require_service("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("redis") and redis_url_reachable() is None:
        require_service("needs a reachable Redis: set REDIS_URL=redis://...")
    if item.get_closest_marker("gettext") and not shutil.which("xgettext"):
        require_service("needs GNU gettext to extract strings (apt-get install gettext)")
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM_PATH):
        require_service(f"needs Chromium at {CHROMIUM_PATH} (apt-get install chromium)")


@pytest.fixture(scope="session", autouse=True)
def _store_counts_of_past_runs_cleared():
    """Store counts are cached under keys a new test database repeats (store ids, marks,
    frozen clocks): a run starts without the ones an earlier run left in Redis."""
    from django.conf import settings

    if "redis" in settings.CACHES["default"]["BACKEND"].lower() and redis_url_reachable():
        from django.core.cache import cache

        cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Tests hash passwords with MD5: PBKDF2's deliberate slowness cost 0.45 s per created user.
    Subprocess servers keep the real hashers, so no test signs in there with a password it set."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM_PATH):
        require_service(f"needs Chromium at {CHROMIUM_PATH} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot of the current page under artifacts/."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
