"""The Commerce order's documents: New Shipment, New Credit Memo, a shipment's correction,
and the retry of a message to Amazon."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from amazon_channel.orders.commerce_to_amazon import (
    amazon_order_of,
    commerce_creditmemo_create,
    commerce_creditmemo_refusal,
    commerce_order_amazon_messages,
    commerce_shipment_correct,
    commerce_shipment_create,
)
from amazon_channel.outbox.messages import RetryNotAllowed, outbox_message_retry
from amazon_channel.stores.services import store_waiting_for
from commerce_orders.exceptions import CommerceOrderError
from commerce_orders.models import OrderAction
from commerce_orders.selectors import order_actions_available
from dashboard.commerce_orders.forms import (
    AmazonResendForm,
    CreditMemoForm,
    ShipmentCorrectionForm,
    ShipmentForm,
)
from dashboard.commerce_orders.views import (
    commerce_order_context,
    commerce_order_or_404,
    commerce_order_redirect,
)
from dashboard.permissions import permission_for


def _document_page(request, order_id, *, form_class, action, template, refusal=None):
    """The Ship and Credit Memo pages: a form of item quantities, while the action is open.
    `refusal(order)`, if given, returns an error that closes the page (with its message)."""
    order = commerce_order_or_404(order_id)
    problem = refusal(order) if refusal is not None else None
    if problem is not None:
        messages.error(request, str(problem))
        return commerce_order_redirect(order)
    if action not in order_actions_available(order):
        messages.error(
            request,
            _("%(action)s is not available for order #%(number)s now.")
            % {"action": action.label, "number": order.increment_id},
        )
        return commerce_order_redirect(order)
    return render(request, template, {"order": order, "form": form_class(order=order)})


def _document_save(request, order_id, *, form_class, template, create, page):
    """What the Ship and Credit Memo forms post: `create(order, form)` calls the service and
    returns the success message. Errors and a refusal are shown on the form, which stays the
    form's page (`page`, its URL name) for the address bar and the language menu: this POST-only
    URL would answer them 405."""
    order = commerce_order_or_404(order_id)
    form = form_class(request.POST, order=order)
    if form.is_valid():
        try:
            success_message = create(order, form)
        except CommerceOrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, success_message)
            return commerce_order_redirect(order)
    page_url = reverse(page, args=[order.pk])
    return render(
        request, template, {"order": order, "form": form, "page_url": page_url}, status=400
    )


SHIP_TEMPLATE = "dashboard/commerce_order_ship.html"
CREDIT_MEMO_TEMPLATE = "dashboard/commerce_order_creditmemo.html"


@never_cache
@require_GET
@permission_for("commerce_order_ship")
def commerce_order_ship(request, order_id):
    """New Shipment: the form, which posts to commerce_order_ship_save."""
    return _document_page(
        request, order_id, form_class=ShipmentForm, action=OrderAction.SHIP, template=SHIP_TEMPLATE
    )


@never_cache
@require_POST
@permission_for("commerce_order_ship_save")
def commerce_order_ship_save(request, order_id):
    def create(order, form):
        data = form.cleaned_data
        commerce_shipment_create(
            actor=request.user,
            order=order,
            quantities=form.quantities(),
            carrier_code=data["carrier_code"],
            carrier_title=data["carrier_title"],
            method=data["method"],
            tracking_number=data["tracking_number"],
        )
        amazon_order = amazon_order_of(order)
        waiting_for = store_waiting_for(amazon_order.store) if amazon_order else ""
        if waiting_for:
            return _("The shipment has been created. Amazon is told once it can be: %(why)s") % {
                "why": waiting_for
            }
        return _("The shipment has been created.")

    return _document_save(
        request,
        order_id,
        form_class=ShipmentForm,
        template=SHIP_TEMPLATE,
        create=create,
        page="dashboard:commerce_order_ship",
    )


@never_cache
@require_GET
@permission_for("commerce_order_creditmemo")
def commerce_order_creditmemo(request, order_id):
    """New Memo: the form, which posts to commerce_order_creditmemo_save."""
    return _document_page(
        request,
        order_id,
        form_class=CreditMemoForm,
        action=OrderAction.CREDIT_MEMO,
        template=CREDIT_MEMO_TEMPLATE,
        refusal=lambda order: commerce_creditmemo_refusal(
            order=order, amazon_order=amazon_order_of(order)
        ),
    )


@never_cache
@require_POST
@permission_for("commerce_order_creditmemo_save")
def commerce_order_creditmemo_save(request, order_id):
    def create(order, form):
        commerce_creditmemo_create(actor=request.user, order=order, **form.refund_arguments())
        return _("You created the credit memo.")

    return _document_save(
        request,
        order_id,
        form_class=CreditMemoForm,
        template=CREDIT_MEMO_TEMPLATE,
        create=create,
        page="dashboard:commerce_order_creditmemo",
    )


@never_cache
@require_POST
@permission_for("commerce_order_amazon_retry")
def commerce_order_amazon_retry(request, order_id, message_id):
    """Retry: send a shipment or refund Amazon refused again; or a refund whose outcome Amazon
    left unknown, once the user confirms that Seller Central does not show it."""
    order = commerce_order_or_404(order_id)
    amazon_messages = commerce_order_amazon_messages(order=order)
    message = next(
        (candidate for candidate in amazon_messages.values() if candidate.pk == message_id),
        None,
    )
    if message is None:
        raise Http404(_("This order sent no such message to Amazon."))
    form = AmazonResendForm(request.POST)
    is_confirmed = form.is_valid() and form.cleaned_data["is_absent_in_seller_central"]
    try:
        outbox_message_retry(message=message, actor=request.user, is_absence_confirmed=is_confirmed)
    except RetryNotAllowed as refusal:
        messages.error(request, refusal.message)
        return commerce_order_redirect(order)
    messages.success(request, _("The message will be sent to Amazon again."))
    return commerce_order_redirect(order)


@never_cache
@require_POST
@permission_for("commerce_order_shipment_correct")
def commerce_order_shipment_correct(request, order_id, shipment_id):
    """Correct and send again: a shipment Amazon refused, with its carrier and tracking number
    corrected; errors are shown on the order view beside the shipment."""
    order = commerce_order_or_404(order_id)
    shipment = next((row for row in order.shipments.all() if row.pk == shipment_id), None)
    if shipment is None:
        raise Http404(_("This order has no such shipment."))
    form = ShipmentCorrectionForm(request.POST, shipment=shipment)
    if not form.is_valid():
        context = commerce_order_context(request, order, correction_form=form)
        return render(request, "dashboard/commerce_order_detail.html", context, status=400)
    try:
        commerce_shipment_correct(actor=request.user, shipment=shipment, **form.cleaned_data)
    except (CommerceOrderError, RetryNotAllowed) as refusal:
        messages.error(request, str(refusal))
        return commerce_order_redirect(order)
    messages.success(request, _("The corrected shipment will be sent to Amazon again."))
    return commerce_order_redirect(order)
