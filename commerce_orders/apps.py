from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceOrdersConfig(AppConfig):
    name = "commerce_orders"
    verbose_name = _("Commerce orders")
