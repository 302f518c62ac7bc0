"""Connecting stores, switching them on and off, and their sync schedules."""

import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from amazon_channel.marketplaces import MARKETPLACES, TOKEN_ENDPOINT
from amazon_channel.models import Store, SyncRun, SyncState
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


@dataclass(frozen=True)
class StoreCredentials:
    lwa_client_id: str
    lwa_client_secret: str
    refresh_token: str


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


@transaction.atomic
def store_connect(
    *,
    name: str,
    marketplace_code: str,
    seller_id: str,
    credentials: StoreCredentials,
    environment: str = Store.Environment.PRODUCTION,
    sp_api_endpoint: str | None = None,
    token_endpoint: str | None = None,
) -> tuple[Store, bool]:
    """Create or update the store of this seller and marketplace; returns (store, created).

    New credentials clear a "needs reauthorization" pause. Endpoints default to Amazon's
    production ones for the marketplace's region. Raises KeyError for an unknown marketplace.
    """
    marketplace = MARKETPLACES[marketplace_code.upper()]
    values = {
        "name": name,
        "region": marketplace.region,
        "marketplace_code": marketplace.code,
        "environment": environment,
        "sp_api_endpoint": sp_api_endpoint or marketplace.endpoint,
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
    for field_name, value in values.items():
        setattr(store, field_name, value)
    store.save()
    store_schedule_update(store=store)
    return store, created


@transaction.atomic
def store_set_active(*, store: Store, is_active: bool) -> Store:
    """Activate or deactivate a store; a deactivated store's scheduled sync stops."""
    store = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
    if store.is_active != is_active:
        store.is_active = is_active
        store.save(update_fields=["is_active", "updated_at"])
    store_schedule_update(store=store)
    return store


def store_sync_request(*, store: Store, kind: str = SyncRun.Kind.MANUAL) -> None:
    """Sync now: queue a sync of the store once the current transaction commits."""
    from amazon_channel.tasks import store_sync_orders

    store_sync_orders.delay_on_commit(store_id=store.pk, kind=kind)


def store_connection_check(*, store: Store) -> str | None:
    """None when Amazon accepts the store's credentials and answers, else what went wrong."""
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

    None when Amazon accepts the credentials, else what went wrong in plain words.
    """
    marketplace = MARKETPLACES[marketplace_code.upper()]
    unsaved = Store(
        seller_id=seller_id,
        marketplace_id=marketplace.marketplace_id,
        marketplace_code=marketplace.code,
        region=marketplace.region,
        environment=environment,
        sp_api_endpoint=sp_api_endpoint or marketplace.endpoint,
        token_endpoint=token_endpoint or TOKEN_ENDPOINT,
        lwa_client_id=credentials.lwa_client_id,
        lwa_client_secret=credentials.lwa_client_secret,
        refresh_token=credentials.refresh_token,
    )
    return store_connection_check(store=unsaved)


def store_order_settings_update(*, store: Store, actor: AbstractBaseUser, values: dict) -> Store:
    """Save the store's Order Settings (only ORDER_SETTINGS_FIELDS); returns the saved store.

    Raises ValueError for a field that is not an Order Setting.
    """
    unknown = set(values) - set(ORDER_SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"not Order Settings: {sorted(unknown)!r}")
    with transaction.atomic():
        locked = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
        changed = [name for name, value in values.items() if getattr(locked, name) != value]
        if changed:
            for name in changed:
                setattr(locked, name, values[name])
            locked.save(update_fields=[*changed, "updated_at"])
    return locked
