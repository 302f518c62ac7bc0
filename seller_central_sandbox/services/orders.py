"""Orders on Amazon's side: the buyer places them, Amazon and the buyer move them on, the seller
ships (confirmShipment) or cancels (order acknowledgement feed)."""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from seller_central_sandbox.catalog import BUYER_CANCEL_REASONS, CANCEL_REASONS
from seller_central_sandbox.generator import amazon_order_id, generate_order
from seller_central_sandbox.models import (
    FulfilledBy,
    FulfillmentStatus,
    SandboxOrder,
    SandboxOrderEvent,
    SandboxOrderItem,
    SandboxPackage,
    SandboxSeller,
)
from seller_central_sandbox.selectors import amazon_now
from seller_central_sandbox.services.notifications import (
    BUYER_REQUESTED_CANCEL,
    BUYER_REQUESTED_CHANGE,
    STATUS_CHANGE,
    order_change_is_subscribed,
    order_change_notify,
    order_placed_notify,
)
from seller_central_sandbox.services.sellers import SandboxError

Status = FulfillmentStatus

# The order pipeline: every status change goes through this table.
ALLOWED_TRANSITIONS = {
    Status.PENDING_AVAILABILITY: {Status.PENDING, Status.CANCELLED},
    Status.PENDING: {Status.UNSHIPPED, Status.CANCELLED},
    Status.UNSHIPPED: {
        Status.UNSHIPPED,
        Status.PARTIALLY_SHIPPED,
        Status.SHIPPED,
        Status.CANCELLED,
    },
    Status.PARTIALLY_SHIPPED: {Status.PARTIALLY_SHIPPED, Status.SHIPPED},
    Status.SHIPPED: set(),
    Status.CANCELLED: set(),
    Status.UNFULFILLABLE: set(),
}


class OrderTransitionError(SandboxError):
    pass


# The ChangeReason of each kind of move in its ORDER_CHANGE notification (Amazon documents only
# its example's "Buyer Requested Cancel": these words are the sandbox's).
CHANGE_REASONS = {
    "payment": "Payment completed",
    "cancelled": "Order canceled",
    "shipped": "Order shipped",
    "shipment_confirmed": "Shipment confirmed",
    "items_cancelled": "Items canceled",
}


def _lock_order(*, seller: SandboxSeller, order_id: str) -> SandboxOrder:
    order = (
        SandboxOrder.objects.select_for_update(of=("self",))
        .filter(seller=seller, order_id=order_id)
        .order_by("pk")
        .first()
    )
    if order is None:
        raise SandboxError(f"Order {order_id} was not found.", code="NotFound", status=404)
    return order


def _move(
    order: SandboxOrder, new_status: str, *, actor: str, kind: str, message: str, now: datetime
) -> None:
    old_status = order.status
    if new_status not in ALLOWED_TRANSITIONS[Status(old_status)]:
        raise OrderTransitionError(
            f"Order {order.order_id} is {old_status} and cannot become {new_status}."
        )
    order.status = new_status
    order.last_updated_time = now
    order.save(update_fields=["status", "last_updated_time"])
    SandboxOrderEvent.objects.create(
        order=order,
        actor=actor,
        kind=kind,
        old_status=old_status,
        new_status=new_status,
        message=message[:300],
        created_at=now,
    )
    order_change_notify(
        order=order,
        change_type=STATUS_CHANGE,
        reason=CHANGE_REASONS.get(kind, "Order changed"),
        moment=now,
    )


def _buyer_requests_cancel(order: SandboxOrder, *, now: datetime) -> None:
    """After a buyer asked to cancel: the order moved (lastUpdatedTime) and Amazon notifies."""
    order.last_updated_time = now
    order.save(update_fields=["last_updated_time"])
    order_change_notify(
        order=order, change_type=BUYER_REQUESTED_CHANGE, reason=BUYER_REQUESTED_CANCEL, moment=now
    )


# Orders get dates after their purchase (ship by, deliver by): years near 9999 overflow.
MOMENT_RANGE = timedelta(days=10 * 366)


def is_within_ten_years(moment: datetime) -> bool:
    return abs(moment - timezone.now()) <= MOMENT_RANGE


def _moment_check(now: datetime | None) -> None:
    if now is not None and not is_within_ten_years(now):
        raise SandboxError("Choose a time within ten years of today.")


