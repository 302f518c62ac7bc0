"""Connecting stores, switching them on and off, and their sync schedules."""

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from amazon_channel.enqueue import (
    outbox_delivery_enqueue,
    store_notifications_subscribe_enqueue,
    store_notifications_unsubscribe_enqueue,
    store_sync_enqueue,
)
from amazon_channel.events import (
    store_activation_changed,
    store_connected,
    store_credentials_updated,
    store_reauthorization_needed,
    store_reauthorized,
    store_settings_changed,
    store_sync_requested,
)
from amazon_channel.models import Store, SyncRun, SyncState
from amazon_channel.spapi.client import AmazonClient, AmazonError
from amazon_channel.spapi.marketplaces import (
    MARKETPLACES,
    TOKEN_ENDPOINT,
    endpoint_environment_problem,
    region_endpoint,
    sp_api_endpoint_host_problem,
    token_endpoint_host_problem,
)
from amazon_channel.stores.schedules import STORE_SYNC_TASK, store_sync_task_name
from amazon_channel.transitions import store_sync_state_transition
from commerce_orders.notes import note_render, sentence_render

ORDER_SETTINGS_FIELDS = (
    "is_import_enabled",
    "customer_creation",
    "order_number_source",
    "is_pending_quantity_reserved",
    "order_status_source",
    "processing_status",
)
# Never copied into an event: an event says that they changed, not what they are.
CREDENTIAL_FIELDS = ("lwa_client_id", "lwa_client_secret", "refresh_token")
# Typed in, never shown: blank keeps the stored value, except where an endpoint changes.
SECRET_FIELDS = ("lwa_client_secret", "refresh_token")
ENDPOINT_FIELDS = ("sp_api_endpoint", "token_endpoint")
# Written by the sync, not by people: not "settings" of an event.
SYNC_FIELDS = ("sync_state", "sync_state_message", "orders_watermark", "created_at", "updated_at")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreCredentials:
    lwa_client_id: str
    lwa_client_secret: str
    refresh_token: str


class StoreEndpointRefused(ValueError):
    """An endpoint the store must not use: an Amazon host of the other environment (a sandbox
    store at a production host, or the reverse), or a host that is not Amazon's outside the
    Seller Central sandbox. `message` says why in plain words, in the active language (a form
    shows it), `field_name` which endpoint."""

    def __init__(self, message: str, *, field_name: str = "sp_api_endpoint"):
        super().__init__(message)
        self.message = message
        self.field_name = field_name


class StoreCredentialsRequired(StoreEndpointRefused):
    """An endpoint changed, or a store was added, without the client secret and the refresh
    token typed in: stored secrets only ever go to the endpoints they were entered for."""

    def __init__(self, message: str):
        super().__init__(message, field_name="lwa_client_secret")


def store_endpoint_resolve(*, region: str, environment: str, sp_api_endpoint: str | None) -> str:
    """The SP-API endpoint a store of `environment` in `region` uses: the one given, else
    Amazon's host of the region for that environment (sandbox.sellingpartnerapi-<region> for a
    sandbox store). Raises StoreEndpointRefused when the endpoint is an Amazon host of the
    other environment, or not one of Amazon's SP-API hosts while the Seller Central sandbox is
    off (with the sandbox on, other hosts such as the sandbox's are kept)."""
    endpoint = (sp_api_endpoint or "").strip() or region_endpoint(
        region=region, environment=environment
    )
    problem = endpoint_environment_problem(
        endpoint=endpoint, environment=environment, region=region
    ) or sp_api_endpoint_host_problem(endpoint=endpoint)
    if problem:
        raise StoreEndpointRefused(note_render(problem))
    return endpoint


def store_token_endpoint_resolve(*, token_endpoint: str | None) -> str:
    """The Login with Amazon token endpoint a store uses: the one given, else Amazon's
    (https://api.amazon.com/auth/o2/token). Raises StoreEndpointRefused (field
    "token_endpoint") for a host that is not Login with Amazon's while the Seller Central
    sandbox is off."""
    endpoint = (token_endpoint or "").strip() or TOKEN_ENDPOINT
    problem = token_endpoint_host_problem(endpoint=endpoint)
    if problem:
        raise StoreEndpointRefused(note_render(problem), field_name="token_endpoint")
    return endpoint


