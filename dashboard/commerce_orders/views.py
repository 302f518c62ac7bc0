"""The Commerce order pages: the Orders grid, its mass actions, the order view and its
actions."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from amazon_channel.orders.cancellation import cancellation_refusal
from amazon_channel.orders.commerce_to_amazon import (
    amazon_order_of,
    commerce_creditmemo_refusal,
    commerce_order_amazon_messages,
    commerce_orders_mass_action,
)
from amazon_channel.outbox.messages import outbox_message_shipment_problem
from commerce_orders import services as commerce_services
from commerce_orders.exceptions import CommerceOrderError
from commerce_orders.models import OrderAction
from commerce_orders.selectors import (
    order_actions_available,
    order_export_rows,
    order_grid,
    order_statuses_in_use,
    order_view,
)
from dashboard.commerce_orders.forms import (
    CommerceOrderGridForm,
    CommerceOrderMassActionForm,
    CommerceOrderSelectionForm,
    OrderCommentForm,
    ShipmentCorrectionForm,
)
from dashboard.csv_export import csv_download
from dashboard.navigation import redirect_back
from dashboard.permissions import (
    ADD_CREDIT_MEMO,
    ADD_INVOICE,
    ADD_SHIPMENT,
    CANCEL_ORDER,
    CHANGE_COMMERCE_ORDER,
    VIEW_ORDER,
    VIEW_STORE,
    permission_for,
)


def commerce_order_or_404(order_id):
    order = order_view(order_id=order_id)
    if order is None:
        raise Http404(_("This order no longer exists."))
    return order


def commerce_order_redirect(order):
    return redirect("dashboard:commerce_order_detail", order_id=order.pk)


@never_cache
@require_GET
@permission_for("commerce_order_list")
def commerce_order_list(request):
    form = CommerceOrderGridForm(request.GET, statuses=order_statuses_in_use())
    form.is_valid()  # Errors are shown beside the fields; the valid filters still apply.
    page = order_grid(**form.grid_arguments())
    return render(
        request,
        "dashboard/commerce_order_list.html",
        {
            "form": form,
            "page": page,
            "chips": form.chips(request.GET),
            "sort": form.cleaned_data["sort"],
            "direction": form.cleaned_data["direction"],
            "mass_actions": _mass_action_choices(request.user),
        },
    )


def _mass_action_choices(user) -> list[tuple[str, str]]:
    """The grid's Actions menu for this user: Export CSV, and Cancel / Hold / Unhold."""
    if not user.has_perm(CHANGE_COMMERCE_ORDER):
        return []
    return CommerceOrderMassActionForm.base_fields["action"].choices


@never_cache
@require_POST
@permission_for("commerce_order_export")
def commerce_order_export(request):
    form = CommerceOrderSelectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["order_ids"][0])
        return redirect_back(request, reverse("dashboard:commerce_order_list"))
    rows = order_export_rows(order_ids=form.cleaned_data["order_ids"])
    return csv_download(rows, filename="orders.csv")


@never_cache
@require_POST
@permission_for("commerce_order_mass_action")
def commerce_order_mass_action(request):
    form = CommerceOrderMassActionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect_back(request, reverse("dashboard:commerce_order_list"))
    result = commerce_orders_mass_action(
        actor=request.user,
        order_ids=form.cleaned_data["order_ids"],
        action=form.cleaned_data["action"],
    )
    if result.done:
        messages.success(
            request,
            ngettext(
                "%(count)d order was updated.", "%(count)d orders were updated.", len(result.done)
            )
            % {"count": len(result.done)},
        )
    if result.refused:
        messages.error(
            request,
            ngettext(
                "%(count)d order was refused.",
                "%(count)d orders were refused.",
                len(result.refused),
            )
            % {"count": len(result.refused)},
        )
    for number, reason in result.refused:
        text = _("Order %(number)s: %(reason)s") % {"number": number, "reason": reason}
        amazon_order = result.amazon_orders.get(number)
        if amazon_order is not None:
            # Each Amazon order is canceled with its own reason: lead to its Cancel Order page.
            text = format_html(
                '{} <a href="{}" data-link="amazon-cancel">{}</a>',
                text,
                reverse("dashboard:order_cancel", args=[amazon_order.store_id, amazon_order.pk]),
                _("Cancel Order"),
            )
        messages.error(request, text)
    return redirect_back(request, reverse("dashboard:commerce_order_list"))


def _commerce_order_buttons(user, order, amazon_order, amazon_cancel_refusal) -> dict[str, bool]:
    """Which header buttons this user sees: the action is open on the order and allowed to them.
    Cancel of an Amazon order is Amazon's Cancel Order (the Commerce order is invoiced at import,
    so Commerce would refuse it anyway): open while Amazon accepts a cancellation. Credit Memo of
    an Amazon order waits until something of it has shipped: Amazon refunds only that."""
    actions = order_actions_available(order)
    can_change = user.has_perm(CHANGE_COMMERCE_ORDER)
    return {
        "invoice": OrderAction.INVOICE in actions and user.has_perm(ADD_INVOICE),
        "ship": OrderAction.SHIP in actions and user.has_perm(ADD_SHIPMENT),
        "credit_memo": OrderAction.CREDIT_MEMO in actions
        and user.has_perm(ADD_CREDIT_MEMO)
        and commerce_creditmemo_refusal(order=order, amazon_order=amazon_order) is None,
        "hold": OrderAction.HOLD in actions and can_change,
        "unhold": OrderAction.UNHOLD in actions and can_change,
        # An Amazon order is canceled through Amazon's Cancel Order page, with its permission.
        "cancel": (
            amazon_cancel_refusal is None and user.has_perms([VIEW_STORE, VIEW_ORDER, CANCEL_ORDER])
            if amazon_order is not None
            else OrderAction.CANCEL in actions and can_change
        ),
        "email": OrderAction.EMAIL in actions and can_change,
        "comment": OrderAction.COMMENT in actions and can_change,
        "retry": can_change,
    }


