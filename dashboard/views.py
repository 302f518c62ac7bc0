"""The merchant's pages: parse, check permission, call one service or selector, render."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from amazon_channel.models import SyncState
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
from amazon_channel.orders.commerce_to_amazon import (
    amazon_order_of,
    commerce_creditmemo_create,
    commerce_creditmemo_refusal,
    commerce_order_amazon_messages,
    commerce_orders_mass_action,
    commerce_shipment_correct,
    commerce_shipment_create,
)
from amazon_channel.outbox.messages import (
    RetryNotAllowed,
    outbox_message_retry,
    outbox_message_shipment_problem,
)
from amazon_channel.selectors import (
    amazon_order_detail,
    amazon_order_get,
    amazon_order_list,
    order_cancellation,
    seller_central_url,
    store_for_dashboard,
    store_get,
    store_list_for_cards,
    store_recent_events,
    store_recent_orders,
    store_sync_progress,
    store_sync_runs,
)
from amazon_channel.stores.services import (
    StoreEndpointRefused,
    store_connect,
    store_connection_test,
    store_order_settings_update,
    store_reauthorize,
    store_set_active,
    store_sync_request,
    store_waiting_for,
)
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
from dashboard.csv_export import csv_download
from dashboard.forms import (
    AmazonResendForm,
    CancelOrderForm,
    CommerceOrderGridForm,
    CommerceOrderMassActionForm,
    CommerceOrderSelectionForm,
    CreditMemoForm,
    OrderCommentForm,
    OrderFilterForm,
    OrderSettingsForm,
    ShipmentCorrectionForm,
    ShipmentForm,
    ShippingAddressForm,
    StoreConnectForm,
    StoreReauthorizeForm,
)
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

SYNC_LOG_PAGE_SIZE = 25


def _redirect_back(request, default_url: str):
    """To the page the form was on (a store card or the store dashboard), else `default_url`."""
    target = request.POST.get("next", "")
    # A path of this site only, redirected to as a URL: redirect() would take "None" or
    # "a:b" for a view name to reverse (NoReverseMatch, a 500).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect(default_url)


# Stores


@require_GET
@permission_for("store_list")
def store_list(request):
    return render(request, "dashboard/store_list.html", {"stores": store_list_for_cards()})


@require_GET
@permission_for("store_connect")
def store_connect_page(request):
    """Add Store: the form, which posts to store_connect_save."""
    return render(request, "dashboard/store_connect.html", {"form": StoreConnectForm()})


@require_POST
@permission_for("store_connect_save")
def store_connect_save(request):
    """Test connection tells what Amazon says (nothing saved); Save connects the store."""
    form = StoreConnectForm(request.POST)
    if form.is_valid():
        if "test_connection" in request.POST:
            problem = store_connection_test(**form.connection_arguments())
            if problem:
                form.add_error(
                    None, _("Test connection failed: %(problem)s") % {"problem": problem}
                )
            else:
                messages.success(request, _("Amazon accepted the credentials."))
        else:
            try:
                store, created = store_connect(
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    **form.connection_arguments(),
                )
            except StoreEndpointRefused as error:
                # The form has said the endpoints' problems; the service also asks for the
                # secrets (StoreCredentialsRequired). Nothing was written.
                form.add_error(error.field_name, error.message)
            else:
                messages.success(
                    request,
                    (
                        _("Store %(name)s is connected.")
                        if created
                        else _("Store %(name)s is updated.")
                    )
                    % {"name": store.name},
                )
                return redirect("dashboard:store_detail", store_id=store.pk)
    return render(request, "dashboard/store_connect.html", {"form": form})


@never_cache
@require_GET
@permission_for("store_detail")
def store_detail(request, store_id):
    """The store's dashboard; `?following_sync=<run id>` follows the sync requested after
    that run (Reauthorize sends here) to its result."""
    store = store_for_dashboard(store_id)
    recent_orders = store_recent_orders(store) if request.user.has_perm(VIEW_ORDER) else None
    following = request.GET.get("following_sync", "")
    following_sync_url = (
        f"{reverse('dashboard:store_sync_status', args=[store.pk])}?after={following}"
        if following.isdigit() and len(following) < 19
        else ""
    )
    return render(
        request,
        "dashboard/store_detail.html",
        {
            "store": store,
            "recent_orders": recent_orders,
            "events": store_recent_events(store),
            "following_sync_url": following_sync_url,
        },
    )


@require_GET
@permission_for("store_settings")
def store_settings(request, store_id):
    """Order Settings: the form, which posts to store_settings_save."""
    store = store_get(store_id)
    form = OrderSettingsForm(instance=store, statuses=order_statuses_in_use())
    return render(request, "dashboard/store_settings.html", {"store": store, "form": form})


@require_POST
@permission_for("store_settings_save")
def store_settings_save(request, store_id):
    store = store_get(store_id)
    form = OrderSettingsForm(request.POST, instance=store, statuses=order_statuses_in_use())
    if not form.is_valid():
        return render(request, "dashboard/store_settings.html", {"store": store, "form": form})
    store_order_settings_update(store=store, actor=request.user, values=form.cleaned_data)
    messages.success(request, _("You saved the Order Settings."))
    return redirect("dashboard:store_detail", store_id=store.pk)


@require_GET
@permission_for("store_sync_log")
def store_sync_log(request, store_id):
    store = store_get(store_id)
    page = Paginator(store_sync_runs(store), SYNC_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dashboard/store_sync_log.html", {"store": store, "page": page})


@require_POST
@permission_for("store_activate")
def store_activate(request, store_id):
    store = store_set_active(store=store_get(store_id), actor=request.user, is_active=True)
    messages.success(request, _("Store %(name)s is active.") % {"name": store.name})
    return _redirect_back(request, reverse("dashboard:store_list"))


@require_POST
@permission_for("store_deactivate")
def store_deactivate(request, store_id):
    store = store_set_active(store=store_get(store_id), actor=request.user, is_active=False)
    messages.success(
        request,
        _("Store %(name)s is inactive: its orders are no longer synced.") % {"name": store.name},
    )
    return _redirect_back(request, reverse("dashboard:store_list"))


def _wants_json(request) -> bool:
    """Whether the page's script posted the form (it asks for JSON), not the browser."""
    return request.headers.get("Accept", "").startswith("application/json")


