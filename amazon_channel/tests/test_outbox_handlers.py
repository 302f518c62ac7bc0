import pytest

from amazon_channel.models import OutboxMessage
from amazon_channel.orders.cancellation import CANCEL_ORDER_HANDLER
from amazon_channel.orders.commerce_to_amazon import COMMERCE_MESSAGE_HANDLER
from amazon_channel.outbox.handlers import outbox_handler
from tests.test_import_circles import import_graph, project_modules


def test_every_message_kind_has_its_domains_handler_once_the_app_is_ready():
    handlers = {kind: outbox_handler(kind) for kind in OutboxMessage.Kind.values}

    assert handlers == {
        OutboxMessage.Kind.CANCEL_ORDER: CANCEL_ORDER_HANDLER,
        OutboxMessage.Kind.CONFIRM_SHIPMENT: COMMERCE_MESSAGE_HANDLER,
        OutboxMessage.Kind.REFUND_ORDER: COMMERCE_MESSAGE_HANDLER,
    }
    # Only a cancellation's outcome can be read from Amazon's order.
    assert CANCEL_ORDER_HANDLER.order_verdict is not None
    assert COMMERCE_MESSAGE_HANDLER.order_verdict is None


def test_a_kind_without_a_handler_is_refused_by_name():
    with pytest.raises(LookupError, match="'invoice_upload'"):
        outbox_handler("invoice_upload")


def test_the_outbox_imports_no_order_module():
    graph = import_graph(project_modules())

    outbox_imports = {
        imported
        for module, imports in graph.items()
        if module.startswith("amazon_channel.outbox")
        for imported in imports
    }

    assert outbox_imports
    assert not {name for name in outbox_imports if name.startswith("amazon_channel.orders")}
    assert "amazon_channel.tasks" not in outbox_imports