def _shipment_rows(order, amazon_messages, correction_form=None) -> list[tuple]:
    """(shipment, its message to Amazon, what Amazon requires that it lacks, the form that
    corrects it) for each shipment; the form only for a shipment Amazon refused."""
    rows = []
    for shipment in order.shipments.all():
        message = amazon_messages.get(f"ship:{shipment.pk}")
        form = None
        problem = ""
        if message is not None and message.state == message.State.FAILED:
            problem = outbox_message_shipment_problem(message=message)
            form = (
                correction_form
                if correction_form is not None
                and correction_form.prefix.endswith(f"-{shipment.pk}")
                else ShipmentCorrectionForm(shipment=shipment)
            )
        rows.append((shipment, message, problem, form))
    return rows


def commerce_order_context(request, order, *, comment_form=None, correction_form=None) -> dict:
    amazon_order = amazon_order_of(order)
    amazon_messages = commerce_order_amazon_messages(order=order) if amazon_order else {}
    amazon_cancel_refusal = cancellation_refusal(amazon_order) if amazon_order else None
    return {
        "order": order,
        "addresses": {address.address_type: address for address in order.addresses.all()},
        "amazon_order": amazon_order,
        "amazon_cancel_refusal": amazon_cancel_refusal,
        "can_view_amazon_order": request.user.has_perms([VIEW_STORE, VIEW_ORDER]),
        "shipments": _shipment_rows(order, amazon_messages, correction_form),
        "credit_memos": [
            (memo, amazon_messages.get(f"refund:{memo.pk}")) for memo in order.credit_memos.all()
        ],
        "buttons": _commerce_order_buttons(
            request.user, order, amazon_order, amazon_cancel_refusal
        ),
        "comment_form": comment_form or OrderCommentForm(),
    }


@never_cache
@require_GET
@permission_for("commerce_order_detail")
def commerce_order_detail(request, order_id):
    order = commerce_order_or_404(order_id)
    return render(
        request, "dashboard/commerce_order_detail.html", commerce_order_context(request, order)
    )


def _commerce_order_action(request, order_id, service, success_message):
    """Run a one-click order action; a refusal is shown as a message, never a 500."""
    order = commerce_order_or_404(order_id)
    try:
        service(actor=request.user, order=order)
    except CommerceOrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success_message)
    return commerce_order_redirect(order)


@never_cache
@require_POST
@permission_for("commerce_order_invoice")
def commerce_order_invoice(request, order_id):
    return _commerce_order_action(
        request,
        order_id,
        lambda **arguments: commerce_services.invoice_create(capture_offline=True, **arguments),
        _("The invoice has been created."),
    )


@never_cache
@require_POST
@permission_for("commerce_order_hold")
def commerce_order_hold(request, order_id):
    return _commerce_order_action(
        request, order_id, commerce_services.order_hold, _("You put the order on hold.")
    )


@never_cache
@require_POST
@permission_for("commerce_order_unhold")
def commerce_order_unhold(request, order_id):
    return _commerce_order_action(
        request,
        order_id,
        commerce_services.order_unhold,
        _("You released the order from holding status."),
    )


@never_cache
@require_POST
@permission_for("commerce_order_cancel")
def commerce_order_cancel(request, order_id):
    order = commerce_order_or_404(order_id)
    amazon_order = amazon_order_of(order)
    if amazon_order is not None:
        # Amazon must hear of it: its Cancel Order page asks the reason and tells Amazon.
        messages.info(
            request, _("An order from Amazon is canceled on the Amazon Cancel Order page.")
        )
        return redirect(
            "dashboard:order_cancel", store_id=amazon_order.store_id, order_id=amazon_order.pk
        )
    return _commerce_order_action(
        request, order_id, commerce_services.order_cancel, _("You canceled the order.")
    )


@never_cache
@require_POST
@permission_for("commerce_order_email_send")
def commerce_order_email_send(request, order_id):
    order = commerce_order_or_404(order_id)
    try:
        is_sent = commerce_services.order_email_send(actor=request.user, order=order)
    except CommerceOrderError as error:
        messages.error(request, str(error))
    else:
        if is_sent:
            messages.success(request, _("You sent the order email."))
        else:
            messages.error(request, _("The order has no customer email to send it to."))
    return commerce_order_redirect(order)


@never_cache
@require_POST
@permission_for("commerce_order_comment_add")
def commerce_order_comment_add(request, order_id):
    order = commerce_order_or_404(order_id)
    form = OrderCommentForm(request.POST)
    if not form.is_valid():
        context = commerce_order_context(request, order, comment_form=form)
        return render(request, "dashboard/commerce_order_detail.html", context, status=400)
    try:
        commerce_services.order_comment_add(actor=request.user, order=order, **form.cleaned_data)
    except CommerceOrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You added a comment to the order."))
    return commerce_order_redirect(order)
