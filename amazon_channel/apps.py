from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AmazonChannelConfig(AppConfig):
    name = "amazon_channel"
    verbose_name = _("Amazon Sales Channel")

    def ready(self):
        # The channel's message codes join the one registry before any page renders a note.
        from amazon_channel import notes  # noqa: F401
