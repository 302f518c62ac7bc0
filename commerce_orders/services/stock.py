"""Catalog stock: salable quantity checks, deductions and reservations for pending orders.

Every write here locks the Product rows it touches, always in primary-key order, so that
concurrent order creators and reservers queue instead of deadlocking. `Product.quantity_reserved`
is the sum of the product's StockReservation rows and changes only here, under that lock.
"""

import dataclasses
from collections.abc import Iterable
from typing import Protocol

from django.db import transaction
from django.db.models import Q

from commerce_orders.exceptions import ProductUnavailable, StockProblem
from commerce_orders.models import Product, StockReservation


class SkuQuantity(Protocol):
    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


@dataclasses.dataclass(frozen=True)
class StockLine:
    sku: str
    quantity: int

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"quantity must be positive, got {self.quantity} for {self.sku}")


def order_stock_reference(*, external_channel: str, external_order_id: str) -> str:
    """The reservation reference of a channel order: what the channel reserves a pending order
    under, and what order_create releases when it turns the order into a Commerce order."""
    return f"{external_channel}:{external_order_id}"


def quantities_by_sku(lines: Iterable[SkuQuantity]) -> dict[str, int]:
    """Sum quantities per SKU, keeping the order in which SKUs first appear."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return totals


def products_lock(
    *, skus: Iterable[str], reference: str = "", references: Iterable[str] = ()
) -> dict[str, Product]:
    """Lock the catalog rows of `skus` and of every product reserved under `reference` (or any
    of `references`), in primary-key order, and return them by SKU. SKUs missing from the
    catalog are simply absent."""
    condition = Q(sku__in=list(skus))
    references = [reference, *references] if reference else list(references)
    if references:
        condition |= Q(
            pk__in=StockReservation.objects.filter(reference__in=references).values("product_id")
        )
    products = Product.objects.select_for_update().filter(condition).order_by("pk")
    return {product.sku: product for product in products}


def reserved_under(*, reference: str, products: Iterable[Product]) -> dict[int, StockReservation]:
    """The reservations held under `reference` for `products`, by product id."""
    if not reference:
        return {}
    reservations = StockReservation.objects.filter(reference=reference, product__in=list(products))
    return {reservation.product_id: reservation for reservation in reservations}


def salable_check(
    *,
    wanted: dict[str, int],
    products: dict[str, Product],
    held: dict[int, StockReservation],
) -> None:
    """Raise ProductUnavailable listing every SKU that is not in the catalog or lacks salable
    quantity. What `held` reserves for the same order counts as available to it."""
    problems = []
    for sku, quantity in wanted.items():
        product = products.get(sku)
        if product is None:
            problems.append(StockProblem(sku, StockProblem.NOT_IN_CATALOG, quantity))
            continue
        own = held[product.pk].quantity if product.pk in held else 0
        available = product.quantity_salable + own
        if quantity > available:
            problems.append(
                StockProblem(sku, StockProblem.OUT_OF_STOCK, quantity, max(available, 0))
            )
    if problems:
        raise ProductUnavailable(problems)


def _reservation_set(
    *, product: Product, current: StockReservation | None, reference: str, quantity: int
) -> StockReservation | None:
    held = current.quantity if current is not None else 0
    if quantity != held:
        product.quantity_reserved += quantity - held
        product.save(update_fields=["quantity_reserved"])
    if quantity == 0:
        if current is not None:
            current.delete()
        return None
    if current is None:
        return StockReservation.objects.create(
            product=product, reference=reference, quantity=quantity
        )
    if quantity != held:
        current.quantity = quantity
        current.save(update_fields=["quantity", "updated_at"])
    return current


def stock_reserve(*, reference: str, lines: Iterable[SkuQuantity]) -> list[StockReservation]:
    """Hold salable quantity for a pending order under `reference`.

    Guarantees: afterwards the reservations under `reference` are exactly `lines` (quantities
    summed per SKU), so reserving twice holds the quantity once and changed lines replace the old
    ones; `Product.quantity_reserved` moves by the difference. Returns the reservations in
    product primary-key order.
    Raises ProductUnavailable (and writes nothing) when a SKU is not in the catalog or its salable
    quantity, plus what this reference already holds, is too small. ValueError on an empty
    reference.
    """
    if not reference:
        raise ValueError("a stock reservation needs a reference")
    wanted = quantities_by_sku(lines)
    with transaction.atomic():
        products = products_lock(skus=wanted, reference=reference)
        held = reserved_under(reference=reference, products=products.values())
        salable_check(wanted=wanted, products=products, held=held)
        reservations = []
        for product in products.values():
            reservation = _reservation_set(
                product=product,
                current=held.get(product.pk),
                reference=reference,
                quantity=wanted.get(product.sku, 0),
            )
            if reservation is not None:
                reservations.append(reservation)
        return reservations


def stock_release(*, reference: str) -> int:
    """Release everything held under `reference` and return the number of units released.

    Idempotent: releasing an unknown or already released reference returns 0.
    """
    if not reference:
        return 0
    with transaction.atomic():
        products = products_lock(skus=(), reference=reference)
        held = reserved_under(reference=reference, products=products.values())
        released = 0
        for product in products.values():
            reservation = held.get(product.pk)
            if reservation is not None:
                released += reservation.quantity
                _reservation_set(
                    product=product, current=reservation, reference=reference, quantity=0
                )
        return released


def stock_deduct(
    *, wanted: dict[str, int], products: dict[str, Product], held: dict[int, StockReservation]
) -> None:
    """Take `wanted` out of stock and drop the reservations `held` for the same order.

    The caller has locked `products` (products_lock) and run salable_check under that lock.
    """
    for product in products.values():
        fields = []
        quantity = wanted.get(product.sku, 0)
        if quantity:
            product.quantity_in_stock -= quantity
            fields.append("quantity_in_stock")
        reservation = held.get(product.pk)
        if reservation is not None:
            product.quantity_reserved -= reservation.quantity
            fields.append("quantity_reserved")
            reservation.delete()
        if fields:
            product.save(update_fields=fields)


def stock_return(*, quantities: dict[int, int]) -> None:
    """Put `quantities` (units by product id) back in stock, locking the rows in pk order."""
    quantities = {pk: quantity for pk, quantity in quantities.items() if quantity > 0}
    if not quantities:
        return
    products = Product.objects.select_for_update().filter(pk__in=quantities).order_by("pk")
    for product in products:
        product.quantity_in_stock += quantities[product.pk]
        product.save(update_fields=["quantity_in_stock"])