def _sync_progress_payload(request, progress, *, status_url: str = "") -> dict:
    """What the Sync now script shows: the progress line, the store's badge, where to poll."""
    context = {
        "store": progress.store,
        "progress": progress,
        "clock_margin_seconds": round(settings.AMAZON_CLOCK_SKEW_MARGIN_SECONDS),
    }
    return {
        "is_finished": progress.is_finished,
        "is_flagged": progress.store.sync_state != SyncState.OK,
        "html": render_to_string("partials/sync_progress.html", context, request=request),
        "status_html": render_to_string("partials/store_status.html", context, request=request),
        "status_url": status_url,
    }


@require_POST
@permission_for("store_sync")
def store_sync(request, store_id):
    """Sync now. The page's script gets JSON (the progress and where to poll it); a plain form
    post gets a message and goes back."""
    store = store_get(store_id)
    outcome = store_sync_request(store=store, actor=request.user)
    if _wants_json(request):
        after = outcome.after_run_id if outcome.is_queued else None
        status_url = reverse("dashboard:store_sync_status", args=[store.pk])
        progress = store_sync_progress(store=store_get(store_id), after_run_id=after)
        return JsonResponse(
            _sync_progress_payload(
                request,
                progress,
                status_url=f"{status_url}?after={after}" if outcome.is_queued else "",
            )
        )
    if outcome.is_queued:
        messages.success(
            request,
            _("A sync of %(name)s has been requested. Its result appears in the sync log.")
            % {"name": store.name},
        )
    else:
        messages.warning(
            request,
            _("%(name)s is not synced now. %(waiting_for)s")
            % {"name": store.name, "waiting_for": outcome.waiting_for},
        )
    return _redirect_back(request, reverse("dashboard:store_list"))


