"""The processes `make run` and docker-compose start: the same commands, and they come up."""

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

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


def test_docker_compose_runs_the_procfile_commands_with_one_beat():
    compose = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())
    services = compose["services"]

    for name, command in procfile_commands().items():
        assert services[name]["command"] == ["sh", "-c", command.replace("$", "$$")]
    assert services["beat"]["deploy"]["replicas"] == 1
    # The sandbox is opt-in (a profile): production runs without it.
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert all("healthcheck" in services[name] for name in ("postgres", "redis", "web", "worker"))


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
    )
    migrated = run_manage("migrate", "--noinput", environment=environment)
    assert migrated.returncode == 0, migrated.stderr

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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            output = log_path.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as reply:
                    health = reply.read().decode()
            except OSError:
                health = None
            if health and "celery@" in output and "ready" in output and "beat: Starting" in output:
                break
            time.sleep(0.5)
        output = log_path.read_text()
        assert health is not None, output
        assert '"database": "ok"' in health and '"broker": "ok"' in health, health
        assert re.search(r"celery@\S+ ready", output), output
        assert "beat: Starting" in output, output
    finally:
        os.killpg(honcho.pid, signal.SIGINT)
        exit_code = honcho.wait(timeout=30)
    # Ctrl-C stops all three: nothing keeps serving the port.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert exit_code is not None
