"""The sandbox's own process: the same Django project, answering only the SP-API URLs."""

import os

from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class SandboxHandler(WSGIHandler):
    def get_response(self, request):
        request.urlconf = "seller_central_sandbox.api_urls"
        return super().get_response(request)


def get_sandbox_application() -> SandboxHandler:
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
    return SandboxHandler()


application = get_sandbox_application()
