from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AmazonChannelConfig(AppConfig):
    name = "amazon_channel"
    verbose_name = _("Amazon Sales Channel")

    def ready(self):
        # The channel's message codes join the one registry before any page renders a note.
        # Celery's registry holds the tasks that services queue by name (amazon_channel.enqueue).
        from amazon_channel import (
            notes,  # noqa: F401
            tasks,  # noqa: F401
        )
        from amazon_channel.models import OutboxMessage
        from amazon_channel.orders.cancellation import CANCEL_ORDER_HANDLER
        from amazon_channel.orders.commerce_to_amazon import COMMERCE_MESSAGE_HANDLER
        from amazon_channel.outbox.handlers import outbox_handler_register

        # The outbox finds here what each kind of message means to the module that queues it.
        outbox_handler_register(kind=OutboxMessage.Kind.CANCEL_ORDER, handler=CANCEL_ORDER_HANDLER)
        outbox_handler_register(
            kind=OutboxMessage.Kind.CONFIRM_SHIPMENT, handler=COMMERCE_MESSAGE_HANDLER
        )
        outbox_handler_register(
            kind=OutboxMessage.Kind.REFUND_ORDER, handler=COMMERCE_MESSAGE_HANDLER
        )
