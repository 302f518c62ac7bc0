"""Messages to Amazon about Commerce work (shipments, refunds): queued in the transaction that
did the work, delivered after commit, retried until Amazon answers, settled once.

Shipments go one by one through confirmShipment; refunds travel in payment adjustment feeds
(services/feeds.py). What Amazon refuses is written on the Amazon order (its notes) and the
message stays FAILED, with a retry action for the merchant.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from amazon_channel.leases import lease_claim
from amazon_channel.models import AmazonOrder, AmazonOrderEvent, OutboxMessage, Store
from amazon_channel.spapi import AmazonClient, AmazonRequestError

logger = logging.getLogger(__name__)

KIND_LABELS = {
    OutboxMessage.Kind.CONFIRM_SHIPMENT: gettext_lazy("shipment"),
    OutboxMessage.Kind.REFUND_ORDER: gettext_lazy("refund"),
}


@dataclass
class ApiDelivery:
    wait_seconds: float = 0.0


def outbox_message_enqueue(*, store: Store, kind: str, key: str, payload: dict) -> OutboxMessage:
    """Queue a message once per key (a second call returns the first message); the delivery
    task starts when the caller's transaction commits."""
    from amazon_channel.tasks import outbox_deliver

    with transaction.atomic():
        try:
            with transaction.atomic():
                message = OutboxMessage.objects.create(
                    store=store, kind=kind, key=key, payload=payload
                )
        except IntegrityError:
            return OutboxMessage.objects.get(key=key)
        outbox_deliver.delay_on_commit(store_id=store.pk)
    return message


def _order_for(message: OutboxMessage) -> AmazonOrder | None:
    return AmazonOrder.objects.filter(
        store_id=message.store_id, amazon_order_id=message.payload.get("amazon_order_id")
    ).first()


def _refusal_text(message: OutboxMessage, reason: str) -> str:
    """What the Amazon order's notes and history say of a refusal, naming the Commerce
    shipment or credit memo ("Amazon refused the shipment #000000003: ...")."""
    label = KIND_LABELS.get(message.kind, message.kind)
    number = message.payload.get("commerce_shipment") or message.payload.get("commerce_credit_memo")
    if number:
        return _("Amazon refused the %(kind)s #%(number)s: %(reason)s") % {
            "kind": label,
            "number": number,
            "reason": reason,
        }
    return _("Amazon refused the %(kind)s: %(reason)s") % {"kind": label, "reason": reason}


def _channel_notes_refresh(order: AmazonOrder) -> None:
    """The Amazon order's notes: one line per message Amazon refused and no retry has settled;
    empty again once every retry went through."""
    failed = OutboxMessage.objects.filter(
        store_id=order.store_id,
        state=OutboxMessage.State.FAILED,
        payload__amazon_order_id=order.amazon_order_id,
    ).order_by("pk")
    notes = "\n".join(_refusal_text(message, message.result) for message in failed)
    AmazonOrder.objects.filter(pk=order.pk).update(channel_notes=notes)


def outbox_message_settle(*, message: OutboxMessage, problem: str) -> None:
    """Record Amazon's answer to a shipment or refund message on its Amazon order."""
    order = _order_for(message)
    if order is None:
        return
    label = KIND_LABELS.get(message.kind, message.kind)
    AmazonOrderEvent.objects.create(
        order=order,
        kind=AmazonOrderEvent.Kind.NOTE,
        message=(
            _refusal_text(message, problem)
            if problem
            else _("Amazon accepted the %(kind)s.") % {"kind": label}
        ),
    )
    _channel_notes_refresh(order)


def outbox_message_retry(*, message: OutboxMessage, actor: AbstractBaseUser) -> OutboxMessage:
    """Send a FAILED message again (the merchant's retry); other states are left alone."""
    from amazon_channel.tasks import outbox_deliver

    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update(of=("self",)).get(pk=message.pk)
        if locked.state != OutboxMessage.State.FAILED:
            return locked
        locked.state = OutboxMessage.State.PENDING
        locked.feed = None
        locked.feed_message_id = None
        locked.result = ""
        locked.lease_holder = ""
        locked.save(
            update_fields=[
                "state",
                "feed",
                "feed_message_id",
                "result",
                "lease_holder",
                "updated_at",
            ]
        )
        order = _order_for(locked)
        if order is not None:
            AmazonOrderEvent.objects.create(
                order=order,
                kind=AmazonOrderEvent.Kind.NOTE,
                actor=actor,
                message=_("Sending the %(kind)s to Amazon again.")
                % {"kind": KIND_LABELS.get(locked.kind, locked.kind)},
            )
            _channel_notes_refresh(order)
        outbox_deliver.delay_on_commit(store_id=locked.store_id)
    return locked


def _package_is_at_amazon(client: AmazonClient, payload: dict) -> bool:
    order = client.get_order(payload["amazon_order_id"])
    return any(
        package.get("packageReferenceId") == payload["package_detail"]["packageReferenceId"]
        for package in order.get("packages") or []
    )


def _mark(message: OutboxMessage, holder: str, state: str, result: str = "") -> None:
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update(of=("self",)).get(pk=message.pk)
        if locked.lease_holder != holder:
            return
        locked.state = state
        locked.result = result
        if state in (OutboxMessage.State.DONE, OutboxMessage.State.FAILED):
            locked.lease_holder = ""
        locked.save(update_fields=["state", "result", "lease_holder", "updated_at"])
        if state in (OutboxMessage.State.DONE, OutboxMessage.State.FAILED):
            # A DONE message's result is "OK", not a problem.
            problem = result if state == OutboxMessage.State.FAILED else ""
            outbox_message_settle(message=locked, problem=problem)


def shipments_deliver(*, store: Store, client: AmazonClient, holder: str, lease: timedelta) -> None:
    """Send the store's pending shipment confirmations, one confirmShipment call each.

    SENDING is committed before the call. A message found SENDING (its worker died, or the call
    failed without an answer) is first checked on Amazon: a package with its reference means the
    call went through, and it is not sent twice. Raises the adapter's retryable errors.
    """
    now = timezone.now()
    candidates = (
        OutboxMessage.objects.filter(
            store=store,
            kind=OutboxMessage.Kind.CONFIRM_SHIPMENT,
            state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.SENDING],
        )
        .exclude(lease_holder__gt="", lease_expires_at__gt=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    sendable = OutboxMessage.objects.filter(
        state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.SENDING]
    )
    for message_id in list(candidates[:50]):
        try:
            message = lease_claim(sendable, pk=message_id, holder=holder, duration=lease)
        except OutboxMessage.DoesNotExist:
            continue  # settled meanwhile by another worker
        if message is None:
            continue
        try:
            if message.state == OutboxMessage.State.SENDING and _package_is_at_amazon(
                client, message.payload
            ):
                _mark(message, holder, OutboxMessage.State.DONE, "OK")
                continue
            _mark(message, holder, OutboxMessage.State.SENDING)
            client.confirm_shipment(
                amazon_order_id=message.payload["amazon_order_id"],
                package_detail=message.payload["package_detail"],
            )
        except AmazonRequestError as error:
            _mark(message, holder, OutboxMessage.State.FAILED, error.message)
            continue
        _mark(message, holder, OutboxMessage.State.DONE, "OK")
