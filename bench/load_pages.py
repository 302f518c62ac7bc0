"""The merchant's hot pages under load, served by gunicorn as the Procfile runs it (issue 15).

    .venv/bin/python bench/load_pages.py [--orders 1000000] [--clients 32] [--duration 10]
        [--baseline-tree DIR]

Loads --orders Amazon orders with dashboard_pages.py's SQL loader (timed apart), then starts
gunicorn with the Procfile's `web:` command line (its workers and threads, config/gunicorn.py),
DEBUG off and the production settings (static files collected, JSON access log to a file),
on a free loopback port and this run's own database. It signs in once over HTTP (the login
form, as a merchant does) and uses that session cookie for every request. Requests carry
`X-Forwarded-Proto: https`, as from the TLS proxy in front of production.

For each page: --sequential requests one after the other on one keep-alive connection (p50,
p95), then wrk with --clients connections for --duration seconds (requests/s, p50, p95, p99,
answers other than 200), --runs times (3); the run with the most requests/s is the page's
figure (other processes on the machine only ever slow a run down), and each run's requests/s,
p95 and the machine's CPU busy and stolen shares are printed beside it: a run whose machine
was not busy under full load says the server left cores idle (gunicorn's threaded workers did:
one process took nearly every keep-alive connection, see config/gunicorn.py). Pages: store
cards, a store dashboard, All Orders, Amazon Order Details, and Django admin's changelist of
Amazon orders beside them.

--baseline-tree DIR measures a second checkout (e.g. `git archive ed19015 | tar -x -C DIR`)
on the same database in the same run, before this tree, for a before/after on the same
machine and minutes.

Targets (each hot page, this tree): p95 < 20 ms alone; >= 300 requests/s with p95 < 150 ms at
32 clients. Needs wrk (`apt-get install -y wrk`).
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import PROJECT_DIR, bench_django, store_create, verdict
from dashboard_pages import load, percentile

HOT_TARGET_ALONE_MS = 20.0
LOAD_TARGET_RPS = 300.0
LOAD_TARGET_P95_MS = 150.0
PASSWORD = "bench-load-pages-password"  # noqa: S105 - a throwaway user on a throwaway database

# wrk's script: p50/p95/p99 from its latency histogram, answers other than 200 over all threads.
WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local not_ok_total = 0
  for _, thread in ipairs(threads) do not_ok_total = not_ok_total + thread:get("not_ok") end
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "p99": %f, "not_ok": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, not_ok_total,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile_web_command(tree: Path, *, bind: str) -> list[str]:
    """The Procfile's `web:` line as the shell would run it, with WEB_BIND set to `bind`."""
    line = next(
        line.split(":", 1)[1]
        for line in (tree / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )

    def expand(match):
        name, default = match.group(1), match.group(2)
        if name == "WEB_BIND":
            return bind
        return os.environ.get(name) or default

    return shlex.split(re.sub(r"\$\{(\w+):-([^}]*)\}", expand, line))


class Server:
    """gunicorn from `tree` with the Procfile's web command line, stopped on exit."""

    def __init__(self, tree: Path, *, env: dict, work_dir: Path):
        self.tree = tree
        self.port = free_port()
        self.env = {**env, "PYTHONPATH": str(tree), "VAR_DIR": str(work_dir)}
        (work_dir / "static").mkdir(parents=True, exist_ok=True)
        self.log_path = work_dir / "gunicorn.log"
        self.process = None

    def __enter__(self):
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=self.tree,
            env=self.env,
            check=True,
        )
        command = procfile_web_command(self.tree, bind=f"127.0.0.1:{self.port}")
        if command[0] == "gunicorn":  # this venv's gunicorn, not whatever is on PATH
            command = [str(Path(python).parent / "gunicorn"), *command[1:]]
        print(f"server: {shlex.join(command)} (in {self.tree})")
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=self.tree, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-3000:]}")
            try:
                status, _body, _headers = self.get("/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def __exit__(self, *exc_info):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def cpu_seconds(self) -> float:
        """CPU time used so far by gunicorn's workers (user + system, from /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        for pid in children.read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path, *, headers=None, connection=None):
        own = connection is None
        connection = connection or self.connection()
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read(), response.headers
        finally:
            if own:
                connection.close()


PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def _set_cookies(headers) -> str:
    return "\n".join(headers.get_all("Set-Cookie") or [])


def sign_in(server: Server, username: str) -> str:
    """Sign in through the login form; return the Cookie header for the session."""
    status, body, headers = server.get("/accounts/login/", headers=PROXY_HEADERS)
    if status != 200:
        raise RuntimeError(f"login page answered {status}")
    csrf_cookie = re.search(r"csrftoken=([^;]+)", _set_cookies(headers)).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    origin = f"https://127.0.0.1:{server.port}"
    connection = server.connection()
    connection.request(
        "POST",
        "/accounts/login/",
        body=urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}),
        headers={
            **PROXY_HEADERS,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Origin": origin,
            "Referer": f"{origin}/accounts/login/",
        },
    )
    response = connection.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", _set_cookies(response.headers))
    connection.close()
    if response.status != 302 or not session:
        raise RuntimeError(f"sign-in failed: {response.status}")
    return f"sessionid={session.group(1)}; csrftoken={csrf_cookie}"


def measure_sequential(server: Server, path: str, *, cookie: str, requests: int, warmup: int):
    headers = {**PROXY_HEADERS, "Cookie": cookie}
    connection = server.connection()
    times = []
    try:
        for number in range(warmup + requests):
            started = time.perf_counter()
            status, body, _headers = server.get(path, headers=headers, connection=connection)
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
            if number >= warmup:
                times.append(elapsed)
    finally:
        connection.close()
    return {"p50": statistics.median(times), "p95": percentile(times, 0.95), "bytes": len(body)}


def measure_load(server: Server, path: str, *, cookie: str, clients: int, seconds: float, script):
    command = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(clients),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        "-H",
        f"Cookie: {cookie}",
        "-H",
        "X-Forwarded-Proto: https",
        f"http://127.0.0.1:{server.port}{path}",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^WRK (\{.*\})$", output, re.MULTILINE)
    if not found:
        raise RuntimeError(f"wrk printed no summary: {output}")
    result = json.loads(found.group(1))
    result["rps"] = result["requests"] / result["seconds"]
    return result


@contextlib.contextmanager
def writes_during(rate: float, order_id: int):
    """An UPDATE of one order of the pages' store every 1/`rate` seconds, committed (as a sync
    storing a page, or a notification, writes): each moves the store's mark, so what the pages
    keep under it is read again. Yields a function giving the writes made so far."""
    from django.db import connection
    from django.utils import timezone

    from amazon_channel.models import AmazonOrder

    made = [0]
    if rate <= 0:
        yield lambda: made[0]
        return
    stop = threading.Event()

    def write():
        try:
            while not stop.wait(1 / rate):
                AmazonOrder.objects.filter(pk=order_id).update(last_update_date=timezone.now())
                made[0] += 1
        finally:
            connection.close()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield lambda: made[0]
    finally:
        stop.set()
        thread.join()


def database_idle_wait(*, timeout: float = 120) -> None:
    """Wait until no query of this run's database is running (the admin's slow ones)."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.5)
    connection.close()


