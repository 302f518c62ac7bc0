"""Writes of the store's order system. Callers import from here; the modules are the rooms."""

from commerce_orders.services.channel_orders import (
    ChannelOrderData,
    ChannelOrderOutcome,
    channel_order_create,
    channel_orders_create,
)
from commerce_orders.services.credit_memos import creditmemo_create
from commerce_orders.services.invoices import invoice_create
from commerce_orders.services.mass_actions import MassActionResult, orders_mass_action
from commerce_orders.services.notifications import order_comment_add, order_email_send
from commerce_orders.services.orders import (
    AddressData,
    OrderLine,
    order_cancel,
    order_complete,
    order_complete_after_channel_cancellation,
    order_create,
    order_hold,
    order_unhold,
)
from commerce_orders.services.sequences import sequence_next_value
from commerce_orders.services.shipments import shipment_create, shipment_tracking_update
from commerce_orders.services.stock import (
    StockLine,
    order_stock_reference,
    stock_release,
    stock_reserve,
)
from commerce_orders.services.transitions import order_transition_check

__all__ = [
    "AddressData",
    "ChannelOrderData",
    "ChannelOrderOutcome",
    "MassActionResult",
    "OrderLine",
    "StockLine",
    "channel_order_create",
    "channel_orders_create",
    "creditmemo_create",
    "invoice_create",
    "order_cancel",
    "order_comment_add",
    "order_complete",
    "order_complete_after_channel_cancellation",
    "order_create",
    "order_email_send",
    "order_hold",
    "order_stock_reference",
    "order_transition_check",
    "order_unhold",
    "orders_mass_action",
    "sequence_next_value",
    "shipment_create",
    "shipment_tracking_update",
    "stock_release",
    "stock_reserve",
]