@never_cache
@require_GET
@permission_for("store_sync_status")
def store_sync_status(request, store_id):
    """JSON for the Sync now script: the requested sync's progress (the first run after the
    run id `after`), or the latest run's."""
    store = store_get(store_id)
    after = request.GET.get("after", "")
    after_run_id = int(after) if after.isdigit() and len(after) < 19 else None
    progress = store_sync_progress(store=store, after_run_id=after_run_id)
    return JsonResponse(_sync_progress_payload(request, progress))


@require_GET
@permission_for("store_reauthorize")
def store_reauthorize_page(request, store_id):
    """Reauthorize: the form for a new refresh token, which posts to store_reauthorize_save."""
    store = store_get(store_id)
    return render(
        request,
        "dashboard/store_reauthorize.html",
        {"store": store, "form": StoreReauthorizeForm()},
    )


@require_POST
@permission_for("store_reauthorize_save")
def store_reauthorize_save(request, store_id):
    store = store_get(store_id)
    form = StoreReauthorizeForm(request.POST)
    if form.is_valid():
        try:
            outcome = store_reauthorize(
                store=store, actor=request.user, refresh_token=form.cleaned_data["refresh_token"]
            )
        except StoreEndpointRefused as error:
            form.add_error("refresh_token", error.message)
        else:
            detail_url = reverse("dashboard:store_detail", args=[store.pk])
            if not outcome.is_queued:
                messages.success(
                    request, _("Store %(name)s is reauthorized.") % {"name": store.name}
                )
                return HttpResponseRedirect(detail_url)
            messages.success(
                request,
                _("Store %(name)s is reauthorized: a sync has been requested.")
                % {"name": store.name},
            )
            # The store's page follows that sync to its result.
            return HttpResponseRedirect(f"{detail_url}?following_sync={outcome.after_run_id}")
    return render(
        request, "dashboard/store_reauthorize.html", {"store": store, "form": form}, status=400
    )


# Amazon orders


@never_cache
@require_GET
@permission_for("order_list")
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
        "address_edit_refusal": shipping_address_edit_refusal(order),
    }


@never_cache
@require_GET
@permission_for("order_detail")
def order_detail(request, store_id, order_id):
    store = store_get(store_id)
    order = amazon_order_detail(store=store, order_id=order_id)
    return render(
        request, "dashboard/order_detail.html", _order_detail_context(request, store, order)
    )


@never_cache
@require_POST
@permission_for("order_shipping_address_update")
def order_shipping_address_update(request, store_id, order_id):
    store = store_get(store_id)
    form = ShippingAddressForm(request.POST)
    if not form.is_valid():
        order = amazon_order_detail(store=store, order_id=order_id)
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
            "html": render_to_string(
                "partials/order_cancellation_notice.html", context, request=request
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


# Commerce orders


def _commerce_order_or_404(order_id):
    order = order_view(order_id=order_id)
    if order is None:
        raise Http404(_("This order no longer exists."))
    return order


def _commerce_order_redirect(order):
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
        return _redirect_back(request, reverse("dashboard:commerce_order_list"))
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
        return _redirect_back(request, reverse("dashboard:commerce_order_list"))
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
    return _redirect_back(request, reverse("dashboard:commerce_order_list"))


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


def _commerce_order_context(request, order, *, comment_form=None, correction_form=None) -> dict:
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
    order = _commerce_order_or_404(order_id)
    return render(
        request, "dashboard/commerce_order_detail.html", _commerce_order_context(request, order)
    )


def _commerce_order_action(request, order_id, service, success_message):
    """Run a one-click order action; a refusal is shown as a message, never a 500."""
    order = _commerce_order_or_404(order_id)
    try:
        service(actor=request.user, order=order)
    except CommerceOrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success_message)
    return _commerce_order_redirect(order)


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
    order = _commerce_order_or_404(order_id)
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
    order = _commerce_order_or_404(order_id)
    try:
        is_sent = commerce_services.order_email_send(actor=request.user, order=order)
    except CommerceOrderError as error:
        messages.error(request, str(error))
    else:
        if is_sent:
            messages.success(request, _("You sent the order email."))
        else:
            messages.error(request, _("The order has no customer email to send it to."))
    return _commerce_order_redirect(order)


