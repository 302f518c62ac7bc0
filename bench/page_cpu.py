"""CPU per request of the hot pages, in process, as gunicorn's worker spends it (issue 15).

    .venv/bin/python bench/page_cpu.py [--orders 100000] [--requests 100] [--rounds 3]
        [--baseline-tree DIR]

On a loaded machine requests per second say more about the neighbours than about the pages;
the CPU a request costs does not. Loads --orders Amazon orders with dashboard_pages.py's SQL
loader, then, for this tree (and --baseline-tree, e.g. `git archive 51827a4 | tar -x -C DIR`),
starts a process with production's settings (DEBUG off, static files collected with the
manifest storage, Redis for sessions and permissions when REDIS_URL is set) that calls Django's
WSGI handler as gunicorn does, signed in as a superuser, HTTPS as behind the proxy: per page,
--requests requests after a warm-up, timed by the process's CPU clock (time.process_time:
Python's work, not PostgreSQL's nor the waits). The trees take turns for --rounds rounds; the
lowest of each page's rounds is printed (the least disturbed by other processes).
Pages: store cards, a store dashboard, All Orders, Amazon Order Details (as load_pages.py).
Prints the figures; no target of its own (load_pages.py has the targets).
"""

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PAGES = ("store cards", "store dashboard", "All Orders", "Amazon Order Details")


def measure(pages: dict[str, str], *, username: str, requests: int) -> dict[str, float]:
    """In a process of the tree to measure: CPU milliseconds per request of each page."""
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    user = get_user_model().objects.get(username=username)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    connection.close()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    application = WSGIHandler()

    def get(path: str) -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": cookie,
            "HTTP_X_FORWARDED_PROTO": "https",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        statuses = []
        response = application(
            environ, lambda status, headers, exc_info=None: statuses.append(status)
        )
        b"".join(response)
        response.close()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{path} answered {statuses[0]}")

    results = {}
    for name, path in pages.items():
        for _warmup in range(10):
            get(path)
        started = time.process_time()
        for _request in range(requests):
            get(path)
        results[name] = (time.process_time() - started) * 1000 / requests
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-tree", type=Path, default=None)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # JSON of the pages (a child)
    arguments = parser.parse_args()
    if arguments.measure:
        print("CPU " + json.dumps(measure(**json.loads(arguments.measure))))
        return 0

    from _setup import PROJECT_DIR, bench_django, store_create
    from dashboard_pages import load

    with bench_django("page_cpu") as info:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.urls import reverse

        from amazon_channel.models import AmazonOrder

        stores = [
            store_create(name=f"Bench store {number:02d}", seller_id=f"A{number:02d}BENCHSELLER")
            for number in range(1, arguments.stores + 1)
        ]
        started = time.perf_counter()
        load(
            orders=arguments.orders,
            store_ids=[store.pk for store in stores],
            commerce_orders=arguments.orders // 5,
        )
        print(f"load: {arguments.orders} orders in {time.perf_counter() - started:.1f}s")
        username = "bench"
        get_user_model().objects.create_superuser(username, "bench@example.com", "unused")
        store = stores[0]
        order = (
            AmazonOrder.objects.filter(
                store=store, events__isnull=False, items__isnull=False, commerce_order__isnull=False
            )
            .order_by("-purchase_date", "-id")
            .first()
        )
        pages = dict(
            zip(
                PAGES,
                (
                    reverse("dashboard:store_list"),
                    reverse("dashboard:store_detail", args=[store.pk]),
                    reverse("dashboard:order_list", args=[store.pk]),
                    reverse("dashboard:order_detail", args=[store.pk, order.pk]),
                ),
                strict=True,
            )
        )
        connection.close()
        environment = {
            **{key: value for key, value in os.environ.items() if key != "VAR_DIR"},
            "DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": settings.SECRET_KEY,
            "CREDENTIALS_ENCRYPTION_KEYS": ",".join(settings.CREDENTIALS_ENCRYPTION_KEYS),
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        trees = [("this tree", PROJECT_DIR)]
        if arguments.baseline_tree:
            trees.insert(0, ("baseline", arguments.baseline_tree.resolve()))
        tree_environments = {}
        for label, tree in trees:
            var_dir = info.var_dir / label.replace(" ", "_")
            (var_dir / "static").mkdir(parents=True, exist_ok=True)
            tree_environments[label] = {
                **environment,
                "PYTHONPATH": str(tree),
                "VAR_DIR": str(var_dir),
            }
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                cwd=tree,
                env=tree_environments[label],
                check=True,
            )
        print(f"machine: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        rounds = {label: [] for label, _tree in trees}
        child = json.dumps({"pages": pages, "username": username, "requests": arguments.requests})
        for number in range(arguments.rounds):
            for label, tree in trees:
                output = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--measure", child],
                    cwd=tree,
                    env=tree_environments[label],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                figures = json.loads(output.split("CPU ", 1)[1])
                rounds[label].append(figures)
                print(
                    f"round {number + 1} {label:<10} "
                    + " | ".join(f"{name} {figures[name]:5.2f}" for name in PAGES)
                    + f" ms | load average {os.getloadavg()[0]:.2f}"
                )
        print()
        best = {
            label: {name: min(figures[name] for figures in rounds[label]) for name in PAGES}
            for label in rounds
        }
        for name in PAGES:
            line = " -> ".join(f"{best[label][name]:5.2f}" for label, _tree in trees)
            print(f"cpu {name:<22} {line} ms/request")
        print(
            f"RESULT page_cpu orders={arguments.orders} requests={arguments.requests} "
            f"rounds={arguments.rounds} "
            + " ".join(
                f"{name.replace(' ', '_')}={best['this tree'][name]:.2f}ms" for name in PAGES
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
