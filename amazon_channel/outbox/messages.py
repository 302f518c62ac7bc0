"""Messages to Amazon about Commerce work (shipments, refunds): queued in the transaction that
did the work, delivered after commit, retried until Amazon answers, settled once.

Shipments go one by one through confirmShipment; refunds travel in payment adjustment feeds
(outbox/feeds.py). What Amazon refuses is written on the Amazon order (its notes) and the
message stays FAILED, with a retry action for the merchant; a shipment whose package lacks what
Amazon requires is corrected (carrier, tracking number) before it is sent again, never resent
as it was.

A refund whose outcome Amazon's answer leaves unknown (a FATAL feed, a lost createFeed answer)
is never sent again by itself nor by a plain Retry: Amazon's order shows no refund state (the
Orders API 2026-01-01 model has no refund or adjustment field), so only the merchant can check
Seller Central. It stays VERIFYING, "outcome unknown", until the merchant confirms that Seller
Central does not show the refund and sends it again.
"""

import logging
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from amazon_channel.enqueue import outbox_delivery_enqueue
from amazon_channel.events import order_note_added
from amazon_channel.models import AmazonOrder, OutboxMessage, Store
from amazon_channel.notes import note, note_from_english
from amazon_channel.outbox.handlers import outbox_handler
from amazon_channel.outbox.leases import lease_claim
from amazon_channel.spapi.carriers import OTHER_CARRIER, amazon_shipment_problem
from amazon_channel.spapi.client import AmazonClient, AmazonRequestError
from amazon_channel.transitions import outbox_message_transition

logger = logging.getLogger(__name__)


AWAITING_MERCHANT = OutboxMessage.AWAITING_MERCHANT


class RetryNotAllowed(Exception):
    """The message cannot be sent again as asked; `message` says why, in the merchant's words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def outbox_message_enqueue(*, store: Store, kind: str, key: str, payload: dict) -> OutboxMessage:
    """Queue a message once per key (a second call returns the first message); the delivery
    task starts when the caller's transaction commits."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                message = OutboxMessage.objects.create(
                    store=store, kind=kind, key=key, payload=payload
                )
        except IntegrityError:
            return OutboxMessage.objects.get(key=key)
        outbox_delivery_enqueue(store_id=store.pk)
    return message


def _order_for(message: OutboxMessage) -> AmazonOrder | None:
    return AmazonOrder.objects.filter(
        store_id=message.store_id, amazon_order_id=message.payload.get("amazon_order_id")
    ).first()


KIND_CODES = {
    OutboxMessage.Kind.CONFIRM_SHIPMENT: "part.shipment",
    OutboxMessage.Kind.REFUND_ORDER: "part.refund",
}


def _kind(message: OutboxMessage):
    code = KIND_CODES.get(message.kind)
    return note(code) if code else message.kind


def _refusal_note(message: OutboxMessage, reason: str) -> dict:
    """What the Amazon order's notes and history say of a refusal, naming the Commerce
    shipment or credit memo ("Amazon refused the shipment #000000003: ..."). Amazon's words
    stay as they are; a sentence of ours (a feed's answer) becomes its code."""
    number = message.payload.get("commerce_shipment") or message.payload.get("commerce_credit_memo")
    reason_note = note_from_english(reason)
    if number:
        return note("refusal.numbered", kind=_kind(message), number=number, reason=reason_note)
    return note("refusal.plain", kind=_kind(message), reason=reason_note)


def _unknown_outcome_note(message: OutboxMessage) -> dict:
    number = message.payload.get("commerce_credit_memo") or message.payload.get("commerce_shipment")
    return note("refusal.outcome_unknown", kind=_kind(message), number=number or "?")


def _channel_notes_refresh(order: AmazonOrder) -> None:
    """The Amazon order's notes: one per message Amazon refused and no retry has settled,
    and per refund whose outcome is unknown; empty again once every one is settled."""
    open_messages = OutboxMessage.objects.filter(
        store_id=order.store_id,
        payload__amazon_order_id=order.amazon_order_id,
    ).filter(
        Q(state=OutboxMessage.State.FAILED)
        | Q(
            state=OutboxMessage.State.VERIFYING,
            kind=OutboxMessage.Kind.REFUND_ORDER,
            **{f"payload__{AWAITING_MERCHANT}": True},
        )
    )
    notes = [
        _refusal_note(message, message.result)
        if message.state == OutboxMessage.State.FAILED
        else _unknown_outcome_note(message)
        for message in open_messages.order_by("pk")
    ]
    AmazonOrder.objects.filter(pk=order.pk).update(channel_notes=notes)


