"""Django admin of the Amazon side: secrets never on the page, who changed a store, documents
and payloads read-only."""

import pytest
from django import forms
from django.urls import reverse

from amazon_channel.models import AmazonFeed, AmazonOrder, OutboxMessage, Store, StoreEvent
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory

pytestmark = pytest.mark.django_db

CLIENT_SECRET = "client-secret-never-shown"
REFRESH_TOKEN = "Atzr|refresh-token-never-shown"


@pytest.fixture
def store():
    return StoreFactory(lwa_client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN)


def change_url(store):
    return reverse("admin:amazon_channel_store_change", args=[store.pk])


def form_values(form) -> dict:
    """What a browser posts for `form` as rendered: its values, split like its widgets."""
    data = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        if isinstance(bound.field.widget, forms.MultiWidget):
            parts = bound.field.widget.decompress(value)
            data.update({f"{bound.html_name}_{index}": part for index, part in enumerate(parts)})
        else:
            data[bound.html_name] = "on" if value is True else value
    return data


def posted_form(response, **overrides) -> dict:
    """What the admin's change page posts when the user changes only `overrides`."""
    data = form_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data.update(form_values(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(form_values(form))
    data.update(overrides)
    return data


def test_the_store_change_page_never_holds_the_secrets(admin_client, store):
    response = admin_client.get(change_url(store))

    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="lwa_client_secret"' in content
    assert 'name="refresh_token"' in content
    assert CLIENT_SECRET not in content
    assert REFRESH_TOKEN not in content
    assert "Leave blank to keep the current value." in content


def test_blank_secrets_keep_the_stored_ones(admin_client, admin_user, store):
    old_name = store.name
    page = admin_client.get(change_url(store))

    response = admin_client.post(
        change_url(store),
        posted_form(page, name="Renamed", lwa_client_secret="", refresh_token=""),
    )

    assert response.status_code == 302
    store.refresh_from_db()
    assert store.name == "Renamed"
    assert (store.lwa_client_secret, store.refresh_token) == (CLIENT_SECRET, REFRESH_TOKEN)
    [event] = StoreEvent.objects.filter(store=store)
    assert (event.kind, event.actor) == (StoreEvent.Kind.SETTINGS_CHANGED, admin_user)
    assert event.changes == {"name": [old_name, "Renamed"]}


def test_a_typed_secret_replaces_the_stored_one_and_is_recorded_without_its_value(
    admin_client, admin_user, store
):
    page = admin_client.get(change_url(store))

    response = admin_client.post(
        change_url(store),
        posted_form(page, lwa_client_secret="", refresh_token="Atzr|the-new-refresh-token"),
    )

    assert response.status_code == 302
    store.refresh_from_db()
    assert store.refresh_token == "Atzr|the-new-refresh-token"
    assert store.lwa_client_secret == CLIENT_SECRET
    [event] = StoreEvent.objects.filter(store=store).values()
    assert (event["kind"], event["actor_id"]) == (
        StoreEvent.Kind.CREDENTIALS_UPDATED,
        admin_user.pk,
    )
    assert "the-new-refresh-token" not in str(event)


def test_deactivating_in_the_admin_names_the_admin(admin_client, admin_user, store):
    response = admin_client.post(
        reverse("admin:amazon_channel_store_changelist"),
        {"action": "deactivate", "_selected_action": [store.pk]},
    )

    assert response.status_code == 302
    store.refresh_from_db()
    assert store.is_active is False
    assert list(StoreEvent.objects.filter(store=store).values_list("kind", "actor")) == [
        (StoreEvent.Kind.DEACTIVATED, admin_user.pk)
    ]


def test_store_events_are_read_only_in_the_admin(admin_client, store):
    event = StoreEvent.objects.create(
        store=store, kind=StoreEvent.Kind.SETTINGS_CHANGED, changes={"is_active": [True, False]}
    )
    url = reverse("admin:amazon_channel_storeevent_change", args=[event.pk])

    page = admin_client.get(url)

    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(url, {"kind": "connected"}).status_code == 403
    assert admin_client.get(reverse("admin:amazon_channel_storeevent_add")).status_code == 403


def test_the_raw_payload_of_an_amazon_order_is_shown_and_cannot_be_changed(admin_client):
    order = AmazonOrderFactory(raw_payload={"AmazonOrderId": "302-1111111-1111111"})
    url = reverse("admin:amazon_channel_amazonorder_change", args=[order.pk])
    page = admin_client.get(url)

    response = admin_client.post(
        url, posted_form(page, raw_payload='{"AmazonOrderId": "forged"}', buyer_name="Erika")
    )

    assert "302-1111111-1111111" in page.content.decode()
    assert 'name="raw_payload"' not in page.content.decode()
    assert response.status_code == 302
    order = AmazonOrder.objects.get(pk=order.pk)
    assert order.buyer_name == "Erika"
    assert order.raw_payload == {"AmazonOrderId": "302-1111111-1111111"}


def test_a_feed_shows_its_document_and_report_and_cannot_be_changed(admin_client, store):
    feed = AmazonFeed.objects.create(
        store=store,
        feed_type="POST_ORDER_ACKNOWLEDGEMENT_DATA",
        content="<AmazonEnvelope><MessageType>OrderAcknowledgement</MessageType></AmazonEnvelope>",
        report="<ProcessingReport>1 processed</ProcessingReport>",
    )
    message = OutboxMessage.objects.create(
        store=store,
        kind=OutboxMessage.Kind.CANCEL_ORDER,
        key="cancel:admin-test",
        payload={"amazon_order_id": "302-1111111-1111111", "reason": "NoInventory"},
        feed=feed,
        feed_message_id=1,
    )
    feed_url = reverse("admin:amazon_channel_amazonfeed_change", args=[feed.pk])
    message_url = reverse("admin:amazon_channel_outboxmessage_change", args=[message.pk])

    feed_page = admin_client.get(feed_url).content.decode()
    message_page = admin_client.get(message_url).content.decode()

    assert "&lt;MessageType&gt;OrderAcknowledgement&lt;/MessageType&gt;" in feed_page
    assert "&lt;ProcessingReport&gt;1 processed" in feed_page
    assert "cancel:admin-test" in feed_page
    assert "302-1111111-1111111" in message_page
    for page in (feed_page, message_page):
        assert 'name="_save"' not in page
    assert admin_client.post(feed_url, {"content": "forged"}).status_code == 403
    assert admin_client.post(message_url, {"payload": "{}"}).status_code == 403
    feed.refresh_from_db()
    assert feed.content.startswith("<AmazonEnvelope>")


def test_a_store_added_in_the_admin_is_recorded_as_connected(admin_client, admin_user):
    page = admin_client.get(reverse("admin:amazon_channel_store_add"))
    data = posted_form(
        page,
        name="Admin Store",
        region="EU",
        marketplace_code="DE",
        marketplace_id="A1PA6795UKMFR9",
        seller_id="A1ADMINSTORE",
        sp_api_endpoint="http://127.0.0.1:8001",
        token_endpoint="http://127.0.0.1:8001/auth/o2/token",
        lwa_client_id="amzn1.application-oa2-client.admin",
        lwa_client_secret="admin-secret",
        refresh_token="Atzr|admin",
    )

    response = admin_client.post(reverse("admin:amazon_channel_store_add"), data)

    assert response.status_code == 302
    store = Store.objects.get(name="Admin Store")
    assert store.lwa_client_secret == "admin-secret"
    assert list(StoreEvent.objects.filter(store=store).values_list("kind", "actor")) == [
        (StoreEvent.Kind.CONNECTED, admin_user.pk)
    ]


def test_sync_now_in_the_admin_queues_active_stores_and_says_which_wait(
    admin_client, admin_user, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    healthy = StoreFactory(name="Berlin Shop")
    paused = StoreFactory(name="Paris Shop", sync_state="needs_reauthorization")

    response = admin_client.post(
        reverse("admin:amazon_channel_store_changelist"),
        {"action": "sync_now", "_selected_action": [healthy.pk, paused.pk]},
        follow=True,
    )

    content = response.content.decode()
    assert "A sync was queued for 1 store." in content
    assert "Paris Shop is not synced now. Waiting for the store to be reauthorized." in content
    assert StoreEvent.objects.filter(kind=StoreEvent.Kind.SYNC_REQUESTED).count() == 1


def test_notifications_are_found_by_order_and_state_and_the_queue_shows_its_dead_letters(
    admin_client, store
):
    from datetime import timedelta

    from django.utils import timezone

    from amazon_channel.models import AmazonNotification, NotificationQueueStatus

    wanted = AmazonNotification.objects.create(
        notification_id="a1b2c3d4-0000-4000-8000-000000000001",
        notification_type="ORDER_CHANGE",
        store=store,
        amazon_order_id="302-7777777-7777777",
        payload={"Payload": {"OrderChangeNotification": {"AmazonOrderId": "302-7777777-7777777"}}},
    )
    AmazonNotification.objects.create(
        notification_id="a1b2c3d4-0000-4000-8000-000000000002",
        notification_type="ORDER_CHANGE",
        state=AmazonNotification.State.IGNORED,
        reason="unknown subscription",
        amazon_order_id="302-8888888-8888888",
    )
    NotificationQueueStatus.objects.create(
        queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/amazon-notifications",
        consumer_seen_at=timezone.now(),
        dead_letter_messages=2,
        dead_letter_oldest_at=timezone.now() - timedelta(hours=3, minutes=5),
    )
    changelist = reverse("admin:amazon_channel_amazonnotification_changelist")

    by_order = admin_client.get(changelist, {"q": "302-7777777-7777777"}).content.decode()
    ignored = admin_client.get(changelist, {"state__exact": "ignored"}).content.decode()
    detail = admin_client.get(
        reverse("admin:amazon_channel_amazonnotification_change", args=[wanted.pk])
    ).content.decode()
    queues = admin_client.get(
        reverse("admin:amazon_channel_notificationqueuestatus_changelist")
    ).content.decode()

    assert "302-7777777-7777777" in by_order and "302-8888888-8888888" not in by_order
    assert "302-8888888-8888888" in ignored and "302-7777777-7777777" not in ignored
    assert "OrderChangeNotification" in detail and 'name="state"' not in detail
    assert "3\xa0hours, 5\xa0minutes" in queues