def orders_generate(
    *,
    seller: SandboxSeller,
    count: int,
    seed: int,
    now: datetime | None = None,
    window: timedelta = timedelta(0),
    marketplace_ids: list[str] | None = None,
) -> list[SandboxOrder]:
    """Place `count` buyer orders for the seller now: each created and last updated at `now`
    (default: Amazon's now, the current time plus the seller's clock offset), so that the
    seller's next sync sees them once the two-minute rule allows. With a `window` the orders
    are history instead, spread over the `window` before `now` (the demo's seeded past).
    The same (seed, now, window, marketplaces) give the same orders whatever the database
    holds: only the id of an order whose drawn id is taken differs, redrawn deterministically.
    Raises SandboxError for a `now` more than ten years from today."""
    _moment_check(now)
    now = now or amazon_now(seller)
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    marketplace_ids = marketplace_ids or seller.marketplace_ids
    created = []
    # Amazon's now, not the seeded past, notifies (and only a subscribed seller).
    is_notified = not window and order_change_is_subscribed(seller=seller)
    with transaction.atomic():
        for index in range(count):
            spec = generate_order(rng, marketplace_ids=marketplace_ids, now=now, window=window)
            spec.order_id = _free_order_id(spec.order_id, seller=seller, seed=seed, index=index)
            order = SandboxOrder.objects.create(
                seller=seller,
                order_id=spec.order_id,
                marketplace_id=spec.marketplace_id,
                status=spec.status,
                fulfilled_by=spec.fulfilled_by,
                currency_code=spec.currency_code,
                created_time=spec.created_time,
                last_updated_time=spec.last_updated_time,
                details=spec.details,
            )
            SandboxOrderItem.objects.bulk_create(
                SandboxOrderItem(
                    order=order,
                    order_item_id=item.order_item_id,
                    asin=item.asin,
                    seller_sku=item.seller_sku,
                    title=item.title,
                    quantity_ordered=item.quantity_ordered,
                    quantity_shipped=item.quantity_shipped,
                    unit_price=item.unit_price,
                    item_tax=item.item_tax,
                    gift_message=item.gift_message,
                    gift_wrap_level=item.gift_wrap_level,
                    buyer_cancel_reason=item.buyer_cancel_reason,
                )
                for item in spec.items
            )
            SandboxOrderEvent.objects.create(
                order=order,
                actor="buyer",
                kind="placed",
                new_status=spec.status,
                created_at=spec.created_time,
            )
            if is_notified:
                order_placed_notify(order=order)
            created.append(order)
    return created


def _free_order_id(drawn: str, *, seller: SandboxSeller, seed: int, index: int) -> str:
    """`drawn`, or when another order has it, an id from a stream of its own: redrawing from
    the order stream would change every later order of the seed."""
    spare_ids = random.Random(f"{seller.seller_id}:{seed}:{index}")  # noqa: S311 - demo data
    order_id = drawn
    while SandboxOrder.objects.filter(order_id=order_id).exists():
        order_id = amazon_order_id(spare_ids)
    return order_id


def orders_lifecycle_advance(
    *, seller: SandboxSeller, seed: int, now: datetime | None = None
) -> Counter:
    """One step of the world moving on, deterministic for a seed: pending orders get paid (or the
    buyer cancels them), Amazon ships its AFN orders, buyers ask to cancel unshipped MFN orders.
    Returns how many orders took each step. Raises SandboxError for a `now` more than ten years
    from today."""
    _moment_check(now)
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    steps: Counter = Counter()
    with transaction.atomic():
        orders = (
            SandboxOrder.objects.select_for_update(of=("self",))
            .filter(seller=seller, status__in=[Status.PENDING, Status.UNSHIPPED])
            .order_by("created_time", "order_id")
        )
        for order in orders:
            roll = rng.random()
            if order.status == Status.PENDING:
                if roll < 0.7:
                    _move(
                        order, Status.UNSHIPPED, actor="amazon", kind="payment", message="", now=now
                    )
                    steps["paid"] += 1
                elif roll < 0.85:
                    _buyer_cancels(order, reason=rng.choice(BUYER_CANCEL_REASONS), now=now)
                    steps["cancelled_by_buyer"] += 1
            elif order.fulfilled_by == FulfilledBy.AMAZON:
                if roll < 0.7:
                    _amazon_ships(order, now=now)
                    steps["shipped_by_amazon"] += 1
            elif roll < 0.15:
                item = order.items.order_by("pk").filter(buyer_cancel_reason="").first()
                if item is not None:
                    item.buyer_cancel_reason = rng.choice(BUYER_CANCEL_REASONS)
                    item.save(update_fields=["buyer_cancel_reason"])
                    _buyer_requests_cancel(order, now=now)
                    SandboxOrderEvent.objects.create(
                        order=order,
                        actor="buyer",
                        kind="cancellation_requested",
                        old_status=order.status,
                        new_status=order.status,
                        message=item.buyer_cancel_reason,
                        created_at=now,
                    )
                    steps["cancellation_requested"] += 1
    return steps


