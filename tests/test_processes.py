"""The processes `make run` and docker-compose start: the same commands, and they come up."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.helpers import PROJECT_DIR, project_environment, run_manage

VENV_BIN = Path(os.sys.executable).parent


def procfile_commands() -> dict[str, str]:
    lines = (PROJECT_DIR / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def compose_services() -> dict:
    return yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())["services"]


def compose_healthcheck(service: str, **replacements: str) -> list[str]:
    """The service's health check as a command line for this machine's Python."""
    command = compose_services()[service]["healthcheck"]["test"]
    assert command[:2] == ["CMD", "python"], command
    arguments = command[2:]
    for old, new in replacements.items():
        arguments = [argument.replace(old, new) for argument in arguments]
    return [sys.executable, *arguments]


def run_healthcheck(command: list[str], environment: dict) -> int:
    return subprocess.run(
        command, env=environment, capture_output=True, timeout=30, check=False
    ).returncode


def log_entries(output: str, process: str) -> list[dict]:
    """The JSON lines one process wrote under honcho ("12:00:00 web.1 | {...}")."""
    entries = []
    for line in output.splitlines():
        prefix, _, message = line.partition(" | ")
        if prefix.split()[-1:] == [f"{process}.1"] and message.startswith("{"):
            entries.append(json.loads(message))
    return entries


def test_docker_compose_runs_the_procfile_commands_with_one_beat():
    services = compose_services()

    for name, command in procfile_commands().items():
        assert services[name]["command"] == ["sh", "-c", command.replace("$", "$$")]
    assert services["beat"]["deploy"]["replicas"] == 1
    # The sandbox is opt-in (a profile): production runs without it.
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert {"postgres", "redis", "web", "worker", "beat", "notifications"} <= set(services)
    long_running = ("postgres", "redis", "web", "worker", "beat", "notifications", "sandbox", "sqs")
    assert all("healthcheck" in services[name] for name in long_running)
    # The demo's SQS server (moto) goes with the sandbox, never into production.
    assert services["sqs"]["profiles"] == ["sandbox"]
    assert services["notifications"]["environment"]["AMAZON_NOTIFICATIONS_QUEUE_URL"] == (
        "${AMAZON_NOTIFICATIONS_QUEUE_URL:-}"
    )


def test_the_sandbox_profile_migrates_its_own_tables_and_listens_on_loopback_only():
    services = compose_services()
    sandbox, sandbox_migrate = services["sandbox"], services["sandbox-migrate"]

    # The production migrate leaves the sandbox's tables out (the sandbox is off unless the
    # environment turns it on); the profile's own migrate adds them.
    assert (
        services["migrate"]["environment"].get(
            "SELLER_CENTRAL_SANDBOX_ENABLED", "${SELLER_CENTRAL_SANDBOX_ENABLED:-false}"
        )
        == "${SELLER_CENTRAL_SANDBOX_ENABLED:-false}"
    )
    for name in ("web", "worker", "beat"):
        assert (
            services[name]["environment"]["SELLER_CENTRAL_SANDBOX_ENABLED"]
            == "${SELLER_CENTRAL_SANDBOX_ENABLED:-false}"
        )
    assert sandbox_migrate["profiles"] == ["sandbox"]
    assert sandbox_migrate["command"] == services["migrate"]["command"]
    assert sandbox_migrate["environment"]["SELLER_CENTRAL_SANDBOX_ENABLED"] == "true"
    assert sandbox["depends_on"] == {
        "sandbox-migrate": {"condition": "service_completed_successfully"}
    }
    # Served on the host's loopback only; the worker reaches it by its service name, over HTTP.
    assert sandbox["ports"] == ["127.0.0.1:8001:8001"]
    assert sandbox["environment"]["SELLER_CENTRAL_SANDBOX_ENABLED"] == "true"
    assert "sandbox" in sandbox["environment"]["ALLOWED_HOSTS"].split(",")
    assert sandbox["environment"]["SANDBOX_URL"] == "http://sandbox:8001"
    assert sandbox["environment"]["SECURE_SSL_REDIRECT"] == "false"


def make_run_notifications(sqs_port: int) -> dict[str, str]:
    """The Makefile's run target's notification settings, on another SQS port."""
    makefile = (PROJECT_DIR / "Makefile").read_text()
    defaults = dict(re.findall(r"^run: export (\w+) \?= (.*)$", makefile, re.MULTILINE))
    assert set(defaults) >= {"AMAZON_SQS_ENDPOINT_URL", "AMAZON_NOTIFICATIONS_QUEUE_URL"}
    return {name: value.replace(":5000", f":{sqs_port}") for name, value in defaults.items()} | {
        "SQS_PORT": str(sqs_port),
        "SANDBOX_SQS_ENDPOINT_URL": f"http://127.0.0.1:{sqs_port}",
    }


def test_the_web_worker_and_beat_of_make_run_start_together_and_stop_on_ctrl_c(tmp_path):
    # The demo path: SQLite under var/; the broker is Redis when this run has one (CI), else files.
    environment = project_environment(var_dir=tmp_path, keep_services=False)
    if os.environ.get("REDIS_URL"):
        environment["REDIS_URL"] = os.environ["REDIS_URL"]
    port = free_port()
    environment.update(
        WEB_BIND=f"127.0.0.1:{port}",
        SANDBOX_BIND=f"127.0.0.1:{free_port()}",
        WEB_CONCURRENCY="1",
        WORKER_CONCURRENCY="1",
        PATH=f"{VENV_BIN}:{environment['PATH']}",
        # Production's log format: every process's records as JSON lines.
        LOG_FORMAT="json",
        **make_run_notifications(free_port()),
    )
    migrated = run_manage("migrate", "--noinput", environment=environment)
    assert migrated.returncode == 0, migrated.stderr
    beat_healthcheck = compose_healthcheck("beat")
    assert run_healthcheck(beat_healthcheck, environment) != 0  # No beat yet.
    notifications_healthcheck = compose_healthcheck("notifications")
    assert run_healthcheck(notifications_healthcheck, environment) != 0  # No consumer yet.

    log_path = tmp_path / "honcho.log"
    with log_path.open("w") as log:
        honcho = subprocess.Popen(
            [str(VENV_BIN / "honcho"), "start", "-f", "Procfile"],
            cwd=PROJECT_DIR,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        health = None
        is_beat_healthy = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            output = log_path.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as reply:
                    health = reply.read().decode()
            except OSError:
                health = None
            is_beat_healthy = run_healthcheck(beat_healthcheck, environment) == 0
            if (
                health
                and '"notifications": {"status": "ok"' in health
                and is_beat_healthy
                and re.search(r"celery@\S+ ready", output)
                and "beat: Starting" in output
            ):
                break
            time.sleep(0.5)
        output = log_path.read_text()
        assert health is not None, output
        assert '"database": "ok"' in health and '"broker": "ok"' in health, health
        assert re.search(r"celery@\S+ ready", output), output
        assert "beat: Starting" in output, output
        # docker-compose's beat health check passes once beat ticks.
        assert is_beat_healthy, output
        # The consumer made the demo's queue in moto's SQS (the Procfile's `sqs`), reads it,
        # and says so to the health check and to compose's.
        notifications = json.loads(health)["checks"]["notifications"]
        assert notifications["status"] == "ok", health
        assert notifications["consumer_seen_seconds_ago"] < 60
        assert run_healthcheck(notifications_healthcheck, environment) == 0
        assert any(
            e["message"].startswith("notifications queue ready")
            for e in log_entries(output, "notifications")
        ), output
        # Celery's own records go through our logging: JSON lines, like the web's access line.
        worker_entries = log_entries(output, "worker")
        assert any(re.fullmatch(r"celery@\S+ ready\.", e["message"]) for e in worker_entries)
        assert any(e["message"].startswith("beat: Starting") for e in log_entries(output, "beat"))
        assert any(
            e["logger"] == "gunicorn.access" and e["message"].startswith("GET /healthz 200")
            for e in log_entries(output, "web")
        ), output
    finally:
        os.killpg(honcho.pid, signal.SIGINT)
        exit_code = honcho.wait(timeout=30)
    # Ctrl-C stops them all: nothing keeps serving the port.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert exit_code is not None


PRODUCTION_HOST = "channel.example.com"


def http_get(port: int, path: str, **headers: str) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def production_web(tmp_path_factory):
    """The Procfile's web process under production settings, its static files collected."""
    var_dir = tmp_path_factory.mktemp("production-web")
    environment = project_environment(
        var_dir=var_dir,
        keep_services=False,
        DEBUG="false",
        SECRET_KEY="x" * 64 + "production-only-secret-value-from-the-environment",
        CREDENTIALS_ENCRYPTION_KEYS="S0-NJ8PLBqzU2uOn3AZpHVNcPoV0RMGxJ5yzYhD3h8E=",
        ALLOWED_HOSTS=PRODUCTION_HOST,
        DATABASE_URL=f"sqlite:///{var_dir}/production.sqlite3",
    )
    if os.environ.get("REDIS_URL"):
        environment["REDIS_URL"] = os.environ["REDIS_URL"]
    collected = run_manage("collectstatic", "--noinput", "-v0", environment=environment)
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    environment.update(
        WEB_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", PATH=f"{VENV_BIN}:{environment['PATH']}"
    )
    log_path = var_dir / "web.log"
    with log_path.open("w") as log:
        web = subprocess.Popen(
            ["sh", "-c", procfile_commands()["web"]],
            cwd=PROJECT_DIR,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert web.poll() is None, log_path.read_text()
            time.sleep(0.2)
        else:
            raise AssertionError(log_path.read_text())
        yield {"port": port, "log_path": log_path, "var_dir": var_dir, "environment": environment}
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)


