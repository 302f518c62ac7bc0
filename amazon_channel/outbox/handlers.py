"""What each kind of outbox message means to the domain that queued it.

The outbox sends messages and reads Amazon's answers; what an answer does (a cancellation
confirmed, a refused shipment noted on its order) belongs to the module that queued the
message. Each registers a handler for its kinds when the app is ready (amazon_channel.apps),
and the outbox looks the handler up here, so it imports no domain module.
"""

from collections.abc import Callable
from dataclasses import dataclass

from amazon_channel.models import OutboxMessage


@dataclass(frozen=True)
class OrderVerdict:
    """What Amazon's order (getOrder) says of a message whose outcome Amazon's answer left
    unknown."""

    is_applied: bool = False
    # Not applied, and the order still allows it: the message may be sent again.
    is_sendable_again: bool = False
    # Neither: why the message can no longer be applied, for the merchant (refused).
    refusal: str = ""
    # The order's state is unreadable or in between: look again later.
    is_undecided: bool = False


def _nothing(message: OutboxMessage) -> None:
    return None


@dataclass(frozen=True)
class OutboxHandler:
    """The domain's side of Amazon's answers to one kind of message. `applied` and `refused`
    run in the outbox's transaction, the message already saved DONE or FAILED;
    `refusal_committed` after that transaction; `order_verdict` (for kinds whose outcome
    Amazon's order shows) reads a getOrder payload; `sent_again` runs when the order showed
    the message was not applied and it is queued again."""

    applied: Callable[[OutboxMessage], None]
    refused: Callable[[OutboxMessage, str], None]
    refusal_committed: Callable[[OutboxMessage], None] = _nothing
    order_verdict: Callable[[OutboxMessage, dict], OrderVerdict] | None = None
    sent_again: Callable[[OutboxMessage], None] = _nothing


_handlers: dict[str, OutboxHandler] = {}


def outbox_handler_register(*, kind: str, handler: OutboxHandler) -> None:
    """Make `handler` the one for messages of `kind` (registering again replaces it)."""
    _handlers[kind] = handler


def outbox_handler(kind: str) -> OutboxHandler:
    """The handler registered for `kind`. Raises LookupError when none is."""
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"no outbox handler registered for {kind!r} messages") from None