def _buyer_cancels(order: SandboxOrder, *, reason: str, now: datetime) -> None:
    for item in order.items.all():
        item.quantity_cancelled = item.quantity_ordered - item.quantity_shipped
        item.cancelled_by = "BUYER"
        item.cancel_reason = reason
        item.save(update_fields=["quantity_cancelled", "cancelled_by", "cancel_reason"])
    _move(order, Status.CANCELLED, actor="buyer", kind="cancelled", message=reason, now=now)


def _amazon_ships(order: SandboxOrder, *, now: datetime) -> None:
    for item in order.items.all():
        item.quantity_shipped = item.quantity_ordered - item.quantity_cancelled
        item.save(update_fields=["quantity_shipped"])
    _move(order, Status.SHIPPED, actor="amazon", kind="shipped", message="", now=now)


def order_lifecycle_step(*, seller: SandboxSeller, order_id: str, step: str) -> SandboxOrder:
    """Move one order by hand (control page): `pay`, `ship` (AFN), `buyer_cancel`,
    `request_cancel`. Raises SandboxError when the order cannot take that step."""
    now = timezone.now()
    with transaction.atomic():
        order = _lock_order(seller=seller, order_id=order_id)
        if step == "pay":
            _move(order, Status.UNSHIPPED, actor="amazon", kind="payment", message="", now=now)
        elif step == "ship":
            if order.fulfilled_by != FulfilledBy.AMAZON:
                raise OrderTransitionError("Only Amazon-fulfilled orders are shipped by Amazon.")
            _amazon_ships(order, now=now)
        elif step == "buyer_cancel":
            if order.status != Status.PENDING:
                raise OrderTransitionError("A buyer can cancel only a pending order.")
            _buyer_cancels(order, reason=BUYER_CANCEL_REASONS[0], now=now)
        elif step == "request_cancel":
            if order.status != Status.UNSHIPPED:
                raise OrderTransitionError("A buyer requests cancellation of unshipped orders.")
            order.items.filter(buyer_cancel_reason="").update(
                buyer_cancel_reason=BUYER_CANCEL_REASONS[0]
            )
            _buyer_requests_cancel(order, now=now)
        else:
            raise SandboxError(f"Unknown lifecycle step {step}.")
    return order


@dataclass(frozen=True)
class ShipmentItem:
    order_item_id: str
    quantity: int


