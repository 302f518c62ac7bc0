"""The health check: 200 when the database and the Celery broker answer, else 503.

Answered before Django looks at the Host header or redirects to HTTPS. Load balancers and
docker-compose probe by address (`Host: 127.0.0.1:8000`, `Host: 10.0.3.7`), which ALLOWED_HOSTS
rightly refuses for every page; the health check shows nothing of the site, so it answers
whatever the Host, over plain HTTP. HealthCheckMiddleware is placed before SecurityMiddleware
and CommonMiddleware, after RequestIdMiddleware (its response carries an X-Request-ID too).
"""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app

HEALTH_PATH = "/healthz"


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


@login_not_required
@never_cache
@require_GET
def health(request):
    """For load balancers and docker-compose: 200 when the database and broker answer, else 503."""
    checks = {"database": database_check(), "broker": broker_check()}
    is_healthy = all(problem is None for problem in checks.values())
    body = {
        "status": "ok" if is_healthy else "unavailable",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    return JsonResponse(body, status=200 if is_healthy else 503)


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH:
            return health(request)
        return self.get_response(request)
