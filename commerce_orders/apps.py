from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CommerceOrdersConfig(AppConfig):
    name = "commerce_orders"
    verbose_name = _("Commerce orders")

    def ready(self):
        from commerce_orders.search import sqlite_functions_register

        # Name search ignores accents on SQLite too (PostgreSQL: the f_unaccent migration).
        connection_created.connect(sqlite_functions_register, dispatch_uid="commerce_unaccent")
