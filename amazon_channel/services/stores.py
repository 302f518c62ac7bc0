"""Connecting stores, switching them on and off, and their sync schedules."""

import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from amazon_channel.marketplaces import (
    MARKETPLACES,
    TOKEN_ENDPOINT,
    endpoint_environment_problem,
    region_endpoint,
)
from amazon_channel.models import Store, StoreEvent, SyncRun, SyncState
from amazon_channel.schedules import STORE_SYNC_TASK, store_sync_task_name
from amazon_channel.spapi import AmazonClient, AmazonError

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
# Written by the sync, not by people: not "settings" of an event.
SYNC_FIELDS = ("sync_state", "sync_state_message", "orders_watermark", "created_at", "updated_at")


@dataclass(frozen=True)
class StoreCredentials:
    lwa_client_id: str
    lwa_client_secret: str
    refresh_token: str


class StoreEndpointRefused(ValueError):
    """The SP-API endpoint belongs to the other environment (a sandbox store at an Amazon
    production host, or the reverse); `message` says why in plain words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def store_endpoint_resolve(*, region: str, environment: str, sp_api_endpoint: str | None) -> str:
    """The SP-API endpoint a store of `environment` in `region` uses: the one given, else
    Amazon's host of the region for that environment (sandbox.sellingpartnerapi-<region> for a
    sandbox store). Raises StoreEndpointRefused when the endpoint is an Amazon host of the
    other environment; hosts that are not Amazon's (our Seller Central sandbox) are kept."""
    endpoint = (sp_api_endpoint or "").strip() or region_endpoint(
        region=region, environment=environment
    )
    problem = endpoint_environment_problem(
        endpoint=endpoint, environment=environment, region=region
    )
    if problem:
        raise StoreEndpointRefused(problem)
    return endpoint


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


def store_event_record(
    *,
    store: Store,
    actor: AbstractBaseUser | None,
    kind: str,
    changes: dict | None = None,
    message: str = "",
) -> StoreEvent:
    """Append a row to the store's history; call it inside the transaction of the change."""
    return StoreEvent.objects.create(
        store=store, actor=actor, kind=kind, changes=changes or {}, message=message
    )


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
    the other environment (nothing is written).
    """
    marketplace = MARKETPLACES[marketplace_code.upper()]
    values = {
        "name": name,
        "region": marketplace.region,
        "marketplace_code": marketplace.code,
        "environment": environment,
        "sp_api_endpoint": store_endpoint_resolve(
            region=marketplace.region, environment=environment, sp_api_endpoint=sp_api_endpoint
        ),
        "token_endpoint": token_endpoint or TOKEN_ENDPOINT,
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
        store_event_record(store=store, actor=actor, kind=StoreEvent.Kind.CONNECTED)
    else:
        changes = _setting_changes(
            before, store, [name for name in values if name not in SYNC_FIELDS]
        )
        if any(getattr(before, name) != getattr(store, name) for name in CREDENTIAL_FIELDS):
            store_event_record(
                store=store, actor=actor, kind=StoreEvent.Kind.CREDENTIALS_UPDATED, changes=changes
            )
        elif changes:
            store_event_record(
                store=store, actor=actor, kind=StoreEvent.Kind.SETTINGS_CHANGED, changes=changes
            )
    store_schedule_update(store=store)
    return store, created


@transaction.atomic
def store_set_active(*, store: Store, actor: AbstractBaseUser | None, is_active: bool) -> Store:
    """Activate or deactivate a store; a deactivated store's scheduled sync stops.

    A change is recorded as "activated" / "deactivated" naming `actor`; no change, no event.
    """
    store = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
    if store.is_active != is_active:
        store.is_active = is_active
        store.save(update_fields=["is_active", "updated_at"])
        store_event_record(
            store=store,
            actor=actor,
            kind=StoreEvent.Kind.ACTIVATED if is_active else StoreEvent.Kind.DEACTIVATED,
        )
    store_schedule_update(store=store)
    return store


@transaction.atomic
def store_sync_request(
    *, store: Store, actor: AbstractBaseUser | None, kind: str = SyncRun.Kind.MANUAL
) -> None:
    """Sync now: records "sync requested" naming `actor` and queues a sync of the store once
    the transaction commits."""
    from amazon_channel.tasks import store_sync_orders

    store_event_record(store=store, actor=actor, kind=StoreEvent.Kind.SYNC_REQUESTED)
    store_sync_orders.delay_on_commit(store_id=store.pk, kind=kind)


@transaction.atomic
def store_save(*, store: Store, actor: AbstractBaseUser | None) -> Store:
    """Save a store edited as a whole (Django admin), recording what changed naming `actor`:
    "connected" for a new store, else "credentials updated" (no values), "activated" /
    "deactivated", and "settings changed" with old -> new of every other field.
    Raises StoreEndpointRefused (nothing saved) when its SP-API endpoint is an Amazon host of
    the other environment."""
    store.sp_api_endpoint = store_endpoint_resolve(
        region=store.region, environment=store.environment, sp_api_endpoint=store.sp_api_endpoint
    )
    if store.pk is None:
        store.save()
        store_event_record(store=store, actor=actor, kind=StoreEvent.Kind.CONNECTED)
        store_schedule_update(store=store)
        return store
    before = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
    names = [
        field.name
        for field in Store._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in SYNC_FIELDS
    ]
    # Not the sync's fields: the sync may have moved them since the page was loaded.
    store.save(update_fields=[*names, "updated_at"])
    if any(getattr(before, name) != getattr(store, name) for name in CREDENTIAL_FIELDS):
        store_event_record(store=store, actor=actor, kind=StoreEvent.Kind.CREDENTIALS_UPDATED)
    if before.is_active != store.is_active:
        store_event_record(
            store=store,
            actor=actor,
            kind=StoreEvent.Kind.ACTIVATED if store.is_active else StoreEvent.Kind.DEACTIVATED,
        )
    changes = _setting_changes(before, store, [name for name in names if name != "is_active"])
    if changes:
        store_event_record(
            store=store, actor=actor, kind=StoreEvent.Kind.SETTINGS_CHANGED, changes=changes
        )
    store_schedule_update(store=store)
    return store


def store_connection_check(*, store: Store) -> str | None:
    """None when Amazon accepts the store's credentials and lists the store's marketplace among
    those the seller participates in (getMarketplaceParticipations), else what went wrong."""
    try:
        AmazonClient(store).check_connection()
    except AmazonError as error:
        return error.message
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
    else what went wrong in plain words (an endpoint of the other environment is refused
    before anything is sent).
    """
    marketplace = MARKETPLACES[marketplace_code.upper()]
    try:
        sp_api_endpoint = store_endpoint_resolve(
            region=marketplace.region, environment=environment, sp_api_endpoint=sp_api_endpoint
        )
    except StoreEndpointRefused as error:
        return error.message
    unsaved = Store(
        seller_id=seller_id,
        marketplace_id=marketplace.marketplace_id,
        marketplace_code=marketplace.code,
        region=marketplace.region,
        environment=environment,
        sp_api_endpoint=sp_api_endpoint,
        token_endpoint=token_endpoint or TOKEN_ENDPOINT,
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
            store_event_record(
                store=locked, actor=actor, kind=StoreEvent.Kind.SETTINGS_CHANGED, changes=changes
            )
    return locked