@never_cache
@require_POST
@permission_for("commerce_order_comment_add")
def commerce_order_comment_add(request, order_id):
    order = _commerce_order_or_404(order_id)
    form = OrderCommentForm(request.POST)
    if not form.is_valid():
        context = _commerce_order_context(request, order, comment_form=form)
        return render(request, "dashboard/commerce_order_detail.html", context, status=400)
    try:
        commerce_services.order_comment_add(actor=request.user, order=order, **form.cleaned_data)
    except CommerceOrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You added a comment to the order."))
    return _commerce_order_redirect(order)


def _document_page(request, order_id, *, form_class, action, template, refusal=None):
    """The Ship and Credit Memo pages: a form of item quantities, while the action is open.
    `refusal(order)`, if given, returns an error that closes the page (with its message)."""
    order = _commerce_order_or_404(order_id)
    problem = refusal(order) if refusal is not None else None
    if problem is not None:
        messages.error(request, str(problem))
        return _commerce_order_redirect(order)
    if action not in order_actions_available(order):
        messages.error(
            request,
            _("%(action)s is not available for order #%(number)s now.")
            % {"action": action.label, "number": order.increment_id},
        )
        return _commerce_order_redirect(order)
    return render(request, template, {"order": order, "form": form_class(order=order)})


def _document_save(request, order_id, *, form_class, template, create, page):
    """What the Ship and Credit Memo forms post: `create(order, form)` calls the service and
    returns the success message. Errors and a refusal are shown on the form, which stays the
    form's page (`page`, its URL name) for the address bar and the language menu: this POST-only
    URL would answer them 405."""
    order = _commerce_order_or_404(order_id)
    form = form_class(request.POST, order=order)
    if form.is_valid():
        try:
            success_message = create(order, form)
        except CommerceOrderError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, success_message)
            return _commerce_order_redirect(order)
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
    order = _commerce_order_or_404(order_id)
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
        return _commerce_order_redirect(order)
    messages.success(request, _("The message will be sent to Amazon again."))
    return _commerce_order_redirect(order)


@never_cache
@require_POST
@permission_for("commerce_order_shipment_correct")
def commerce_order_shipment_correct(request, order_id, shipment_id):
    """Correct and send again: a shipment Amazon refused, with its carrier and tracking number
    corrected; errors are shown on the order view beside the shipment."""
    order = _commerce_order_or_404(order_id)
    shipment = next((row for row in order.shipments.all() if row.pk == shipment_id), None)
    if shipment is None:
        raise Http404(_("This order has no such shipment."))
    form = ShipmentCorrectionForm(request.POST, shipment=shipment)
    if not form.is_valid():
        context = _commerce_order_context(request, order, correction_form=form)
        return render(request, "dashboard/commerce_order_detail.html", context, status=400)
    try:
        commerce_shipment_correct(actor=request.user, shipment=shipment, **form.cleaned_data)
    except (CommerceOrderError, RetryNotAllowed) as refusal:
        messages.error(request, str(refusal))
        return _commerce_order_redirect(order)
    messages.success(request, _("The corrected shipment will be sent to Amazon again."))
    return _commerce_order_redirect(order)
