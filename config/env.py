"""Reading settings from the environment, with demo defaults kept under var/."""

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def demo_secret(name: str, *, var_dir: Path, allow_generated: bool) -> str:
    """Return a secret from the environment; on a demo machine, generate and keep one under var/.

    Production (DEBUG off) never generates: a missing secret is a configuration error.
    """
    value = os.environ.get(name)
    if value:
        return value
    if not allow_generated:
        raise ImproperlyConfigured(f"{name} must be set in the environment.")
    store = var_dir / "demo-secrets.json"
    stored = json.loads(store.read_text()) if store.exists() else {}
    if name not in stored:
        generators = {
            "SECRET_KEY": lambda: secrets.token_urlsafe(50),
            "CREDENTIALS_ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
        }
        stored[name] = generators[name]()
        var_dir.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(stored, indent=2))
        store.chmod(0o600)
    return stored[name]


def env_log_format(*, debug: bool) -> str:
    """LOG_FORMAT ("json" or "plain"); unset: JSON lines in production, a plain line under DEBUG.

    Read by the settings and by gunicorn's own logger (config/gunicorn.py), which starts first.
    """
    return os.environ.get("LOG_FORMAT") or ("plain" if debug else "json")
