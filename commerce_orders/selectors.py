"""Reads of the store's order system."""

from collections.abc import Iterable

from django.db.models import QuerySet

from commerce_orders.models import CommerceOrder, Product, StockReservation


def order_get_by_external_id(
    *, external_channel: str, external_order_id: str
) -> CommerceOrder | None:
    """The order a sales channel's order became here, if any."""
    return CommerceOrder.objects.filter(
        external_channel=external_channel, external_order_id=external_order_id
    ).first()


def product_salable_quantities(*, skus: Iterable[str]) -> dict[str, int]:
    """Salable quantity (in stock minus reserved) by SKU; SKUs not in the catalog are absent."""
    rows = Product.objects.filter(sku__in=list(skus)).values_list(
        "sku", "quantity_in_stock", "quantity_reserved"
    )
    return {sku: in_stock - reserved for sku, in_stock, reserved in rows}


def stock_reservation_list(*, reference: str) -> QuerySet[StockReservation]:
    return StockReservation.objects.filter(reference=reference).select_related("product")