def _secrets_require(**arguments) -> None:
    """Raise StoreCredentialsRequired with store_secrets_problem's reason, if it has one."""
    problem = store_secrets_problem(**arguments)
    if problem:
        raise StoreCredentialsRequired(problem)


def store_secrets_problem(
    *,
    stored: Store | None,
    endpoints: dict | None = None,
    lwa_client_secret: str,
    refresh_token: str,
) -> str | None:
    """Why the change must not be saved as it is, or None when it may: a new store needs both
    secrets, and so does a change of either endpoint (`endpoints`: the resolved
    {"sp_api_endpoint": ..., "token_endpoint": ...}, read only for a `stored` store).
    Otherwise a person who may change stores but does not know the secrets could point the
    endpoints at a server of theirs and have the next sync send them the stored secrets (the
    refresh-token grant posts the client secret and the refresh token) or access tokens."""
    if lwa_client_secret and refresh_token:
        return None
    if stored is None:
        return gettext("Enter the LWA client secret and the refresh token.")
    if all(getattr(stored, name) == (endpoints or {}).get(name) for name in ENDPOINT_FIELDS):
        return None
    return gettext(
        "Changing the SP-API endpoint or the token endpoint needs the LWA client secret and "
        "the refresh token entered again: stored credentials are only sent to the endpoints "
        "they were entered for."
    )


def store_schedule_update(*, store: Store) -> PeriodicTask:
    """Create or update the store's beat entry: enabled while the store is active and not paused.

    An interval that ops changed in Django admin is kept.
    """
    every = settings.AMAZON_SYNC_INTERVAL_SECONDS
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=every, period=IntervalSchedule.SECONDS
    )
    task, created = PeriodicTask.objects.get_or_create(
        name=store_sync_task_name(store.pk),
        defaults={
            "task": STORE_SYNC_TASK,
            "interval": interval,
            "kwargs": json.dumps({"store_id": store.pk}),
            # Due at once: a newly connected store is read right away, then every interval.
            "last_run_at": timezone.now() - timedelta(seconds=every),
        },
    )
    is_enabled = store.is_active and store.sync_state != SyncState.NEEDS_REAUTHORIZATION
    if created or task.enabled != is_enabled:
        task.enabled = is_enabled
        task.save()
    return task


def store_problem_report(store_id: int, state: str, message: str) -> None:
    """Show why the store cannot reach Amazon (its sync state and message); a newly needed
    reauthorization is recorded as a store event and pauses the scheduled sync."""
    with transaction.atomic():
        store = Store.objects.select_for_update(of=("self",)).get(pk=store_id)
        if store.sync_state == SyncState.NEEDS_REAUTHORIZATION and state == SyncState.ERROR:
            # A sync that began before the pause ended in an error: the pause says more, and
            # only Reauthorize lifts it.
            logger.info("Store %s: error of a sync begun before its pause not shown", store_id)
            return
        is_newly_paused = state == SyncState.NEEDS_REAUTHORIZATION and store.sync_state != state
        store_sync_state_transition(
            store,
            state,
            fields={"sync_state_message": message},
            event=(
                (lambda paused: store_reauthorization_needed(store=paused, message=message))
                if is_newly_paused
                else None
            ),
            is_locked=True,
        )
    if state == SyncState.NEEDS_REAUTHORIZATION:
        store_schedule_update(store=store)


def _setting_changes(before: Store, after: Store, names) -> dict:
    """{name: [old, new]} of the named fields that differ; credentials are never named."""
    return {
        name: [getattr(before, name), getattr(after, name)]
        for name in names
        if name not in CREDENTIAL_FIELDS and getattr(before, name) != getattr(after, name)
    }


