"""The sandbox's own process: the same Django project, answering only the SP-API URLs."""

import os

from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class SandboxHandler(WSGIHandler):
    def get_response(self, request):
        request.urlconf = "seller_central_sandbox.api_urls"
        return super().get_response(request)


def get_sandbox_application() -> SandboxHandler:
    import django

    django.setup(set_prefix=False)
    return SandboxHandler()


application = get_sandbox_application()
