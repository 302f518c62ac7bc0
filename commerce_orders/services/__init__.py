"""Writes of the store's order system. Callers import from here; the modules are the rooms."""

from commerce_orders.services.invoices import invoice_create
from commerce_orders.services.orders import (
    AddressData,
    OrderLine,
    order_complete,
    order_complete_after_channel_cancellation,
    order_create,
)
from commerce_orders.services.sequences import sequence_next_value
from commerce_orders.services.stock import (
    StockLine,
    order_stock_reference,
    stock_release,
    stock_reserve,
)
from commerce_orders.services.transitions import order_transition_check

__all__ = [
    "AddressData",
    "OrderLine",
    "StockLine",
    "invoice_create",
    "order_complete",
    "order_complete_after_channel_cancellation",
    "order_create",
    "order_stock_reference",
    "order_transition_check",
    "sequence_next_value",
    "stock_release",
    "stock_reserve",
]