@transaction.atomic
def store_connect(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    marketplace_code: str,
    seller_id: str,
    credentials: StoreCredentials,
    environment: str = Store.Environment.PRODUCTION,
    sp_api_endpoint: str | None = None,
    token_endpoint: str | None = None,
) -> tuple[Store, bool]:
    """Create or update the store of this seller and marketplace; returns (store, created).

    New credentials clear a "needs reauthorization" pause. The SP-API endpoint defaults to
    Amazon's host of the marketplace's region for `environment` (its sandbox host for a sandbox
    store), the token endpoint to Login with Amazon. Records "connected", "credentials updated"
    (with the other fields that changed) or "settings changed" naming `actor`, None for the
    system; connecting again with the same values records nothing.
    Raises KeyError for an unknown marketplace, StoreEndpointRefused for an Amazon endpoint of
    the other environment or, while the Seller Central sandbox is off, an endpoint that is not
    Amazon's, and StoreCredentialsRequired for a blank client secret or refresh token (nothing
    is written).
    """
    marketplace = MARKETPLACES[marketplace_code.upper()]
    # The secrets always come with the endpoints here, so they are bound to them by nature.
    _secrets_require(
        stored=None,
        lwa_client_secret=credentials.lwa_client_secret,
        refresh_token=credentials.refresh_token,
    )
    values = {
        "name": name,
        "region": marketplace.region,
        "marketplace_code": marketplace.code,
        "environment": environment,
        "sp_api_endpoint": store_endpoint_resolve(
            region=marketplace.region, environment=environment, sp_api_endpoint=sp_api_endpoint
        ),
        "token_endpoint": store_token_endpoint_resolve(token_endpoint=token_endpoint),
        "lwa_client_id": credentials.lwa_client_id,
        "lwa_client_secret": credentials.lwa_client_secret,
        "refresh_token": credentials.refresh_token,
        "sync_state": SyncState.OK,
        "sync_state_message": "",
    }
    store = (
        Store.objects.select_for_update()
        .filter(
            seller_id=seller_id, marketplace_id=marketplace.marketplace_id, environment=environment
        )
        .first()
    )
    created = store is None
    if created:
        store = Store(seller_id=seller_id, marketplace_id=marketplace.marketplace_id)
    before = Store(**{name: getattr(store, name) for name in values})
    for field_name, value in values.items():
        setattr(store, field_name, value)
    store.save()
    if created:
        store_connected(store=store, actor=actor)
    else:
        changes = _setting_changes(
            before, store, [name for name in values if name not in SYNC_FIELDS]
        )
        if any(getattr(before, name) != getattr(store, name) for name in CREDENTIAL_FIELDS):
            store_credentials_updated(store=store, actor=actor, changes=changes)
        elif changes:
            store_settings_changed(store=store, actor=actor, changes=changes)
    if created or _is_amazon_account_changed(before, store):
        store_notifications_subscribe_enqueue(store_id=store.pk)
    store_schedule_update(store=store)
    return store, created


def _is_amazon_account_changed(before: Store, after: Store) -> bool:
    """New credentials or endpoints: the seller's notifications are set up (again)."""
    return any(
        getattr(before, name) != getattr(after, name)
        for name in (*CREDENTIAL_FIELDS, *ENDPOINT_FIELDS, "seller_id")
    )


@transaction.atomic
def store_set_active(*, store: Store, actor: AbstractBaseUser | None, is_active: bool) -> Store:
    """Activate or deactivate a store; a deactivated store's scheduled sync stops.

    A change is recorded as "activated" / "deactivated" naming `actor`; no change, no event.
    """
    store = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
    if store.is_active != is_active:
        store.is_active = is_active
        store.save(update_fields=["is_active", "updated_at"])
        store_activation_changed(store=store, actor=actor, is_active=is_active)
        _notifications_follow_activation(store)
    store_schedule_update(store=store)
    return store


def store_notifications_subscribe_request(*, store: Store) -> bool:
    """Ops (Django admin, `manage.py notifications_subscribe`): queue the setup of the store's
    notifications; False (nothing queued) for an inactive store or while the notifications queue
    is not configured."""
    if not store.is_active or not settings.AMAZON_NOTIFICATIONS_QUEUE_URL:
        return False
    store_notifications_subscribe_enqueue(store_id=store.pk)
    return True


def _notifications_follow_activation(store: Store) -> None:
    # An active store has its seller subscribed; a store switched off lets the subscriptions go
    # unless another active store of the seller uses them (amazon_channel/notifications/setup.py).
    if store.is_active:
        store_notifications_subscribe_enqueue(store_id=store.pk)
    else:
        store_notifications_unsubscribe_enqueue(store_id=store.pk)


@dataclass(frozen=True)
class SyncRequestOutcome:
    """What Sync now did: queued a sync, or nothing, and then `waiting_for` says what the store
    waits for in plain words. The requested sync is the store's first run after
    `after_run_id` (a run already going on counts as it)."""

    is_queued: bool
    after_run_id: int = 0
    waiting_for: str = ""


