"""Edits a merchant makes on Amazon Order Details."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from amazon_channel.models import AmazonOrder, AmazonOrderEvent
from amazon_channel.notes import note

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


def amazon_order_shipping_address_update(
    *, order: AmazonOrder, actor: AbstractBaseUser, address: dict
) -> AmazonOrder:
    """Save the order's shipping address (Save Order) and record who changed what.

    Only SHIPPING_ADDRESS_KEYS are written (blank values are dropped); keys Amazon sent that the
    form does not edit (companyName, addressLine3...) are kept. Nothing is saved and no event is
    written when nothing changed. Raises ValueError for an unknown key.
    """
    unknown = set(address) - set(SHIPPING_ADDRESS_KEYS)
    if unknown:
        raise ValueError(f"unknown address keys {sorted(unknown)!r}")
    with transaction.atomic():
        locked = AmazonOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
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
            AmazonOrderEvent.objects.create(
                order=locked,
                kind=AmazonOrderEvent.Kind.ADDRESS_CHANGED,
                actor=actor,
                notes=[
                    note(
                        "history.address_changed",
                        user=actor.get_username(),
                        fields=", ".join(changed),
                    )
                ],
            )
    order.shipping_address = locked.shipping_address
    return locked
