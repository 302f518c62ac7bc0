"""Settings come from the environment; with nothing set, the demo runs on embedded defaults."""

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import project_environment, run_manage, run_python

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    busy = cursor.fetchone()[0]
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "journal": journal,
    "busy_timeout": busy,
    "broker": settings.CELERY_BROKER_URL,
    "secret": settings.SECRET_KEY,
    "sandbox": settings.SELLER_CENTRAL_SANDBOX_ENABLED,
}))
"""


def probe(var_dir, **overrides) -> dict:
    environment = project_environment(
        var_dir=var_dir, keep_services=False, DJANGO_SETTINGS_MODULE="config.settings", **overrides
    )
    environment.pop("SECRET_KEY", None)
    environment.pop("CREDENTIALS_ENCRYPTION_KEYS", None)
    environment.pop("DEBUG", None)
    result = run_python(PROBE, environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_nothing_set_the_demo_uses_sqlite_in_wal_mode_and_a_filesystem_broker(tmp_path):
    found = probe(tmp_path)

    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(tmp_path / "db.sqlite3")
    assert found["journal"] == "wal"
    assert found["busy_timeout"] >= 20_000
    assert found["broker"] == "filesystem://"
    assert (tmp_path / "celery" / "queue").is_dir()
    assert found["sandbox"] is True


def test_demo_secrets_are_generated_once_and_kept_out_of_the_code(tmp_path):
    first = probe(tmp_path)["secret"]
    second = probe(tmp_path)["secret"]

    assert first == second
    assert len(first) >= 50
    assert oct((tmp_path / "demo-secrets.json").stat().st_mode)[-3:] == "600"


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    environment = project_environment(
        var_dir=tmp_path,
        keep_services=False,
        DEBUG="false",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    environment.pop("SECRET_KEY", None)

    result = run_python("import django; django.setup()", environment)

    assert result.returncode != 0
    assert "SECRET_KEY must be set in the environment" in result.stderr
    assert not (tmp_path / "demo-secrets.json").exists()


def test_production_settings_pass_the_deployment_checks(tmp_path):
    environment = project_environment(
        var_dir=tmp_path,
        keep_services=False,
        DEBUG="false",
        SECRET_KEY="x" * 64 + "production-only-secret-value-from-the-environment",
        CREDENTIALS_ENCRYPTION_KEYS="S0-NJ8PLBqzU2uOn3AZpHVNcPoV0RMGxJ5yzYhD3h8E=",
        ALLOWED_HOSTS="channel.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path}/production.sqlite3",
        REDIS_URL="redis://127.0.0.1:1/0",
    )

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", environment=environment)

    assert result.returncode == 0, result.stdout + result.stderr
    probe_result = run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SELLER_CENTRAL_SANDBOX_ENABLED, settings.CELERY_BROKER_URL)",
        environment | {"DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert probe_result.stdout.split() == ["False", "redis://127.0.0.1:1/0"]


def test_production_refuses_to_start_without_its_credentials_key(tmp_path):
    environment = project_environment(
        var_dir=tmp_path,
        keep_services=False,
        DEBUG="false",
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="x" * 64 + "production-only-secret-value-from-the-environment",
    )
    environment.pop("CREDENTIALS_ENCRYPTION_KEYS", None)

    result = run_python("import django; django.setup()", environment)

    assert result.returncode != 0
    assert "CREDENTIALS_ENCRYPTION_KEYS must be set in the environment" in result.stderr
    assert not (tmp_path / "demo-secrets.json").exists()


FILESYSTEM_BROKER_PROBE = """
import json, django
django.setup()
from django.conf import settings
from kombu import Exchange, Queue
from config.celery import app
with app.connection_for_write() as connection:
    # A fanout binding, as a worker's remote-control queue makes: kombu writes its exchange table.
    Queue("probe", Exchange("probe-fanout", type="fanout"))(connection.default_channel).declare()
app.send_task("probe.task")
print(json.dumps(app.conf.broker_transport_options))
"""


def test_the_filesystem_broker_keeps_its_queues_and_exchange_tables_under_var_dir(tmp_path):
    # Given the demo (no Redis) run from some other directory.
    var_dir, elsewhere = tmp_path / "var", tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = project_environment(
        var_dir=var_dir, keep_services=False, DJANGO_SETTINGS_MODULE="config.settings"
    )

    # When a queue is bound and a task sent.
    result = subprocess.run(
        [sys.executable, "-c", FILESYSTEM_BROKER_PROBE],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then every folder of the transport is under VAR_DIR, and nothing lands where it ran.
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.strip().splitlines()[-1])
    folders = {key: Path(value) for key, value in options.items() if "folder" in key}
    assert {"data_folder_in", "data_folder_out", "processed_folder", "control_folder"} <= set(
        folders
    )
    assert all(folder.is_relative_to(var_dir) for folder in folders.values()), folders
    assert (folders["control_folder"] / "probe-fanout.exchange").is_file()
    assert list(folders["data_folder_out"].iterdir())  # The task's message.
    assert list(elsewhere.iterdir()) == []


def visibility_check(var_dir, **overrides) -> subprocess.CompletedProcess:
    environment = project_environment(
        var_dir=var_dir,
        keep_services=False,
        DJANGO_SETTINGS_MODULE="config.settings",
        # Settings never connect: any Redis URL selects the Redis transport.
        REDIS_URL="redis://127.0.0.1:1/0",
        **overrides,
    )
    return run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'])",
        environment,
    )


def test_a_visibility_timeout_shorter_than_a_task_can_wait_is_refused_at_start(tmp_path):
    # A slower pace makes the slowest bucket's refill (searchOrders) about 18,200 s.
    slow_pace = visibility_check(tmp_path, AMAZON_RATE_LIMIT_SCALE="0.01")
    long_poll = visibility_check(tmp_path, AMAZON_FEED_POLL_SECONDS="9000")
    within_time_limit = visibility_check(tmp_path, BROKER_VISIBILITY_TIMEOUT_SECONDS="900")
    raised = visibility_check(
        tmp_path, AMAZON_RATE_LIMIT_SCALE="0.01", BROKER_VISIBILITY_TIMEOUT_SECONDS="20000"
    )

    for refused in (slow_pace, long_poll, within_time_limit):
        assert refused.returncode != 0
        assert "ImproperlyConfigured: BROKER_VISIBILITY_TIMEOUT_SECONDS" in refused.stderr
    assert "longest countdown a task can ask for (18223 s" in slow_pace.stderr
    assert raised.returncode == 0, raised.stderr
    assert raised.stdout.split() == ["20000"]