def store_waiting_for(store: Store) -> str:
    """What keeps the store from reaching Amazon, in plain words; "" when nothing does."""
    if store.sync_state == SyncState.NEEDS_REAUTHORIZATION:
        return gettext("Waiting for the store to be reauthorized.")
    if not store.is_active:
        return gettext("Waiting for the store to be activated.")
    return ""


@transaction.atomic
def store_sync_request(
    *, store: Store, actor: AbstractBaseUser | None, kind: str = SyncRun.Kind.MANUAL
) -> SyncRequestOutcome:
    """Sync now: records "sync requested" naming `actor` and queues a sync of the store once
    the transaction commits. An inactive store, or one that needs reauthorization, is not
    synced (nothing recorded, nothing queued): the outcome says what it waits for."""
    store = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
    waiting_for = store_waiting_for(store)
    if waiting_for:
        return SyncRequestOutcome(is_queued=False, waiting_for=waiting_for)
    store_sync_requested(store=store, actor=actor)
    store_sync_enqueue(store_id=store.pk, kind=kind)
    return SyncRequestOutcome(is_queued=True, after_run_id=_requested_run_after(store))


def _requested_run_after(store: Store) -> int:
    """The run id a sync requested now comes after: a running run is the one that answers (a
    second is not started beside it), else the next run."""
    runs = SyncRun.objects.filter(store=store).order_by("-pk")
    running = runs.filter(status=SyncRun.Status.RUNNING).values_list("pk", flat=True).first()
    if running is not None:
        return running - 1
    return runs.values_list("pk", flat=True).first() or 0


@transaction.atomic
def store_reauthorize(
    *, store: Store, actor: AbstractBaseUser | None, refresh_token: str
) -> SyncRequestOutcome:
    """Reauthorize: store the new refresh token (encrypted like every credential), clear a
    "needs reauthorization" pause, record "reauthorized" naming `actor` (never the token),
    switch the scheduled sync back on, and queue a sync (an active store's; the outcome says
    which run to follow) and the delivery of the messages that waited, once the transaction
    commits. Raises StoreCredentialsRequired for a blank token (nothing written). The token
    goes only to the endpoints already stored."""
    refresh_token = refresh_token.strip()
    if not refresh_token:
        raise StoreCredentialsRequired(gettext("Enter the new refresh token."))
    store = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
    store.refresh_token = refresh_token
    if store.sync_state == SyncState.NEEDS_REAUTHORIZATION:
        store_sync_state_transition(
            store,
            SyncState.OK,
            fields={"sync_state_message": "", "refresh_token": refresh_token},
            event=lambda reauthorized: store_reauthorized(store=reauthorized, actor=actor),
            is_locked=True,
        )
    else:
        store.save(update_fields=["refresh_token", "updated_at"])
        store_reauthorized(store=store, actor=actor)
    store_schedule_update(store=store)
    outbox_delivery_enqueue(store_id=store.pk)
    store_notifications_subscribe_enqueue(store_id=store.pk)
    if not store.is_active:
        return SyncRequestOutcome(is_queued=False, waiting_for=store_waiting_for(store))
    store_sync_enqueue(store_id=store.pk, kind=SyncRun.Kind.MANUAL)
    return SyncRequestOutcome(is_queued=True, after_run_id=_requested_run_after(store))


