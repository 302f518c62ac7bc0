"""The merchant's pages: parse, check permission, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from amazon_channel.health import broker_check, database_check
from amazon_channel.selectors import (
    amazon_order_detail,
    amazon_order_for_update,
    amazon_order_list,
    order_cancellation,
    seller_central_url,
    store_for_dashboard,
    store_get,
    store_list_for_cards,
    store_recent_orders,
    store_sync_runs,
)
from amazon_channel.services.cancellation import (
    CancellationNotAllowed,
    amazon_order_cancel,
    amazon_order_cancellation_acknowledge,
    cancellation_refusal,
)
from amazon_channel.services.order_edits import (
    amazon_order_shipping_address_update,
)
from amazon_channel.services.stores import (
    store_connect,
    store_connection_test,
    store_order_settings_update,
    store_set_active,
    store_sync_request,
)
from dashboard.forms import (
    CancelOrderForm,
    OrderFilterForm,
    OrderSettingsForm,
    ShippingAddressForm,
    StoreConnectForm,
)

VIEW_STORE = "amazon_channel.view_store"
ADD_STORE = "amazon_channel.add_store"
CHANGE_STORE = "amazon_channel.change_store"
SYNC_STORE = "amazon_channel.sync_store"
VIEW_ORDER = "amazon_channel.view_amazonorder"
CHANGE_ORDER = "amazon_channel.change_amazonorder"
CANCEL_ORDER = "amazon_channel.cancel_amazonorder"
SYNC_LOG_PAGE_SIZE = 25


def _redirect_back(request, default_url: str):
    """To the page the form was on (a store card or the store dashboard), else `default_url`."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default_url)


# Stores


@require_GET
@permission_required(VIEW_STORE, raise_exception=True)
def store_list(request):
    return render(request, "dashboard/store_list.html", {"stores": store_list_for_cards()})


@require_http_methods(["GET", "POST"])
@permission_required([VIEW_STORE, ADD_STORE], raise_exception=True)
def store_connect_page(request):
    """Add a store: Test connection tells what Amazon says; Save connects it."""
    form = StoreConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if "test_connection" in request.POST:
            problem = store_connection_test(**form.connection_arguments())
            if problem:
                form.add_error(
                    None, _("Test connection failed: %(problem)s") % {"problem": problem}
                )
            else:
                messages.success(request, _("Amazon accepted the credentials."))
        else:
            store, created = store_connect(
                name=form.cleaned_data["name"], **form.connection_arguments()
            )
            messages.success(
                request,
                (_("Store %(name)s is connected.") if created else _("Store %(name)s is updated."))
                % {"name": store.name},
            )
            return redirect("dashboard:store_detail", store_id=store.pk)
    return render(request, "dashboard/store_connect.html", {"form": form})


@require_GET
@permission_required(VIEW_STORE, raise_exception=True)
def store_detail(request, store_id):
    store = store_for_dashboard(store_id)
    recent_orders = store_recent_orders(store) if request.user.has_perm(VIEW_ORDER) else None
    return render(
        request,
        "dashboard/store_detail.html",
        {"store": store, "recent_orders": recent_orders},
    )


@require_http_methods(["GET", "POST"])
@permission_required(CHANGE_STORE, raise_exception=True)
def store_settings(request, store_id):
    store = store_get(store_id)
    form = OrderSettingsForm(request.POST or None, instance=store)
    if request.method == "POST" and form.is_valid():
        store_order_settings_update(store=store, actor=request.user, values=form.cleaned_data)
        messages.success(request, _("You saved the Order Settings."))
        return redirect("dashboard:store_detail", store_id=store.pk)
    return render(request, "dashboard/store_settings.html", {"store": store, "form": form})