def test_the_compose_web_healthcheck_passes_whatever_host_the_probe_sends(production_web):
    port = production_web["port"]
    healthcheck = compose_healthcheck("web", **{"127.0.0.1:8000": f"127.0.0.1:{port}"})

    # The probe sends "Host: 127.0.0.1:<port>", which ALLOWED_HOSTS does not list.
    assert run_healthcheck(healthcheck, production_web["environment"]) == 0
    status, _headers, body = http_get(port, "/healthz", Host="10.0.3.7")
    assert status == 200, body
    # Every other page still refuses that Host, and still redirects plain HTTP to HTTPS.
    assert http_get(port, "/accounts/login/", Host=f"127.0.0.1:{port}")[0] == 400
    status, headers, _body = http_get(port, "/accounts/login/", Host=PRODUCTION_HOST)
    assert status == 301
    assert headers["Location"] == f"https://{PRODUCTION_HOST}/accounts/login/"


def test_production_web_serves_the_hashed_static_files_itself(production_web):
    static_root = production_web["var_dir"] / "static"
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    # One of our own stylesheets, under its content-hashed name.
    name, hashed = next(
        (name, hashed)
        for name, hashed in manifest["paths"].items()
        if name.endswith(".css") and (PROJECT_DIR / "static" / name).exists()
    )
    assert hashed != name

    status, headers, body = http_get(
        production_web["port"],
        f"/static/{hashed}",
        Host=PRODUCTION_HOST,
        **{"X-Forwarded-Proto": "https"},
    )

    assert status == 200
    assert body == (static_root / hashed).read_bytes()
    # WhiteNoise: a hashed name never changes, so browsers keep it.
    assert "immutable" in headers["Cache-Control"]


def test_the_access_log_is_a_json_line_with_the_request_id_and_no_query_string(production_web):
    status, headers, _body = http_get(
        production_web["port"],
        "/healthz?buyer_name=Erika%20Mustermann&search=erika%40mustermann.example",
        Host=PRODUCTION_HOST,
        **{"X-Request-ID": "access-log-probe-7", "X-Forwarded-Proto": "https"},
    )
    assert status == 200
    assert headers["X-Request-ID"] == "access-log-probe-7"

    entries: list[dict] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not entries:
        log = production_web["log_path"].read_text()
        lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        entries = [entry for entry in lines if entry["request_id"] == "access-log-probe-7"]
        time.sleep(0.1)

    assert [entry["logger"] for entry in entries] == ["gunicorn.access"], log
    assert re.fullmatch(r"GET /healthz 200 \d+ ms", entries[0]["message"]), entries
    for personal in ("erika", "mustermann", "buyer_name", "search="):
        assert personal not in log.lower()
