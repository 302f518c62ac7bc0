"""Answer the health check before Django looks at the Host header or redirects to HTTPS.

Load balancers and docker-compose probe by address (`Host: 127.0.0.1:8000`, `Host: 10.0.3.7`),
which ALLOWED_HOSTS rightly refuses for every page; the health check shows nothing of the site,
so it answers whatever the Host, over plain HTTP. Placed before SecurityMiddleware and
CommonMiddleware, after RequestIdMiddleware (its response carries an X-Request-ID too).
"""

from dashboard.health import health

HEALTH_PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH:
            return health(request)
        return self.get_response(request)
