"""The health check's answer (config.health answers it before any other middleware)."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from amazon_channel.health import broker_check, database_check


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