@require_GET
@permission_required(VIEW_STORE, raise_exception=True)
def store_sync_log(request, store_id):
    store = store_get(store_id)
    page = Paginator(store_sync_runs(store), SYNC_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dashboard/store_sync_log.html", {"store": store, "page": page})


@require_POST
@permission_required(CHANGE_STORE, raise_exception=True)
def store_activate(request, store_id):
    store = store_set_active(store=store_get(store_id), is_active=True)
    messages.success(request, _("Store %(name)s is active.") % {"name": store.name})
    return _redirect_back(request, reverse("dashboard:store_list"))


@require_POST
@permission_required(CHANGE_STORE, raise_exception=True)
def store_deactivate(request, store_id):
    store = store_set_active(store=store_get(store_id), is_active=False)
    messages.success(
        request,
        _("Store %(name)s is inactive: its orders are no longer synced.") % {"name": store.name},
    )
    return _redirect_back(request, reverse("dashboard:store_list"))


@require_POST
@permission_required(SYNC_STORE, raise_exception=True)
def store_sync(request, store_id):
    store = store_get(store_id)
    store_sync_request(store=store)
    messages.success(
        request,
        _("A sync of %(name)s has been requested. Its result appears in the sync log.")
        % {"name": store.name},
    )
    return _redirect_back(request, reverse("dashboard:store_list"))


# Amazon orders


@require_GET
@permission_required(VIEW_ORDER, raise_exception=True)
def order_list(request, store_id):
    store = store_get(store_id)
    form = OrderFilterForm(request.GET)
    form.is_valid()  # Errors are shown beside the fields; the valid filters still apply.
    cleaned = form.cleaned_data
    sort = cleaned.get("sort") or "purchase_date"
    direction = cleaned.get("direction") or "desc"
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
    }


@require_GET
@permission_required(VIEW_ORDER, raise_exception=True)
def order_detail(request, store_id, order_id):
    store = store_get(store_id)
    order = amazon_order_detail(store=store, order_id=order_id)
    return render(
        request, "dashboard/order_detail.html", _order_detail_context(request, store, order)
    )


@require_POST
@permission_required([VIEW_ORDER, CHANGE_ORDER], raise_exception=True)
def order_shipping_address_update(request, store_id, order_id):
    store = store_get(store_id)
    form = ShippingAddressForm(request.POST)
    if not form.is_valid():
        order = amazon_order_detail(store=store, order_id=order_id)
        context = _order_detail_context(request, store, order, address_form=form)
        return render(request, "dashboard/order_detail.html", context, status=400)
    order = amazon_order_for_update(store=store, order_id=order_id)
    amazon_order_shipping_address_update(order=order, actor=request.user, address=form.cleaned_data)
    messages.success(request, _("You saved the order."))
    return redirect("dashboard:order_detail", store_id=store.pk, order_id=order.pk)


@require_http_methods(["GET", "POST"])
@permission_required([VIEW_ORDER, CANCEL_ORDER], raise_exception=True)
def order_cancel(request, store_id, order_id):
    store = store_get(store_id)
    order = amazon_order_for_update(store=store, order_id=order_id)
    if request.method == "POST":
        form = CancelOrderForm(request.POST)
        if form.is_valid():
            try:
                amazon_order_cancel(
                    order=order, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except CancellationNotAllowed as refusal:
                messages.error(request, refusal.message)
            else:
                messages.success(
                    request,
                    _(
                        "The Amazon order has been canceled and the request has been submitted "
                        "to Amazon."
                    ),
                )
            return redirect("dashboard:order_detail", store_id=store.pk, order_id=order.pk)
    else:
        form = CancelOrderForm.for_order(order)
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


@require_POST
@permission_required([VIEW_ORDER, CANCEL_ORDER], raise_exception=True)
def order_cancellation_acknowledge(request, store_id, order_id):
    store = store_get(store_id)
    order = amazon_order_for_update(store=store, order_id=order_id)
    cancellation = order_cancellation(order)
    if cancellation is not None:
        amazon_order_cancellation_acknowledge(cancellation=cancellation, actor=request.user)
        messages.success(request, _("The rejected cancellation is marked as reviewed."))
    return redirect("dashboard:order_detail", store_id=store.pk, order_id=order.pk)


@login_not_required
@never_cache
@require_GET
def health(request):
    """For load balancers and docker-compose: 200 when the database and broker answer, else 503."""
    checks = {"database": database_check(), "broker": broker_check()}
    is_healthy = all(problem is None for problem in checks.values())
    body = {
        "status": "ok" if is_healthy else "unavailable",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    return JsonResponse(body, status=200 if is_healthy else 503)
