"""Edits a merchant makes on Amazon Order Details."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from amazon_channel.events import order_address_changed
from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderStatus,
    FulfillmentChannel,
)
from commerce_orders.models import CommerceOrderItem

SHIPPING_ADDRESS_KEYS = (
    "name",
    "addressLine1",
    "addressLine2",
    "city",
    "stateOrRegion",
    "postalCode",
    "countryCode",
    "phone",
)


class AddressEditNotAllowed(Exception):
    """The order's shipping address no longer matters here; `message` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Where an address edit can still change where the parcel goes.
ADDRESS_EDIT_CLOSED_STATUSES = (
    AmazonOrderStatus.SHIPPED,
    AmazonOrderStatus.PARTIALLY_SHIPPED,
    AmazonOrderStatus.CANCELED,
)


def shipping_address_edit_refusal(order: AmazonOrder) -> str | None:
    """None when Edit shipping address can matter (a merchant-fulfilled order that has neither
    shipped, here or on Amazon, nor been canceled), else why not, in the merchant's words."""
    if order.fulfillment_channel != FulfillmentChannel.MERCHANT:
        return _("Amazon fulfils this order: it ships it to the address the buyer gave Amazon.")
    if order.status == AmazonOrderStatus.CANCELED:
        return _("The order is canceled: its shipping address no longer matters.")
    if order.status in ADDRESS_EDIT_CLOSED_STATUSES or (
        order.commerce_order_id is not None
        and CommerceOrderItem.objects.filter(
            order_id=order.commerce_order_id, quantity_shipped__gt=0
        ).exists()
    ):
        return _("The order has shipped: its shipping address can no longer change.")
    return None


def amazon_order_shipping_address_update(
    *, order: AmazonOrder, actor: AbstractBaseUser, address: dict
) -> AmazonOrder:
    """Save the order's shipping address (Save Order) and record who changed what.

    Only SHIPPING_ADDRESS_KEYS are written (blank values are dropped); keys Amazon sent that the
    form does not edit (companyName, addressLine3...) are kept. Nothing is saved and no event is
    written when nothing changed. Raises ValueError for an unknown key; AddressEditNotAllowed,
    checked under the order's lock, for an order fulfilled by Amazon, shipped or canceled
    (shipping_address_edit_refusal).
    """
    unknown = set(address) - set(SHIPPING_ADDRESS_KEYS)
    if unknown:
        raise ValueError(f"unknown address keys {sorted(unknown)!r}")
    with transaction.atomic():
        locked = AmazonOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
        refusal = shipping_address_edit_refusal(locked)
        if refusal is not None:
            raise AddressEditNotAllowed(refusal)
        old_address = dict(locked.shipping_address or {})
        new_address = {
            key: value for key, value in old_address.items() if key not in SHIPPING_ADDRESS_KEYS
        }
        for key in SHIPPING_ADDRESS_KEYS:
            value = (address.get(key) or "").strip()
            if value:
                new_address[key] = value
        if new_address != old_address:
            changed = [
                key
                for key in SHIPPING_ADDRESS_KEYS
                if old_address.get(key, "") != new_address.get(key, "")
            ]
            locked.shipping_address = new_address
            # The merchant's correction stands: later reads from Amazon keep it.
            locked.is_shipping_address_edited = True
            locked.save(
                update_fields=["shipping_address", "is_shipping_address_edited", "updated_at"]
            )
            order_address_changed(order=locked, actor=actor, fields=changed)
    order.shipping_address = locked.shipping_address
    return locked
