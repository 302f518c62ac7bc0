"""Readiness of what the channel depends on: the database and the Celery broker."""

from django.db import connection

from config.celery import app as celery_app


def database_check() -> str | None:
    """None when the database answers, else the reason."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure is a failed check
        return f"{type(error).__name__}"
    return None


def broker_check(*, timeout: float = 2.0) -> str | None:
    """None when the Celery broker accepts a connection, else the reason."""
    try:
        with celery_app.connection_for_write() as broker_connection:
            broker_connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as error:  # noqa: BLE001 - any failure is a failed check
        return f"{type(error).__name__}"
    return None
