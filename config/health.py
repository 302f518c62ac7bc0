"""The health check: 200 when the database and the Celery broker answer, else 503.

Where Amazon's notifications are on (AMAZON_NOTIFICATIONS_QUEUE_URL), a "notifications" check
reports what the consumer last saw: when it last read the queue ("unhealthy" after 2 minutes),
the queue's depth, the dead-letter queue's depth and its oldest message's age. It never turns
the answer into a 503: load balancers and compose act on this page by taking the web out or
restarting it, which would not mend a stopped consumer or a poison message, and the poll keeps
the stores in step meanwhile. The body's status says "degraded" instead; the consumer's own
health check (its heartbeat file, docker-compose.yml) restarts the consumer.

Answered before Django looks at the Host header or redirects to HTTPS. Load balancers and
docker-compose probe by address (`Host: 127.0.0.1:8000`, `Host: 10.0.3.7`), which ALLOWED_HOSTS
rightly refuses for every page; the health check shows nothing of the site, so it answers
whatever the Host, over plain HTTP. HealthCheckMiddleware is placed before SecurityMiddleware
and CommonMiddleware, after RequestIdMiddleware (its response carries an X-Request-ID too).
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from amazon_channel.notifications.queues import notification_queue_health
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
    if settings.AMAZON_NOTIFICATIONS_QUEUE_URL and checks["database"] is None:
        notifications = notifications_check()
        body["checks"]["notifications"] = notifications
        if is_healthy and notifications["status"] != "ok":
            body["status"] = "degraded"
    return JsonResponse(body, status=200 if is_healthy else 503)


def notifications_check() -> dict:
    """The notification consumer's report (never a reason for a 503: see the module's doc)."""
    try:
        return notification_queue_health(queue_url=settings.AMAZON_NOTIFICATIONS_QUEUE_URL)
    except Exception as error:  # noqa: BLE001 - any failure is a failed check
        return {"status": "unhealthy", "problem": type(error).__name__}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH:
            return health(request)
        return self.get_response(request)