def outbox_message_settle(*, message: OutboxMessage, problem: str) -> None:
    """Record Amazon's answer to a shipment or refund message on its Amazon order."""
    order = _order_for(message)
    if order is None:
        return
    order_note_added(
        order_id=order.pk,
        notes=[
            _refusal_note(message, problem)
            if problem
            else note("history.accepted", kind=_kind(message))
        ],
    )
    _channel_notes_refresh(order)


def outbox_message_doubt(*, message: OutboxMessage) -> None:
    """Leave a VERIFYING refund whose outcome Amazon's answer left unknown to the merchant:
    flagged, and noted on its Amazon order (history and notes). Runs in the caller's
    transaction, with the message row locked."""
    message.payload = {**message.payload, AWAITING_MERCHANT: True}
    message.save(update_fields=["payload", "updated_at"])
    order = _order_for(message)
    if order is None:
        return
    order_note_added(order_id=order.pk, notes=[_unknown_outcome_note(message)])
    _channel_notes_refresh(order)


def _shipment_problem(message: OutboxMessage) -> str:
    """What Amazon requires that a shipment message's package lacks ("" for other messages)."""
    if message.kind != OutboxMessage.Kind.CONFIRM_SHIPMENT:
        return ""
    package = message.payload.get("package_detail") or {}
    carrier_code = package.get("carrierCode") or ""
    carrier_name = package.get("carrierName") or ""
    if carrier_code == OTHER_CARRIER and carrier_name == OTHER_CARRIER:
        carrier_name = ""  # the name defaults to the code: no carrier's name was given
    return amazon_shipment_problem(
        carrier_code=carrier_code,
        carrier_name=carrier_name,
        tracking_number=package.get("trackingNumber") or "",
    )


def outbox_message_shipment_problem(*, message: OutboxMessage) -> str:
    """For the order view: what the merchant must correct before a refused shipment can be
    sent again ("" when a plain retry may do)."""
    return _shipment_problem(message)


def outbox_message_retry(
    *, message: OutboxMessage, actor: AbstractBaseUser, is_absence_confirmed: bool = False
) -> OutboxMessage:
    """Send a message again (the merchant's retry): a FAILED one, or a refund whose outcome is
    unknown once the merchant confirms (`is_absence_confirmed`) that Seller Central does not
    show it. Other states are left alone (a second click does nothing). Raises RetryNotAllowed
    for an unknown refund without that confirmation: a plain retry could refund twice; and for a
    shipment whose package lacks what Amazon requires (a tracking number, a carrier of its list):
    Amazon would refuse the same package again, so it is corrected first
    (commerce_to_amazon.commerce_shipment_correct)."""
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update(of=("self",)).get(pk=message.pk)
        is_unknown_refund = locked.is_awaiting_merchant
        if is_unknown_refund and not is_absence_confirmed:
            raise RetryNotAllowed(
                _(
                    "Amazon may have applied this refund already: check it in Seller Central, "
                    "and confirm that Seller Central does not show it before sending it again."
                )
            )
        if locked.state != OutboxMessage.State.FAILED and not is_unknown_refund:
            return locked
        problem = _shipment_problem(locked)
        if problem:
            # The same package would be refused again: it must be corrected first.
            raise RetryNotAllowed(
                _("%(problem)s Correct the shipment, then send it again.") % {"problem": problem}
            )
        outbox_message_transition(
            locked,
            OutboxMessage.State.PENDING,
            fields={
                "payload": {
                    name: value
                    for name, value in locked.payload.items()
                    if name != AWAITING_MERCHANT
                },
                "feed": None,
                "feed_message_id": None,
                "result": "",
                "lease_holder": "",
            },
            event=lambda retried: _sending_again_note(
                retried, actor=actor, is_unknown_refund=is_unknown_refund
            ),
            is_locked=True,
        )
        outbox_delivery_enqueue(store_id=locked.store_id)
    return locked


def _sending_again_note(
    message: OutboxMessage, *, actor: AbstractBaseUser, is_unknown_refund: bool
) -> None:
    order = _order_for(message)
    if order is None:
        return
    code = "history.sending_again_confirmed" if is_unknown_refund else "history.sending_again"
    order_note_added(order_id=order.pk, actor=actor, notes=[note(code, kind=_kind(message))])
    _channel_notes_refresh(order)


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
        is_settled = state in (OutboxMessage.State.DONE, OutboxMessage.State.FAILED)
        outbox_message_transition(
            locked,
            state,
            fields={"result": result, "lease_holder": "" if is_settled else locked.lease_holder},
            is_locked=True,
        )
        if state == OutboxMessage.State.DONE:
            outbox_handler(locked.kind).applied(locked)
        elif state == OutboxMessage.State.FAILED:
            outbox_handler(locked.kind).refused(locked, result)


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
