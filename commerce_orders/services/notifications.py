"""Order comments and the emails a merchant sends from the order page."""

import functools

from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from commerce_orders.exceptions import OrderCommentEmpty
from commerce_orders.models import CommerceOrder, CommerceOrderEvent, OrderAction
from commerce_orders.notes import note
from commerce_orders.services.transitions import (
    order_event_append,
    order_lock,
    order_transition_check,
)


def _send_after_commit(*, subject: str, body: str, recipient: str) -> None:
    # robust: a mail server that is down must not turn the committed write into an error page.
    transaction.on_commit(
        functools.partial(send_mail, subject, body, None, [recipient], fail_silently=False),
        robust=True,
    )


def _order_confirmation(order: CommerceOrder) -> tuple[str, str]:
    subject = _("Your order #%(number)s") % {"number": order.increment_id}
    lines = [
        _("Hello %(name)s,") % {"name": order.customer_name or order.customer_email},
        "",
        _("Thank you for your order. Your order #%(number)s was placed on %(date)s.")
        % {"number": order.increment_id, "date": order.created_at.date().isoformat()},
        "",
    ]
    for item in order.items.order_by("pk"):
        lines.append(
            _("%(quantity)d x %(name)s (%(sku)s): %(total)s %(currency)s")
            % {
                "quantity": item.quantity_ordered,
                "name": item.name,
                "sku": item.sku,
                "total": item.row_total,
                "currency": order.currency,
            }
        )
    lines += [
        "",
        _("Subtotal: %(amount)s %(currency)s")
        % {"amount": order.subtotal, "currency": order.currency},
        _("Shipping & Handling: %(amount)s %(currency)s")
        % {"amount": order.shipping_amount, "currency": order.currency},
        _("Tax: %(amount)s %(currency)s")
        % {"amount": order.tax_amount, "currency": order.currency},
        _("Grand Total: %(amount)s %(currency)s")
        % {"amount": order.grand_total, "currency": order.currency},
    ]
    return subject, "\n".join(lines)


def order_comment_add(
    *,
    actor: AbstractBaseUser | None,
    order: CommerceOrder,
    comment: str,
    is_customer_notified: bool = False,
    is_visible_on_storefront: bool = False,
) -> CommerceOrderEvent:
    """Add a comment to the order's history, in any state; the state does not change.

    Guarantees: one history row with the comment (stripped) and the two flags. With
    `is_customer_notified` and a customer email, the comment is emailed to the customer after the
    transaction commits; without a customer email nobody is notified and the row says so
    (is_customer_notified False). Returns the history row.
    Raises OrderCommentEmpty when the comment is blank; OrderTransitionError only if the table
    stopped allowing comments from the order's state.
    """
    text = comment.strip()
    with transaction.atomic():
        order = order_lock(order=order)
        order_transition_check(order=order, action=OrderAction.COMMENT, target=order.state)
        if not text:
            raise OrderCommentEmpty(increment_id=order.increment_id)
        is_notified = is_customer_notified and bool(order.customer_email)
        event = order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.COMMENT,
            old_state=order.state,
            old_status=order.status,
            comment=text,
            is_customer_notified=is_notified,
            is_visible_on_storefront=is_visible_on_storefront,
        )
        if is_notified:
            _send_after_commit(
                subject=_("Update to your order #%(number)s") % {"number": order.increment_id},
                body=_("Your order #%(number)s has been updated:\n\n%(comment)s")
                % {"number": order.increment_id, "comment": text},
                recipient=order.customer_email,
            )
        return event


def order_email_send(*, actor: AbstractBaseUser | None, order: CommerceOrder) -> bool:
    """Send Email: (re)send the order confirmation to the order's customer email.

    Guarantees: when the order has a customer email, the confirmation (items and totals) is
    sent after the transaction commits and one history row records it (customer notified);
    returns True. Without a customer email nothing is written or sent; returns False.
    Raises OrderTransitionError when the order is canceled.
    """
    with transaction.atomic():
        order = order_lock(order=order)
        order_transition_check(order=order, action=OrderAction.EMAIL, target=order.state)
        if not order.customer_email:
            return False
        subject, body = _order_confirmation(order)
        order_event_append(
            order=order,
            actor=actor,
            action=OrderAction.EMAIL,
            old_state=order.state,
            old_status=order.status,
            notes=[note("commerce.confirmation_email_sent", email=order.customer_email)],
            is_customer_notified=True,
        )
        _send_after_commit(subject=subject, body=body, recipient=order.customer_email)
        return True