def order_shipment_confirm(
    *,
    seller: SandboxSeller,
    order_id: str,
    marketplace_id: str,
    package_reference_id: str,
    carrier_code: str,
    tracking_number: str,
    ship_date: str,
    items: list[ShipmentItem],
    carrier_name: str = "",
    shipping_method: str = "",
) -> SandboxPackage:
    """confirmShipment: one package. The order becomes PARTIALLY_SHIPPED or SHIPPED. Raises
    SandboxError (400) on a canceled or unpaid order, an unknown item, a quantity beyond what is
    unshipped, or a package reference already used on the order; 404 on an unknown order."""
    shipped_at = parse_datetime(ship_date) if isinstance(ship_date, str) else None
    if shipped_at is None or shipped_at.tzinfo is None:
        raise SandboxError("packageDetail.shipDate must be an ISO 8601 date-time.")
    if not items:
        raise SandboxError("packageDetail.orderItems must not be empty.")
    now = timezone.now()
    with transaction.atomic():
        order = _lock_order(seller=seller, order_id=order_id)
        if order.marketplace_id != marketplace_id:
            raise SandboxError(f"Order {order_id} is not in marketplace {marketplace_id}.")
        if order.fulfilled_by != FulfilledBy.MERCHANT:
            raise SandboxError(f"Order {order_id} is fulfilled by Amazon.")
        if order.status not in (Status.UNSHIPPED, Status.PARTIALLY_SHIPPED):
            raise SandboxError(
                f"Order {order_id} is {order.status}: only unshipped orders can be shipped."
            )
        if order.packages.filter(package_reference_id=package_reference_id).exists():
            raise SandboxError(
                f"Package reference {package_reference_id} was already confirmed for this order."
            )
        order_items = {item.order_item_id: item for item in order.items.select_for_update()}
        requested: Counter = Counter()
        for entry in items:
            if entry.order_item_id not in order_items:
                raise SandboxError(f"Order item {entry.order_item_id} is not in order {order_id}.")
            if entry.quantity < 1:
                raise SandboxError("An item quantity must be at least 1.")
            requested[entry.order_item_id] += entry.quantity
        for item_id, quantity in requested.items():
            unshipped = order_items[item_id].quantity_unshipped
            if quantity > unshipped:
                raise SandboxError(
                    f"Order item {item_id}: quantity {quantity} is more than the "
                    f"{unshipped} left to ship."
                )
        for item_id, quantity in requested.items():
            item = order_items[item_id]
            item.quantity_shipped += quantity
            item.save(update_fields=["quantity_shipped"])
        package = SandboxPackage.objects.create(
            order=order,
            package_reference_id=package_reference_id,
            carrier_code=carrier_code,
            carrier_name=carrier_name,
            shipping_method=shipping_method,
            tracking_number=tracking_number,
            ship_date=shipped_at,
            package_items=[
                {"orderItemId": item_id, "quantity": quantity}
                for item_id, quantity in requested.items()
            ],
            created_time=now,
        )
        is_complete = all(item.quantity_unshipped == 0 for item in order_items.values())
        _move(
            order,
            Status.SHIPPED if is_complete else Status.PARTIALLY_SHIPPED,
            actor="seller",
            kind="shipment_confirmed",
            message=f"package {package_reference_id}",
            now=now,
        )
    return package


def order_items_cancel(
    *,
    seller: SandboxSeller,
    order_id: str,
    reasons_by_item: dict[str, str],
    default_reason: str | None,
) -> SandboxOrder:
    """The seller cancels an unshipped order (acknowledgement feed, StatusCode Failure):
    the named items, or all of them when none is named. Raises SandboxError when the order is
    unknown, not cancellable (shipped, partially shipped, canceled), a reason is not one of the
    ten, or an item is not in the order. Nothing changes when it raises."""
    now = timezone.now()
    with transaction.atomic():
        order = _lock_order(seller=seller, order_id=order_id)
        if order.status != Status.UNSHIPPED:
            raise OrderTransitionError(
                f"Order {order_id} is {order.status}: only unshipped orders can be canceled."
            )
        items = {item.order_item_id: item for item in order.items.select_for_update()}
        if not reasons_by_item:
            if default_reason is None:
                raise SandboxError("A CancelReason is required to cancel the order.")
            reasons_by_item = dict.fromkeys(items, default_reason)
        for item_id, reason in reasons_by_item.items():
            if item_id not in items:
                raise SandboxError(f"AmazonOrderItemCode {item_id} is not in order {order_id}.")
            if reason not in CANCEL_REASONS:
                raise SandboxError(f"CancelReason '{reason}' is not a valid value.")
        for item_id, reason in reasons_by_item.items():
            item = items[item_id]
            item.quantity_cancelled = item.quantity_ordered - item.quantity_shipped
            # ItemCancellationExecution.cancelledBy: BUYER, MERCHANT or AMAZON.
            item.cancelled_by = "MERCHANT"
            item.cancel_reason = reason
            item.save(update_fields=["quantity_cancelled", "cancelled_by", "cancel_reason"])
        if all(item.quantity_unshipped == 0 for item in items.values()):
            _move(
                order,
                Status.CANCELLED,
                actor="seller",
                kind="cancelled",
                message=", ".join(sorted(set(reasons_by_item.values()))),
                now=now,
            )
        else:
            _move(
                order,
                order.status,
                actor="seller",
                kind="items_cancelled",
                message=", ".join(sorted(reasons_by_item)),
                now=now,
            )
    return order
