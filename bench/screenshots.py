"""The README's screenshots, from the demo's data in a throwaway database.

    .venv/bin/python bench/screenshots.py [--output docs/screenshots] [--orders 60]
    make screenshots

Runs `make run`'s demo set-up (merchant login, catalog, the sandbox seller and its connected
store) on a database of its own (bench/_setup.py: PostgreSQL with DATABASE_URL, else SQLite in a
temp dir), syncs the store's orders from the Seller Central sandbox (its SP-API in a thread, on
a free port) as the worker would, serves the app in another thread, and saves with headless
Chromium (CHROMIUM_PATH, default /usr/bin/chromium), at 1440 px (desktop) and 390 px (phone):

    store-cards, store-dashboard, amazon-order-details, cancel-order  ->  <name>-<width>.png

Tasks are queued on a filesystem broker in the temp dir (no worker, nothing reaches Redis).
"""

import argparse
import os
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import PROJECT_DIR, bench_django

WIDTHS = {"desktop": 1440, "phone": 390}
# A phone screenshot of a long page is cut here: the README shows the top of each page.
MAX_HEIGHT = {1440: 1500, 390: 2200}
TIME_SCALE = 50


def wsgi_thread(application):
    """Serve `application` on 127.0.0.1 and a free port in a daemon thread; returns the server."""
    from wsgiref.simple_server import WSGIRequestHandler

    from django.core.servers.basehttp import ThreadedWSGIServer

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(application)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def url_of(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def store_sync(store) -> None:
    """One sync of the store to its end, as a worker's retries would run it."""
    from amazon_channel.models import SyncRun
    from amazon_channel.orders.sync import sync_run_start, sync_run_step

    run = sync_run_start(store=store, kind=SyncRun.Kind.COMMAND)
    holder = f"screenshots-{uuid.uuid4()}"
    deadline = time.monotonic() + 120
    while run is not None and time.monotonic() < deadline:
        outcome = sync_run_step(run_id=run.pk, holder=holder)
        if outcome.is_finished or outcome.is_busy:
            break
        time.sleep(min(outcome.wait_seconds, 2))


def pages(app_url: str) -> dict[str, str]:
    """The pages to show: the store card list, its dashboard, and an Unshipped order that can
    be canceled (one with a Commerce order, as most are)."""
    from django.urls import reverse

    from amazon_channel.models import AmazonOrder, AmazonOrderStatus, Store
    from amazon_channel.orders.cancellation import cancellation_refusal

    store = Store.objects.get()
    candidates = AmazonOrder.objects.filter(
        store=store, status=AmazonOrderStatus.UNSHIPPED
    ).order_by("-commerce_order_id", "-purchase_date")
    order = next(order for order in candidates if cancellation_refusal(order) is None)
    return {
        "store-cards": app_url + reverse("dashboard:store_list"),
        "store-dashboard": app_url + reverse("dashboard:store_detail", args=[store.pk]),
        "amazon-order-details": app_url
        + reverse("dashboard:order_detail", args=[store.pk, order.pk]),
        "cancel-order": app_url + reverse("dashboard:order_cancel", args=[store.pk, order.pk]),
    }


def screenshots_take(
    *, app_url: str, username: str, password: str, output: Path, language: str = "en-US"
) -> list[Path]:
    from playwright.sync_api import sync_playwright

    output.mkdir(parents=True, exist_ok=True)
    targets = pages(app_url)
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for width in WIDTHS.values():
            context = browser.new_context(
                locale=language, viewport={"width": width, "height": 900}, device_scale_factor=1
            )
            page = context.new_page()
            page.goto(f"{app_url}/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{app_url}/")
            for name, url in targets.items():
                page.goto(url)
                height = page.evaluate("document.documentElement.scrollHeight")
                path = output / f"{name}-{width}.png"
                page.screenshot(
                    path=str(path),
                    full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": min(height, MAX_HEIGHT[width])},
                )
                saved.append(path)
            context.close()
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "docs" / "screenshots")
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument(
        "--language",
        default="en-US",
        help="the browser's language, e.g. fr-FR, de-DE, it-IT, nl-NL",
    )
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    # Throwaway: no task reaches a shared broker.
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop beside the ORM
    environment = {"SANDBOX_TIME_SCALE": TIME_SCALE, "AMAZON_RATE_LIMIT_SCALE": TIME_SCALE}
    with bench_django("screenshots", extra_env=environment):
        from django.conf import settings
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.core.wsgi import get_wsgi_application

        from demo.services import demo_setup
        from seller_central_sandbox.wsgi import SandboxHandler

        sandbox = wsgi_thread(SandboxHandler())
        app = wsgi_thread(StaticFilesHandler(get_wsgi_application()))
        try:
            settings.SANDBOX_URL = url_of(sandbox)
            password = "screenshots-demo"  # noqa: S105 - a throwaway database's login
            result = demo_setup(
                password=password,
                sandbox_url=settings.SANDBOX_URL,
                order_count=arguments.orders,
                seed=arguments.seed,
            )
            store_sync(result.store)
            saved = screenshots_take(
                app_url=url_of(app),
                username=result.username,
                password=password,
                output=arguments.output,
                language=arguments.language,
            )
        finally:
            app.shutdown()
            sandbox.shutdown()
    for path in saved:
        print(
            f"saved {path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path}"
        )
    print(f"RESULT screenshots PASS {len(saved)} saved")


if __name__ == "__main__":
    main()
