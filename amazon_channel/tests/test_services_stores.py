"""Store history: every change of a store is an event naming who made it, and never holds a
credential."""

import json

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from amazon_channel.models import Store, StoreEvent, SyncState
from amazon_channel.stores.services import (
    StoreCredentials,
    store_connect,
    store_order_settings_update,
    store_problem_report,
    store_schedule_update,
    store_set_active,
)
from amazon_channel.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant(django_user_model):
    return django_user_model.objects.create_user("anna", password="x" * 20)


def kinds(store) -> list[str]:
    return list(StoreEvent.objects.filter(store=store).values_list("kind", flat=True))


def test_saving_order_settings_records_each_change_old_and_new_naming_the_user(merchant):
    store = StoreFactory(is_import_enabled=False, customer_creation=Store.CustomerCreation.GUEST)

    store_order_settings_update(
        store=store,
        actor=merchant,
        values={
            "is_import_enabled": True,
            "customer_creation": Store.CustomerCreation.NEW_ACCOUNT,
            "processing_status": store.processing_status,
        },
    )

    [event] = StoreEvent.objects.filter(store=store)
    assert (event.kind, event.actor) == (StoreEvent.Kind.SETTINGS_CHANGED, merchant)
    assert event.changes == {
        "is_import_enabled": [False, True],
        "customer_creation": ["guest", "new_account"],
    }
    assert event.change_lines == [
        "Import Amazon Orders: Disabled \u2192 Enabled",
        "Customer Creation: Guest \u2192 Build new customer account",
    ]


def test_saving_unchanged_order_settings_records_nothing(merchant):
    store = StoreFactory(is_import_enabled=True)

    store_order_settings_update(store=store, actor=merchant, values={"is_import_enabled": True})

    assert kinds(store) == []


def test_switching_a_store_off_and_on_records_each_switch_once(merchant):
    store = StoreFactory(is_active=True)

    store_set_active(store=store, actor=merchant, is_active=False)
    store_set_active(store=store, actor=merchant, is_active=False)
    store_set_active(store=store, actor=None, is_active=True)

    events = list(StoreEvent.objects.filter(store=store).order_by("id"))
    assert [(event.kind, event.actor) for event in events] == [
        (StoreEvent.Kind.DEACTIVATED, merchant),
        (StoreEvent.Kind.ACTIVATED, None),
    ]
    assert events[1].actor_label == "System"


def test_connecting_again_records_credentials_updated_without_them(merchant):
    arguments = {
        "marketplace_code": "DE",
        "seller_id": "A1HISTORY",
        "environment": Store.Environment.SANDBOX,
        "sp_api_endpoint": "http://127.0.0.1:8001",
    }
    first = StoreCredentials("amzn1.client.first", "first-secret", "Atzr|first")
    second = StoreCredentials("amzn1.client.second", "second-secret", "Atzr|second")
    store, created = store_connect(actor=merchant, name="History", credentials=first, **arguments)
    assert created

    store_connect(
        actor=merchant,
        name="History",
        credentials=second,
        **{**arguments, "sp_api_endpoint": "http://127.0.0.1:8002"},
    )

    assert kinds(store) == [StoreEvent.Kind.CREDENTIALS_UPDATED, StoreEvent.Kind.CONNECTED]
    update = StoreEvent.objects.filter(store=store).first()
    assert update.changes == {"sp_api_endpoint": ["http://127.0.0.1:8001", "http://127.0.0.1:8002"]}
    assert update.actor == merchant


def test_connecting_again_with_the_same_values_records_nothing(merchant):
    arguments = {
        "name": "History",
        "marketplace_code": "DE",
        "seller_id": "A1SAME",
        "environment": Store.Environment.SANDBOX,
        "credentials": StoreCredentials("amzn1.client.same", "same-secret", "Atzr|same"),
    }
    store, _ = store_connect(actor=merchant, **arguments)

    store_connect(actor=merchant, **arguments)
    store_connect(actor=merchant, **{**arguments, "sp_api_endpoint": "http://127.0.0.1:8003"})

    assert kinds(store) == [StoreEvent.Kind.SETTINGS_CHANGED, StoreEvent.Kind.CONNECTED]


def test_a_store_paused_for_reauthorization_records_it_once_as_the_system():
    store = StoreFactory()

    store_problem_report(store.pk, SyncState.NEEDS_REAUTHORIZATION, "Amazon rejected it.")
    store_problem_report(store.pk, SyncState.NEEDS_REAUTHORIZATION, "Amazon rejected it.")
    store_problem_report(store.pk, SyncState.ERROR, "Amazon answered 500.")

    [event] = StoreEvent.objects.filter(store=store)
    assert event.kind == StoreEvent.Kind.REAUTHORIZATION_NEEDED
    assert event.actor is None
    assert event.message == "Amazon rejected it."
    store.refresh_from_db()
    # The error of a sync begun before the pause does not replace it: only Reauthorize does.
    assert (store.sync_state, store.sync_state_message) == (
        SyncState.NEEDS_REAUTHORIZATION,
        "Amazon rejected it.",
    )


def test_the_beat_entry_runs_every_5_minutes_stops_while_inactive_and_keeps_an_edited_interval(
    merchant,
):
    store = StoreFactory(is_active=True)
    entry = store_schedule_update(store=store)
    assert (entry.interval.every, entry.interval.period, entry.enabled) == (300, "seconds", True)
    assert json.loads(entry.kwargs) == {"store_id": store.pk}
    # Ops make it every 15 minutes in Django admin.
    entry.interval = IntervalSchedule.objects.create(every=15, period=IntervalSchedule.MINUTES)
    entry.save()

    store_set_active(store=store, actor=merchant, is_active=False)
    assert not PeriodicTask.objects.get(pk=entry.pk).enabled

    store_set_active(store=store, actor=merchant, is_active=True)
    entry = PeriodicTask.objects.get(pk=entry.pk)
    assert entry.enabled
    assert (entry.interval.every, entry.interval.period) == (15, "minutes")
    assert PeriodicTask.objects.filter(kwargs=entry.kwargs).count() == 1
