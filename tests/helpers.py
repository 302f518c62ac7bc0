import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")


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


def run_python(code: str, environment: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_manage(*arguments: str, environment: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
