from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self):
        from config.auth import permissions_signals_connect

        # The pages read permissions from the cache: their changes must reach it.
        permissions_signals_connect()