def cpu_times() -> tuple[int, int, int]:
    """The machine's CPU ticks so far: busy (user, nice, system, irq, softirq), idle (idle,
    iowait) and steal (taken by the host for other guests), from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return user + nice + system + irq + softirq, idle + iowait, steal


def busy_share(before: tuple[int, int, int], after: tuple[int, int, int]) -> tuple[float, float]:
    """Percent of the machine's CPU time that was busy, and that the host stole, between two
    cpu_times() readings."""
    busy, idle, steal = (end - start for start, end in zip(before, after, strict=True))
    total = max(busy + idle + steal, 1)
    return 100 * busy / total, 100 * steal / total


def machine_line() -> str:
    load_1, load_5, load_15 = os.getloadavg()
    return f"load average {load_1:.2f} {load_5:.2f} {load_15:.2f}, cpu_count {os.cpu_count()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--commerce-orders", type=int, default=None, help="default: orders / 5")
    parser.add_argument("--sequential", type=int, default=100, help="timed requests alone")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per page")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="load runs per hot page; the best is reported (each run's figures are printed)",
    )
    parser.add_argument(
        "--writes-per-second",
        type=float,
        default=1.0,
        help="UPDATEs of one order of the pages' store during each load run (0: none)",
    )
    parser.add_argument(
        "--admin-sequential",
        type=int,
        default=20,
        help="timed requests alone of the admin changelist (slow at 1M orders)",
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        default=None,
        help="another checkout measured first on the same database (before/after)",
    )
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk (Debian's package)")
        return 2
    commerce_orders = (
        arguments.commerce_orders
        if arguments.commerce_orders is not None
        else arguments.orders // 5
    )

    with bench_django("load_pages") as info:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.urls import reverse

        from amazon_channel.models import AmazonOrder

        if info.vendor != "postgresql":
            print("DATABASE_URL must point at PostgreSQL")
            return 2
        print(f"machine: {machine_line()}")
        stores = [
            store_create(name=f"Bench store {number:02d}", seller_id=f"A{number:02d}BENCHSELLER")
            for number in range(1, arguments.stores + 1)
        ]
        started = time.perf_counter()
        timings = load(
            orders=arguments.orders,
            store_ids=[store.pk for store in stores],
            commerce_orders=commerce_orders,
        )
        load_seconds = time.perf_counter() - started
        for name, (seconds, rows) in timings.items():
            print(f"load: {name:<34} {rows:>9} rows {seconds:7.1f}s")
        print(f"load: {AmazonOrder.objects.count()} Amazon orders in {load_seconds:.1f}s")
        username = "bench"
        get_user_model().objects.create_superuser(username, "bench@example.com", PASSWORD)

        store = stores[0]
        candidates = AmazonOrder.objects.filter(
            store=store, events__isnull=False, items__isnull=False, commerce_order__isnull=False
        ).order_by("-purchase_date", "-id")
        detail_order = next(
            (order for order in candidates.distinct()[:60] if order.pk % 3 == 2),
            candidates.first(),
        )
        print(
            f"writes: {arguments.writes_per_second:g}/s to order {detail_order.pk} of store "
            f"{store.pk} during each load run of a hot page (--writes-per-second)"
        )
        pages = [
            ("Store cards (/)", reverse("dashboard:store_list"), True),
            ("Store dashboard", reverse("dashboard:store_detail", args=[store.pk]), True),
            ("All Orders", reverse("dashboard:order_list", args=[store.pk]), True),
            (
                "Amazon Order Details",
                reverse("dashboard:order_detail", args=[store.pk, detail_order.pk]),
                True,
            ),
            (
                "admin Amazon orders changelist",
                reverse("admin:amazon_channel_amazonorder_changelist"),
                False,
            ),
        ]
        connection.close()

        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_SETTINGS_MODULE", "LOG_LEVEL", "VAR_DIR"}
        }
        env.update(
            {
                "DEBUG": "false",
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "SECRET_KEY": settings.SECRET_KEY,
                "CREDENTIALS_ENCRYPTION_KEYS": ",".join(settings.CREDENTIALS_ENCRYPTION_KEYS),
                "ALLOWED_HOSTS": "127.0.0.1",
                "LOG_LEVEL": "INFO",
            }
        )
        trees = [("this tree", PROJECT_DIR)]
        if arguments.baseline_tree:
            trees.insert(0, ("baseline", arguments.baseline_tree.resolve()))
        script = Path(tempfile.mkstemp(prefix="load_pages_", suffix=".lua")[1])
        script.write_text(WRK_SCRIPT)
        results = {}
        try:
            with contextlib.ExitStack() as stack:
                servers = {}
                for tree_label, tree in trees:
                    work_dir = info.var_dir / tree_label.replace(" ", "_")
                    server = stack.enter_context(Server(tree, env=env, work_dir=work_dir))
                    servers[tree_label] = (server, sign_in(server, username))
                    print(f"{tree_label}: {tree}, signed in")
                # Page by page, each tree in turn: a drift of the machine's speed (another
                # process starting) then falls on both trees, not on the second one only.
                # The admin changelist last: its slow requests go on in PostgreSQL after wrk
                # stops, so the run waits for the database to be idle again after it.
                for label, path, is_hot in sorted(pages, key=lambda page: not page[2]):
                    print(f"\n{label} ({path})")
                    alones, runs = {}, {tree_label: [] for tree_label in servers}
                    for tree_label, (server, cookie) in servers.items():
                        # Every worker process serves a hot page before it is timed (its
                        # templates compiled, its caches filled): requests one after the other
                        # may all reach one process, which leaves the others cold until the
                        # timed ones reach them. Not the admin's slow page: a burst of it
                        # would still keep PostgreSQL busy while it is timed alone.
                        if is_hot:
                            measure_load(
                                server,
                                path,
                                cookie=cookie,
                                clients=arguments.clients,
                                seconds=1,
                                script=script,
                            )
                        alones[tree_label] = measure_sequential(
                            server,
                            path,
                            cookie=cookie,
                            requests=arguments.sequential if is_hot else arguments.admin_sequential,
                            warmup=arguments.warmup if is_hot else 2,
                        )
                        if not is_hot:
                            database_idle_wait()
                    # The trees take turns run by run: this VM's speed drifts by a quarter
                    # within minutes, and turns put a drift on both trees, not on one.
                    for _run in range(arguments.runs if is_hot else 1):
                        for tree_label, (server, cookie) in servers.items():
                            cpu_before, machine_before = server.cpu_seconds(), cpu_times()
                            with writes_during(
                                arguments.writes_per_second if is_hot else 0, detail_order.pk
                            ) as writes_made:
                                run = measure_load(
                                    server,
                                    path,
                                    cookie=cookie,
                                    clients=arguments.clients,
                                    seconds=arguments.duration,
                                    script=script,
                                )
                            run["writes"] = writes_made()
                            cpu_ms = (server.cpu_seconds() - cpu_before) * 1000
                            run["cpu_ms"] = cpu_ms / max(run["requests"], 1)
                            run["busy"], run["steal"] = busy_share(machine_before, cpu_times())
                            runs[tree_label].append(run)
                            if not is_hot:
                                database_idle_wait()
                    for tree_label in servers:
                        alone = alones[tree_label]
                        # The best run: other processes on the machine only ever slow one down.
                        loaded = max(runs[tree_label], key=lambda run: run["rps"])
                        loaded["all_runs"] = runs[tree_label]
                        results[(tree_label, label)] = (alone, loaded)
                        print(
                            f"  {tree_label:<10} alone p50 {alone['p50']:6.1f} "
                            f"p95 {alone['p95']:6.1f} ms | {arguments.clients} clients "
                            f"{loaded['rps']:6.1f} req/s "
                            f"p50 {loaded['p50']:6.1f} p95 {loaded['p95']:6.1f} "
                            f"p99 {loaded['p99']:6.1f} ms, not 200: {loaded['not_ok']}, "
                            f"socket errors {loaded['socket_errors']} | gunicorn CPU "
                            f"{loaded['cpu_ms']:5.2f} ms/request | {alone['bytes']} bytes "
                            f"| {machine_line()}"
                        )
                        if len(runs[tree_label]) > 1:
                            print(
                                f"  {'':<10} runs: "
                                + ", ".join(
                                    f"{run['rps']:.1f} req/s (p95 {run['p95']:.0f} ms, CPU busy "
                                    f"{run['busy']:.0f}%, stolen {run['steal']:.0f}%, "
                                    f"{run['writes']} writes)"
                                    for run in runs[tree_label]
                                )
                            )
        finally:
            script.unlink(missing_ok=True)

        print()
        if len(trees) == 2:
            for label, _path, _is_hot in pages:
                (before_alone, before), (after_alone, after) = (
                    results[(tree_label, label)] for tree_label, _tree in trees
                )
                # Each run of this tree against the baseline's run just before it, the same
                # minute's machine: the median of those ratios moves less with the drift than
                # the ratio of the best runs.
                paired = statistics.median(
                    after_run["rps"] / max(before_run["rps"], 1e-9)
                    for before_run, after_run in zip(
                        before["all_runs"], after["all_runs"], strict=True
                    )
                )
                print(
                    f"before/after {label:<32} alone p95 {before_alone['p95']:6.1f} -> "
                    f"{after_alone['p95']:6.1f} ms; {before['rps']:6.1f} -> {after['rps']:6.1f} "
                    f"req/s (runs side by side: x{paired:.2f} median); p95 "
                    f"{before['p95']:6.1f} -> {after['p95']:6.1f} ms; gunicorn CPU "
                    f"{before['cpu_ms']:5.2f} -> {after['cpu_ms']:5.2f} ms/request"
                )
            print()
        misses = []
        for label, _path, is_hot in pages:
            if not is_hot:
                continue
            alone, loaded = results[("this tree", label)]
            checks = {
                f"alone p95<{HOT_TARGET_ALONE_MS:g}ms": alone["p95"] < HOT_TARGET_ALONE_MS,
                f">={LOAD_TARGET_RPS:g}req/s": loaded["rps"] >= LOAD_TARGET_RPS,
                f"loaded p95<{LOAD_TARGET_P95_MS:g}ms": loaded["p95"] < LOAD_TARGET_P95_MS,
                "all 200": loaded["not_ok"] == 0 and loaded["socket_errors"] == 0,
            }
            missed = [name for name, is_met in checks.items() if not is_met]
            if missed:
                misses.append(f"{label}: {', '.join(missed)}")
            print(
                f"target {label:<32} {verdict(not missed)}"
                + (f" ({', '.join(missed)})" if missed else "")
            )
        print(f"machine: {machine_line()}")
        print(
            f"RESULT load_pages orders={arguments.orders} clients={arguments.clients} "
            f"duration={arguments.duration:g}s missed={len(misses)}"
            + (f" ({'; '.join(misses)})" if misses else "")
            + f" target=alone-p95<{HOT_TARGET_ALONE_MS:g}ms,>={LOAD_TARGET_RPS:g}req/s,"
            f"p95<{LOAD_TARGET_P95_MS:g}ms {verdict(not misses)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
