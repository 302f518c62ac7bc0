"""The sandbox's own process: the same Django project, answering only the SP-API URLs."""

import os
import threading

from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class SandboxHandler(WSGIHandler):
    def get_response(self, request):
        request.urlconf = "seller_central_sandbox.api_urls"
        return super().get_response(request)


class SandboxProcessHandler(SandboxHandler):
    """The sandbox process's application: from its first request on, a thread finishes due
    feeds and sends held notifications without a call, as Amazon does (tests serve the plain
    SandboxHandler and run those turns themselves)."""

    def __init__(self):
        super().__init__()
        self._pump_lock = threading.Lock()
        self._pump_started = False

    def __call__(self, environ, start_response):
        if not self._pump_started:
            with self._pump_lock:
                if not self._pump_started:
                    from django.conf import settings

                    from seller_central_sandbox.services.pump import notifications_pump_start

                    notifications_pump_start(settings.SANDBOX_NOTIFICATION_PUMP_SECONDS)
                    self._pump_started = True
        return super().__call__(environ, start_response)


def get_sandbox_application() -> SandboxProcessHandler:
    """The sandbox's WSGI app; refuses to start where the sandbox is off (production)."""
    import django
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    django.setup(set_prefix=False)
    if not settings.SELLER_CENTRAL_SANDBOX_ENABLED:
        raise ImproperlyConfigured(
            "The Seller Central sandbox is off (SELLER_CENTRAL_SANDBOX_ENABLED): it never runs "
            "beside a production deployment."
        )
    return SandboxProcessHandler()


application = get_sandbox_application()
