"""The Amazon order pages: All Orders, Amazon Order Details, Cancel Order."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from amazon_channel.orders.address_edits import (
    AddressEditNotAllowed,
    amazon_order_shipping_address_update,
    shipping_address_edit_refusal,
)
from amazon_channel.orders.cancellation import (
    CancellationNotAllowed,
    amazon_order_cancel,
    amazon_order_cancellation_acknowledge,
    cancellation_refusal,
)
from amazon_channel.selectors import (
    amazon_order_detail,
    amazon_order_get,
    amazon_order_list,
    order_cancellation,
    seller_central_url,
    store_for_order_pages,
    store_get,
)
from amazon_channel.stores.services import store_waiting_for
from dashboard.amazon_orders.forms import CancelOrderForm, OrderFilterForm, ShippingAddressForm
from dashboard.permissions import permission_for
from dashboard.templatetags.dashboard_extras import request_fragment_render


@never_cache
@require_GET
@permission_for("order_list")
def order_list(request, store_id):
    store = store_for_order_pages(store_id)
    form = OrderFilterForm(request.GET)
    form.is_valid()  # Errors are shown beside the fields; the valid filters still apply.
    cleaned = form.cleaned_data
    sort, direction = cleaned["sort"], cleaned["direction"]
    page = amazon_order_list(
        store=store,
        filters=form.filters(),
        sort=sort,
        is_descending=direction == "desc",
        cursor=cleaned.get("page_cursor"),
    )
    return render(
        request,
        "dashboard/order_list.html",
        {
            "store": store,
            "form": form,
            "page": page,
            "chips": form.chips(request.GET),
            "sort": sort,
            "direction": direction,
        },
    )


def _order_detail_context(request, store, order, *, address_form=None) -> dict:
    if address_form is None:
        address_form = ShippingAddressForm(initial=order.shipping_address or {})
    return {
        "store": store,
        "order": order,
        "cancellation": order_cancellation(order),
        "cancel_refusal": cancellation_refusal(order),
        "seller_central_url": seller_central_url(store),
        "address_form": address_form,
        "address_edit_refusal": shipping_address_edit_refusal(order),
    }


@never_cache
@require_GET
@permission_for("order_detail")
def order_detail(request, store_id, order_id):
    order = amazon_order_detail(store_id=store_id, order_id=order_id)
    return render(
        request, "dashboard/order_detail.html", _order_detail_context(request, order.store, order)
    )


@never_cache
@require_POST
@permission_for("order_shipping_address_update")
def order_shipping_address_update(request, store_id, order_id):
    store = store_get(store_id)
    form = ShippingAddressForm(request.POST)
    if not form.is_valid():
        order = amazon_order_detail(store_id=store.pk, order_id=order_id)
        context = _order_detail_context(request, store, order, address_form=form)
        return render(request, "dashboard/order_detail.html", context, status=400)
    order = amazon_order_get(store=store, order_id=order_id)
    try:
        amazon_order_shipping_address_update(
            order=order, actor=request.user, address=form.cleaned_data
        )
    except AddressEditNotAllowed as refusal:
        messages.error(request, refusal.message)
        return redirect("dashboard:order_detail", store_id=store.pk, order_id=order.pk)
    messages.success(request, _("You saved the order."))
    return redirect("dashboard:order_detail", store_id=store.pk, order_id=order.pk)


def _order_cancel_page(request, store, order, form):
    return render(
        request,
        "dashboard/order_cancel.html",
        {
            "store": store,
            "order": order,
            "form": form,
            "cancel_refusal": cancellation_refusal(order),
            "seller_central_url": seller_central_url(store),
        },
    )


@never_cache
@require_GET
@permission_for("order_cancel")
def order_cancel(request, store_id, order_id):
    """Cancel Order: the form, which posts to order_cancel_confirm."""
    store = store_get(store_id)
    order = amazon_order_get(store=store, order_id=order_id)
    return _order_cancel_page(request, store, order, CancelOrderForm.for_order(order))


@never_cache
@require_POST
@permission_for("order_cancel_confirm")
def order_cancel_confirm(request, store_id, order_id):
    store = store_get(store_id)
    order = amazon_order_get(store=store, order_id=order_id)
    form = CancelOrderForm(request.POST)
    if not form.is_valid():
        return _order_cancel_page(request, store, order, form)
    try:
        amazon_order_cancel(order=order, actor=request.user, reason=form.cleaned_data["reason"])
    except CancellationNotAllowed as refusal:
        messages.error(request, refusal.message)
    else:
        if store_waiting_for(store):
            # Nothing reaches Amazon meanwhile: the order page's notice says what it waits for.
            messages.success(request, _("The Amazon order has been canceled."))
        else:
            messages.success(
                request,
                _(
                    "The Amazon order has been canceled and the request has been submitted to "
                    "Amazon."
                ),
            )
    return redirect("dashboard:order_detail", store_id=store.pk, order_id=order.pk)


@never_cache
@require_GET
@permission_for("order_cancellation_status")
def order_cancellation_status(request, store_id, order_id):
    """JSON for the order page's script while a cancellation is in flight: its state, the
    notice to show and the order's status."""
    store = store_get(store_id)
    order = amazon_order_get(store=store, order_id=order_id)
    cancellation = order_cancellation(order)
    context = {"store": store, "order": order, "cancellation": cancellation}
    return JsonResponse(
        {
            "state": cancellation.state if cancellation else "",
            "html": request_fragment_render(
                request, "partials/order_cancellation_notice.html", context
            )
            if cancellation
            else "",
            "order_status": order.get_status_display(),
        }
    )


@never_cache
@require_POST
@permission_for("order_cancellation_acknowledge")
def order_cancellation_acknowledge(request, store_id, order_id):
    store = store_get(store_id)
    order = amazon_order_get(store=store, order_id=order_id)
    cancellation = order_cancellation(order)
    if cancellation is not None:
        amazon_order_cancellation_acknowledge(cancellation=cancellation, actor=request.user)
        messages.success(request, _("The rejected cancellation is marked as reviewed."))
    return redirect("dashboard:order_detail", store_id=store.pk, order_id=order.pk)
