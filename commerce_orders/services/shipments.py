"""Shipments: send what an order has not shipped yet, in one or more parcels."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from commerce_orders.exceptions import NothingToShip, ShipQuantityExceeded
from commerce_orders.models import (
    CommerceOrder,
    OrderAction,
    OrderState,
    Shipment,
    ShipmentItem,
)
from commerce_orders.notes import note
from commerce_orders.services.sequences import SHIPMENT_SEQUENCE, document_number_next
from commerce_orders.services.transitions import (
    order_action_check,
    order_event_append,
    order_is_fulfilled,
    order_items_requested,
    order_lock,
    order_state_set,
    order_transition_check,
)


def shipment_create(
    *,
    actor: AbstractBaseUser | None,
    order: CommerceOrder,
    quantities: dict[int, int],
    carrier_code: str,
    carrier_title: str = "",
    method: str = "",
    tracking_number: str = "",
) -> Shipment:
    """Ship `quantities` (order item id -> units) of `order` in one shipment with one tracking
    number.

    Guarantees: one Shipment numbered from the shipment sequence, one ShipmentItem per requested
    item, items' quantity_shipped raised; never more of an item than ordered - max(shipped,
    refunded) - canceled (as Commerce, a unit refunded before it shipped is not shipped). The
    order becomes complete when everything is shipped and invoiced, else processing (its status
    follows only when the state changes). One history row "Shipment #X created ...". All or
    nothing, under the order's row lock, so concurrent shipments never ship a unit twice.
    Raises OrderTransitionError when the order is on hold, canceled, closed or complete;
    NothingToShip when `quantities` is empty; OrderItemQuantityInvalid for a foreign item id or
    a quantity that is not a positive integer; ShipQuantityExceeded (with the item's numbers)
    when a quantity is more than is left to ship.
    """
    with transaction.atomic():
        order = order_lock(order=order)
        order_action_check(order=order, action=OrderAction.SHIP)
        if not quantities:
            raise NothingToShip(increment_id=order.increment_id)
        items, requested = order_items_requested(order=order, quantities=quantities)
        for item, quantity in requested:
            if quantity > item.quantity_to_ship:
                raise ShipQuantityExceeded(
                    increment_id=order.increment_id,
                    order_item_id=item.pk,
                    sku=item.sku,
                    quantity_requested=quantity,
                    quantity_ordered=item.quantity_ordered,
                    quantity_shipped=item.quantity_shipped,
                    quantity_refunded=item.quantity_refunded,
                    quantity_canceled=item.quantity_canceled,
                    quantity_available=item.quantity_to_ship,
                )
        for item, quantity in requested:
            item.quantity_shipped += quantity
        target = OrderState.COMPLETE if order_is_fulfilled(items) else OrderState.PROCESSING
        order_transition_check(order=order, action=OrderAction.SHIP, target=target)

        shipment = Shipment.objects.create(
            increment_id=document_number_next(sequence=SHIPMENT_SEQUENCE, model=Shipment),
            order=order,
            carrier_code=carrier_code,
            carrier_title=carrier_title,
            shipping_method=method,
            tracking_number=tracking_number,
            total_quantity=sum(quantity for _item, quantity in requested),
        )
        ShipmentItem.objects.bulk_create(
            [
                ShipmentItem(
                    shipment=shipment,
                    order_item=item,
                    sku=item.sku,
                    name=item.name,
                    quantity=quantity,
                )
                for item, quantity in requested
            ]
        )
        for item, _quantity in requested:
            item.save(update_fields=["quantity_shipped"])

        old_state, old_status = order.state, order.status
        order_state_set(order=order, state=target)
        order.save(update_fields=["state", "status", "updated_at"])
        if tracking_number:
            created = note(
                "commerce.shipment_created_tracked",
                number=shipment.increment_id,
                tracking=tracking_number,
                carrier=carrier_title or carrier_code,
            )
        else:
            created = note("commerce.shipment_created", number=shipment.increment_id)
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.SHIP,
            old_state=old_state,
            old_status=old_status,
            notes=[created],
        )
        return shipment


def shipment_tracking_update(
    *,
    actor: AbstractBaseUser | None,
    shipment: Shipment,
    carrier_code: str,
    carrier_title: str = "",
    tracking_number: str = "",
) -> Shipment:
    """Correct a shipment's carrier and tracking number (a typo, the wrong carrier).

    Guarantees: under the order's row lock, the shipment's carrier, title and tracking number
    are replaced and one history row "Shipment #X: tracking number T (carrier)" is appended;
    nothing is written when nothing changed. Quantities and the order's state are not touched.
    """
    with transaction.atomic():
        order = order_lock(order=shipment.order)
        locked = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment.pk)
        values = {
            "carrier_code": carrier_code,
            "carrier_title": carrier_title,
            "tracking_number": tracking_number,
        }
        changed = [name for name, value in values.items() if getattr(locked, name) != value]
        if not changed:
            return locked
        for name in changed:
            setattr(locked, name, values[name])
        locked.save(update_fields=changed)
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.COMMENT,
            old_state=order.state,
            old_status=order.status,
            notes=[
                note(
                    "commerce.shipment_corrected",
                    number=locked.increment_id,
                    tracking=tracking_number or "—",
                    carrier=carrier_title or carrier_code,
                )
            ],
        )
    shipment.carrier_code = locked.carrier_code
    shipment.carrier_title = locked.carrier_title
    shipment.tracking_number = locked.tracking_number
    return locked
