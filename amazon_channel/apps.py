from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AmazonChannelConfig(AppConfig):
    name = "amazon_channel"
    verbose_name = _("Amazon Sales Channel")
