"""Order Settings in Chromium at 1440 and 390 px: the Amazon notifications line, On with its
subscriptions and last notification, or Off with Amazon's long reason, fits the window in
English and French; saved as artifacts/screens/order-settings-notifications-*.png."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from amazon_channel.events import store_notifications_failed
from amazon_channel.models import NotificationDestination, NotificationSubscription
from amazon_channel.notes import note_from_english
from amazon_channel.spapi.client import application_key
from amazon_channel.tests.factories import StoreFactory
from conftest import ARTIFACTS_DIR
from dashboard.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS_DIR = ARTIFACTS_DIR / "screens"
LONG_STORE_NAME = "Haushaltswaren Müller & Söhne Großhandel GmbH \u2013 Amazon.de Marktplatz (DE)"
LONG_REASON = (
    "Amazon rejected the store's credentials (invalid_grant): The request has an invalid grant "
    "parameter : refresh_token Atzr|IwEBIPmA5cQ0Jn6RzWb8Zx1YsYkqR3pVh9q2o7KuT0cLmXnBvA4sD6fG8hJ1"
)


@pytest.fixture
def stores(settings):
    settings.AMAZON_NOTIFICATIONS_QUEUE_URL = (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/amazon-channel-notifications"
    )
    get_user_model().objects.create_superuser("owner", "owner@example.com", PASSWORD)
    on = StoreFactory(
        name=LONG_STORE_NAME, last_notification_at=timezone.now() - timedelta(minutes=3)
    )
    destination = NotificationDestination.objects.create(
        sp_api_endpoint=on.sp_api_endpoint,
        application_key=application_key(on.lwa_client_id),
        queue_arn="arn:aws:sqs:eu-west-1:123456789012:amazon-channel-notifications",
        destination_id="3acafc7e-121b-1329-8ae8-000000000000",
    )
    for index, kind in enumerate(("ORDER_CHANGE", "FEED_PROCESSING_FINISHED")):
        NotificationSubscription.objects.create(
            destination=destination,
            seller_id=on.seller_id,
            notification_type=kind,
            subscription_id=f"7fcacc7e-727b-11e9-8848-1681be663d3{index}",
        )
    off = StoreFactory(name="Berlin")
    store_notifications_failed(store=off, reason=note_from_english(LONG_REASON))
    return {"on": on, "off": off}


def fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", (1440, 390))
@pytest.mark.parametrize("language", ("en", "fr"))
def test_the_notifications_line_fits_the_window(live_server, browser, stores, width, language):
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        locale="en-US" if language == "en" else "fr-FR",
        viewport={"width": width, "height": 900},
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "owner")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        for state, store in stores.items():
            page.goto(f"{live_server.url}/stores/{store.pk}/settings/")
            line = page.locator("[data-field=notifications-state]")
            assert line.get_attribute("data-notifications") == state
            text = line.inner_text()
            if state == "on":
                assert "FEED_PROCESSING_FINISHED, ORDER_CHANGE" in text
                last = page.locator("[data-field=last-notification]").inner_text()
                assert last not in ("none yet", "aucune pour l'instant")
            else:
                assert "invalid_grant" in text
                assert text.startswith("Off (" if language == "en" else "Désactivées (")
            page.locator("[data-section=notifications]").scroll_into_view_if_needed()
            page.screenshot(
                path=str(
                    SCREENS_DIR / f"order-settings-notifications-{state}-{language}-{width}.png"
                ),
                full_page=True,
            )
            assert fits(page), (state, width)
    finally:
        context.close()