@transaction.atomic
def store_save(*, store: Store, actor: AbstractBaseUser | None) -> Store:
    """Save a store edited as a whole (Django admin), recording what changed naming `actor`:
    "connected" for a new store, else "credentials updated" (no values), "activated" /
    "deactivated", and "settings changed" with old -> new of every other field.

    A blank client secret or refresh token keeps the stored one, unless an endpoint changes:
    then both must be given (typing the same values again is fine).
    Raises StoreEndpointRefused (nothing saved) when its SP-API endpoint is an Amazon host of
    the other environment, or an endpoint is not Amazon's while the Seller Central sandbox is
    off; StoreCredentialsRequired when an endpoint changes (or a store is added) without both
    secrets."""
    store.sp_api_endpoint = store_endpoint_resolve(
        region=store.region, environment=store.environment, sp_api_endpoint=store.sp_api_endpoint
    )
    store.token_endpoint = store_token_endpoint_resolve(token_endpoint=store.token_endpoint)
    if store.pk is None:
        _secrets_require(
            stored=None,
            lwa_client_secret=store.lwa_client_secret,
            refresh_token=store.refresh_token,
        )
        store.save()
        store_connected(store=store, actor=actor)
        store_notifications_subscribe_enqueue(store_id=store.pk)
        store_schedule_update(store=store)
        return store
    before = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
    _secrets_require(
        stored=before,
        endpoints={name: getattr(store, name) for name in ENDPOINT_FIELDS},
        lwa_client_secret=store.lwa_client_secret,
        refresh_token=store.refresh_token,
    )
    for name in SECRET_FIELDS:
        if not getattr(store, name):
            setattr(store, name, getattr(before, name))
    names = [
        field.name
        for field in Store._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in SYNC_FIELDS
    ]
    # Not the sync's fields: the sync may have moved them since the page was loaded.
    store.save(update_fields=[*names, "updated_at"])
    if any(getattr(before, name) != getattr(store, name) for name in CREDENTIAL_FIELDS):
        store_credentials_updated(store=store, actor=actor)
    if before.is_active != store.is_active:
        store_activation_changed(store=store, actor=actor, is_active=store.is_active)
        _notifications_follow_activation(store)
    elif store.is_active and _is_amazon_account_changed(before, store):
        store_notifications_subscribe_enqueue(store_id=store.pk)
    changes = _setting_changes(before, store, [name for name in names if name != "is_active"])
    if changes:
        store_settings_changed(store=store, actor=actor, changes=changes)
    store_schedule_update(store=store)
    return store


def store_connection_check(*, store: Store) -> str | None:
    """None when Amazon accepts the store's credentials and lists the store's marketplace among
    those the seller participates in (getMarketplaceParticipations), else what went wrong, in
    the active language."""
    try:
        AmazonClient(store).check_connection()
    except AmazonError as error:
        # Written in English (commerce_orders.notes.note_english): said in the active language.
        return sentence_render(error.message)
    return None


def store_connection_test(
    *,
    marketplace_code: str,
    seller_id: str,
    credentials: StoreCredentials,
    environment: str = Store.Environment.PRODUCTION,
    sp_api_endpoint: str | None = None,
    token_endpoint: str | None = None,
) -> str | None:
    """Test connection before saving: the same arguments as store_connect, nothing written.

    None when Amazon accepts the credentials and the seller participates in the marketplace,
    else what went wrong in plain words, in the active language. An endpoint store_connect
    would refuse (the other environment's, or not Amazon's while the Seller Central sandbox is
    off) is refused before
    anything is sent; a failure to reach the endpoints or to read their answer gets one
    message whatever answered, so that the test says nothing about other hosts and ports.
    """
    marketplace = MARKETPLACES[marketplace_code.upper()]
    try:
        sp_api_endpoint = store_endpoint_resolve(
            region=marketplace.region, environment=environment, sp_api_endpoint=sp_api_endpoint
        )
        token_endpoint = store_token_endpoint_resolve(token_endpoint=token_endpoint)
    except StoreEndpointRefused as error:
        return error.message
    unsaved = Store(
        seller_id=seller_id,
        marketplace_id=marketplace.marketplace_id,
        marketplace_code=marketplace.code,
        region=marketplace.region,
        environment=environment,
        sp_api_endpoint=sp_api_endpoint,
        token_endpoint=token_endpoint,
        lwa_client_id=credentials.lwa_client_id,
        lwa_client_secret=credentials.lwa_client_secret,
        refresh_token=credentials.refresh_token,
    )
    return store_connection_check(store=unsaved)


def store_order_settings_update(
    *, store: Store, actor: AbstractBaseUser | None, values: dict
) -> Store:
    """Save the store's Order Settings (only ORDER_SETTINGS_FIELDS); returns the saved store.

    What changed is recorded as "settings changed", old -> new, naming `actor`; no change, no
    event. Raises ValueError for a field that is not an Order Setting.
    """
    unknown = set(values) - set(ORDER_SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"not Order Settings: {sorted(unknown)!r}")
    with transaction.atomic():
        locked = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
        changes = {
            name: [getattr(locked, name), value]
            for name, value in values.items()
            if getattr(locked, name) != value
        }
        if changes:
            for name in changes:
                setattr(locked, name, values[name])
            locked.save(update_fields=[*changes, "updated_at"])
            store_settings_changed(store=locked, actor=actor, changes=changes)
    return locked
