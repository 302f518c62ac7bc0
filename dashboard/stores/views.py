"""The store pages: the cards, connect, the store dashboard, settings, sync, reauthorize."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from amazon_channel.models import SyncState
from amazon_channel.selectors import (
    store_for_dashboard,
    store_get,
    store_list_for_cards,
    store_notifications_status,
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
)
from commerce_orders.selectors import order_statuses_in_use
from dashboard.navigation import redirect_back
from dashboard.permissions import VIEW_ORDER, permission_for
from dashboard.stores.forms import OrderSettingsForm, StoreConnectForm, StoreReauthorizeForm
from dashboard.templatetags.dashboard_extras import store_fragment_render

SYNC_LOG_PAGE_SIZE = 25


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
    return _settings_page(request, store, form)


def _settings_page(request, store, form):
    # Amazon's notifications are shown, never edited here: they follow the store's connection.
    return render(
        request,
        "dashboard/store_settings.html",
        {"store": store, "form": form, "notifications": store_notifications_status(store)},
    )


@require_POST
@permission_for("store_settings_save")
def store_settings_save(request, store_id):
    store = store_get(store_id)
    form = OrderSettingsForm(request.POST, instance=store, statuses=order_statuses_in_use())
    if not form.is_valid():
        return _settings_page(request, store, form)
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
    return redirect_back(request, reverse("dashboard:store_list"))


@require_POST
@permission_for("store_deactivate")
def store_deactivate(request, store_id):
    store = store_set_active(store=store_get(store_id), actor=request.user, is_active=False)
    messages.success(
        request,
        _("Store %(name)s is inactive: its orders are no longer synced.") % {"name": store.name},
    )
    return redirect_back(request, reverse("dashboard:store_list"))


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
        "status_html": store_fragment_render("partials/store_status.html", context),
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
    return redirect_back(request, reverse("dashboard:store_list"))


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
