"""Settings come from the environment; with nothing set, the demo runs on embedded defaults."""

import json

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
