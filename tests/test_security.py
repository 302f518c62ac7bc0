"""Every state-changing URL: POST only, its permission, a CSRF token, and who did it; sign-in
lockout; a login on every page; the sandbox out of production.

The URL lists are read from the URL configuration: a new dashboard URL fails
`test_every_dashboard_url_is_known_as_read_only_or_state_changing` until it is listed here, and a
state-changing one then gets every check below. A form's page is read-only (GET); its form posts
to a state-changing URL of its own.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from amazon_channel.models import (
    AmazonOrderCancellation,
    AmazonOrderEvent,
    OutboxMessage,
    Store,
    StoreEvent,
)
from amazon_channel.orders.commerce_to_amazon import commerce_shipment_create
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders import services as commerce_services
from commerce_orders.models import CommerceOrderEvent, OrderAction
from commerce_orders.tests.factories import placed_order
from dashboard import urls as dashboard_urls
from dashboard.commerce_orders.forms import CreditMemoForm, ShipmentForm
from dashboard.stores.forms import OrderSettingsForm
from dashboard.tests.factories import PASSWORD, CancellationFactory
from tests.helpers import project_environment, run_python

pytestmark = pytest.mark.django_db

CSRF_SECRET = "a" * 32
PERMISSION_APPS = ("amazon_channel", "commerce_orders")

READ_ONLY = {
    "store_list",
    "store_connect",
    "store_detail",
    "store_settings",
    "store_sync_log",
    "store_sync_status",
    "store_reauthorize",
    "order_list",
    "order_detail",
    "order_cancel",
    "order_cancellation_status",
    "commerce_order_list",
    "commerce_order_detail",
    "commerce_order_ship",
    "commerce_order_creditmemo",
}
# A form's page -> the state-changing URL its form posts to.
FORM_PAGES = {
    "store_connect": "store_connect_save",
    "store_settings": "store_settings_save",
    "store_reauthorize": "store_reauthorize_save",
    "order_cancel": "order_cancel_confirm",
    "commerce_order_ship": "commerce_order_ship_save",
    "commerce_order_creditmemo": "commerce_order_creditmemo_save",
}


@dataclass(frozen=True)
class Action:
    """A state-changing URL (POST only): the permission that gates it (beyond seeing the page)
    and `succeed(user)`, which makes the objects, posts as `user` through a client that checks
    CSRF, and asserts the effect, with an event naming the user."""

    permission: str
    succeed: Callable


def user_with_all_permissions_but(username: str, *excluded: str):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username, password=PASSWORD)
    permissions = Permission.objects.filter(content_type__app_label__in=PERMISSION_APPS)
    user.user_permissions.set(
        [
            permission
            for permission in permissions
            if f"{permission.content_type.app_label}.{permission.codename}" not in excluded
        ]
    )
    return user


def csrf_client(user) -> Client:
    """A client that enforces CSRF, as browsers meet it, holding a valid CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    return client


def post_with_token(user, url: str, data: dict | None = None):
    return csrf_client(user).post(url, {**(data or {}), "csrfmiddlewaretoken": CSRF_SECRET})


def form_data(form, **overrides) -> dict:
    """What the page's form posts when the merchant changes nothing but `overrides`."""
    data = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if value is None or value is False:
            continue
        data[name] = value
    data.update(overrides)
    return data


def dashboard_url(name: str, **kwargs) -> str:
    return reverse(f"dashboard:{name}", kwargs=kwargs)


def url_arguments(name: str) -> list[str]:
    pattern = next(pattern for pattern in dashboard_urls.urlpatterns if pattern.name == name)
    return list(pattern.pattern.converters)


def placeholder_url(name: str) -> str:
    """The URL with 1 for every argument: enough where the refusal comes before any lookup."""
    return dashboard_url(name, **dict.fromkeys(url_arguments(name), 1))


def real_url(name: str) -> str:
    """The URL of objects that exist, in a state where its page or action is open: a view that
    answered the wrong method would do its work here instead of a 404."""
    arguments = url_arguments(name)
    if "message_id" in arguments:
        order, _amazon_order, message = refused_shipment()
        return dashboard_url(name, order_id=order.pk, message_id=message.pk)
    if "shipment_id" in arguments:
        order, _amazon_order, _message = refused_shipment()
        return dashboard_url(name, order_id=order.pk, shipment_id=order.shipments.get().pk)
    if name.startswith("commerce_order") and "order_id" in arguments:
        order = placed_order()
        if name.startswith("commerce_order_creditmemo"):
            invoice(order)
        return dashboard_url(name, order_id=order.pk)
    if "order_id" in arguments:
        order = AmazonOrderFactory()
        return dashboard_url(name, store_id=order.store_id, order_id=order.pk)
    if "store_id" in arguments:
        return dashboard_url(name, store_id=StoreFactory().pk)
    return dashboard_url(name)


def assert_amazon_event(order, user, kind):
    assert list(
        AmazonOrderEvent.objects.filter(order=order, actor=user).values_list("kind", flat=True)
    ) == [kind]


def assert_commerce_event(order, user, action):
    assert action in CommerceOrderEvent.objects.filter(order=order, actor=user).values_list(
        "action", flat=True
    )


def assert_store_event(store, user, kind, **expected):
    [event] = StoreEvent.objects.filter(store=store)
    assert (event.kind, event.actor) == (kind, user)
    for name, value in expected.items():
        assert getattr(event, name) == value


# What a successful request does, per URL.


def activate(user):
    store = StoreFactory(is_active=False)
    response = post_with_token(user, dashboard_url("store_activate", store_id=store.pk))
    assert response.status_code == 302
    assert Store.objects.get(pk=store.pk).is_active
    assert_store_event(store, user, StoreEvent.Kind.ACTIVATED)


def deactivate(user):
    store = StoreFactory(is_active=True)
    response = post_with_token(user, dashboard_url("store_deactivate", store_id=store.pk))
    assert response.status_code == 302
    assert not Store.objects.get(pk=store.pk).is_active
    assert_store_event(store, user, StoreEvent.Kind.DEACTIVATED)


def sync(user, *, capture_on_commit):
    store = StoreFactory()
    with capture_on_commit(execute=False) as callbacks:
        response = post_with_token(user, dashboard_url("store_sync", store_id=store.pk))
    assert response.status_code == 302
    # The sync task is queued for when the transaction commits.
    assert len(callbacks) == 1
    assert_store_event(store, user, StoreEvent.Kind.SYNC_REQUESTED)


def reauthorize(user, *, capture_on_commit):
    store = StoreFactory(sync_state="needs_reauthorization", sync_state_message="invalid_grant")
    with capture_on_commit(execute=False) as callbacks:
        response = post_with_token(
            user,
            dashboard_url("store_reauthorize_save", store_id=store.pk),
            {"refresh_token": "Atzr|new-token"},
        )
    assert response.status_code == 302
    stored = Store.objects.get(pk=store.pk)
    assert (stored.refresh_token, stored.sync_state) == ("Atzr|new-token", "ok")
    # A sync and the delivery of what waited, queued for when the transaction commits.
    assert len(callbacks) == 2
    assert_store_event(store, user, StoreEvent.Kind.REAUTHORIZED)


def save_settings(user):
    store = StoreFactory(is_import_enabled=False)
    data = form_data(OrderSettingsForm(instance=store), is_import_enabled="True")
    response = post_with_token(user, dashboard_url("store_settings_save", store_id=store.pk), data)
    assert response.status_code == 302
    assert Store.objects.get(pk=store.pk).is_import_enabled
    assert_store_event(
        store, user, StoreEvent.Kind.SETTINGS_CHANGED, changes={"is_import_enabled": [False, True]}
    )


CONNECT_DATA = {
    "name": "Security Test Store",
    "marketplace_code": "DE",
    "seller_id": "A1SECURITYTEST",
    "environment": Store.Environment.SANDBOX,
    "lwa_client_id": "amzn1.application-oa2-client.security",
    "lwa_client_secret": "first-client-secret",
    "refresh_token": "Atzr|first-refresh-token",
}


def connect(user):
    response = post_with_token(user, dashboard_url("store_connect_save"), CONNECT_DATA)
    assert response.status_code == 302
    store = Store.objects.get(name="Security Test Store")
    assert_store_event(store, user, StoreEvent.Kind.CONNECTED, changes={})


def cancel_amazon_order(user):
    order = AmazonOrderFactory()
    url = dashboard_url("order_cancel_confirm", store_id=order.store_id, order_id=order.pk)
    response = post_with_token(user, url, {"reason": "NoInventory"})
    assert response.status_code == 302
    assert_amazon_event(order, user, AmazonOrderEvent.Kind.CANCEL_REQUESTED)


def update_shipping_address(user):
    order = AmazonOrderFactory()
    url = dashboard_url("order_shipping_address_update", store_id=order.store_id, order_id=order.pk)
    address = {"addressLine1": "Hauptstr. 1", "city": "Berlin", "postalCode": "10115"}
    response = post_with_token(user, url, {**address, "countryCode": "DE"})
    assert response.status_code == 302
    assert_amazon_event(order, user, AmazonOrderEvent.Kind.ADDRESS_CHANGED)


def acknowledge_cancellation(user):
    cancellation = CancellationFactory(state=AmazonOrderCancellation.State.REJECTED)
    order = cancellation.order
    url = dashboard_url(
        "order_cancellation_acknowledge", store_id=order.store_id, order_id=order.pk
    )
    response = post_with_token(user, url)
    assert response.status_code == 302
    assert_amazon_event(order, user, AmazonOrderEvent.Kind.NOTE)


def commerce_order_post(name, action, *, prepare=None, data=None):
    def succeed(user):
        order = placed_order()
        if prepare:
            prepare(order)
        posted = data(order) if callable(data) else (data or {})
        response = post_with_token(user, dashboard_url(name, order_id=order.pk), posted)
        assert response.status_code == 302
        assert_commerce_event(order, user, action)

    return succeed


def mass_hold(user):
    order = placed_order()
    data = {"action": "hold", "order_ids": [order.pk]}
    response = post_with_token(user, dashboard_url("commerce_order_mass_action"), data)
    assert response.status_code == 302
    assert_commerce_event(order, user, OrderAction.HOLD)


def export(user):
    order = placed_order()
    response = post_with_token(
        user, dashboard_url("commerce_order_export"), {"order_ids": [order.pk]}
    )
    assert response.status_code == 200
    assert order.increment_id in b"".join(response.streaming_content).decode()


def refused_shipment():
    """An Amazon order's Commerce order whose shipment Amazon refused: (order, Amazon order,
    the refused outbox message)."""
    amazon_order = AmazonOrderFactory(store=StoreFactory(is_import_enabled=True))
    order = placed_order(external_channel="amazon", external_order_id=amazon_order.amazon_order_id)
    amazon_order.commerce_order = order
    amazon_order.save(update_fields=["commerce_order"])
    invoice(order)
    shipment = commerce_shipment_create(
        actor=None,
        order=order,
        quantities={order.items.first().pk: 1},
        carrier_code="DHL",
        tracking_number="00340434161094042557",
    )
    message = OutboxMessage.objects.get(key=f"ship:{shipment.pk}")
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxMessage.State.FAILED, result="Order is CANCELLED."
    )
    return order, amazon_order, message


def retry_refused_shipment(user):
    order, amazon_order, message = refused_shipment()
    url = dashboard_url("commerce_order_amazon_retry", order_id=order.pk, message_id=message.pk)

    response = post_with_token(user, url)

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    assert_amazon_event(amazon_order, user, AmazonOrderEvent.Kind.NOTE)


def correct_refused_shipment(user):
    order, amazon_order, message = refused_shipment()
    shipment = order.shipments.get()
    url = dashboard_url(
        "commerce_order_shipment_correct", order_id=order.pk, shipment_id=shipment.pk
    )
    prefix = f"shipment-{shipment.pk}"

    response = post_with_token(
        user,
        url,
        {f"{prefix}-carrier_code": "UPS", f"{prefix}-tracking_number": "1Z999AA10123456784"},
    )

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    assert message.payload["package_detail"]["trackingNumber"] == "1Z999AA10123456784"
    assert_amazon_event(amazon_order, user, AmazonOrderEvent.Kind.NOTE)


def invoice(order):
    commerce_services.invoice_create(actor=None, order=order)


def hold(order):
    commerce_services.order_hold(actor=None, order=order)


STATE_CHANGING = {
    "store_connect_save": Action("amazon_channel.add_store", succeed=connect),
    "store_settings_save": Action("amazon_channel.change_store", succeed=save_settings),
    "store_activate": Action("amazon_channel.change_store", succeed=activate),
    "store_deactivate": Action("amazon_channel.change_store", succeed=deactivate),
    "store_sync": Action("amazon_channel.sync_store", succeed=sync),
    "store_reauthorize_save": Action("amazon_channel.change_store", succeed=reauthorize),
    "order_cancel_confirm": Action(
        "amazon_channel.cancel_amazonorder", succeed=cancel_amazon_order
    ),
    "order_shipping_address_update": Action(
        "amazon_channel.change_amazonorder", succeed=update_shipping_address
    ),
    "order_cancellation_acknowledge": Action(
        "amazon_channel.cancel_amazonorder", succeed=acknowledge_cancellation
    ),
    # POST for the size of a selection, not a change: it still needs a token and the permission.
    "commerce_order_export": Action("commerce_orders.view_commerceorder", succeed=export),
    "commerce_order_mass_action": Action("commerce_orders.change_commerceorder", succeed=mass_hold),
    "commerce_order_invoice": Action(
        "commerce_orders.add_invoice",
        succeed=commerce_order_post("commerce_order_invoice", OrderAction.INVOICE),
    ),
    "commerce_order_ship_save": Action(
        "commerce_orders.add_shipment",
        succeed=commerce_order_post(
            "commerce_order_ship_save",
            OrderAction.SHIP,
            data=lambda order: form_data(ShipmentForm(order=order), carrier_code="DHL"),
        ),
    ),
    "commerce_order_creditmemo_save": Action(
        "commerce_orders.add_creditmemo",
        succeed=commerce_order_post(
            "commerce_order_creditmemo_save",
            OrderAction.CREDIT_MEMO,
            prepare=invoice,
            data=lambda order: form_data(CreditMemoForm(order=order)),
        ),
    ),
    "commerce_order_hold": Action(
        "commerce_orders.change_commerceorder",
        succeed=commerce_order_post("commerce_order_hold", OrderAction.HOLD),
    ),
    "commerce_order_unhold": Action(
        "commerce_orders.change_commerceorder",
        succeed=commerce_order_post("commerce_order_unhold", OrderAction.UNHOLD, prepare=hold),
    ),
    "commerce_order_cancel": Action(
        "commerce_orders.change_commerceorder",
        succeed=commerce_order_post("commerce_order_cancel", OrderAction.CANCEL),
    ),
    "commerce_order_email_send": Action(
        "commerce_orders.change_commerceorder",
        succeed=commerce_order_post("commerce_order_email_send", OrderAction.EMAIL),
    ),
    "commerce_order_comment_add": Action(
        "commerce_orders.change_commerceorder",
        succeed=commerce_order_post(
            "commerce_order_comment_add", OrderAction.COMMENT, data={"comment": "Called them."}
        ),
    ),
    "commerce_order_amazon_retry": Action(
        "commerce_orders.change_commerceorder", succeed=retry_refused_shipment
    ),
    "commerce_order_shipment_correct": Action(
        "commerce_orders.change_commerceorder", succeed=correct_refused_shipment
    ),
}


def test_every_dashboard_url_is_known_as_read_only_or_state_changing():
    names = {pattern.name for pattern in dashboard_urls.urlpatterns}

    assert names - READ_ONLY - set(STATE_CHANGING) == set(), "add the new URL to this file"
    assert READ_ONLY | set(STATE_CHANGING) <= names
    assert READ_ONLY.isdisjoint(STATE_CHANGING)
    assert set(FORM_PAGES) <= READ_ONLY
    assert set(FORM_PAGES.values()) <= set(STATE_CHANGING)


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_read_only_urls_answer_get_and_refuse_post(name):
    # A read-only page that accepted POST would be a state-changing URL nobody checks here.
    client = Client()
    client.force_login(user_with_all_permissions_but("reader"))
    url = real_url(name)

    shown = client.get(url)
    posted = client.post(url)

    assert shown.status_code == 200
    assert posted.status_code == 405


@pytest.mark.parametrize(("page", "action"), sorted(FORM_PAGES.items()))
def test_a_form_page_posts_to_its_action_and_needs_the_permission_of_the_action(page, action):
    url = real_url(page)
    allowed = Client()
    allowed.force_login(user_with_all_permissions_but("merchant"))
    refused = Client()
    refused.force_login(user_with_all_permissions_but("clerk", STATE_CHANGING[action].permission))

    shown = allowed.get(url)

    form_action = dashboard_url(action, **shown.resolver_match.kwargs)
    assert f'action="{form_action}"' in shown.content.decode()
    assert refused.get(url).status_code == 403


@pytest.mark.parametrize("name", sorted(STATE_CHANGING))
def test_state_changing_urls_refuse_get(name):
    client = Client()
    client.force_login(user_with_all_permissions_but("merchant"))
    # Objects that exist: a view that acted on GET would answer 200 or 302 here, never 404.
    url = real_url(name)

    response = client.get(url)

    assert response.status_code == 405


@pytest.mark.parametrize("name", sorted(STATE_CHANGING))
def test_state_changing_urls_answer_403_without_their_permission(name):
    user = user_with_all_permissions_but("clerk", STATE_CHANGING[name].permission)

    response = post_with_token(user, placeholder_url(name))

    assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(STATE_CHANGING))
def test_state_changing_urls_answer_403_without_a_csrf_token(name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_with_all_permissions_but("merchant"))

    response = client.post(placeholder_url(name))

    assert response.status_code == 403
    assert b"CSRF verification failed" in response.content


@pytest.mark.parametrize("name", sorted(STATE_CHANGING))
def test_state_changing_urls_succeed_with_token_and_permission_and_name_the_user(
    name, django_capture_on_commit_callbacks
):
    action = STATE_CHANGING[name]
    user = user_with_all_permissions_but("merchant")

    if action.succeed in (sync, reauthorize):
        action.succeed(user, capture_on_commit=django_capture_on_commit_callbacks)
    else:
        action.succeed(user)


def test_store_events_never_hold_the_credentials():
    user = user_with_all_permissions_but("merchant")
    post_with_token(user, dashboard_url("store_connect_save"), CONNECT_DATA)
    reconnect = {
        **CONNECT_DATA,
        "name": "Security Test Store Berlin",
        "lwa_client_secret": "second-client-secret",
        "refresh_token": "Atzr|second-refresh-token",
    }

    response = post_with_token(user, dashboard_url("store_connect_save"), reconnect)

    assert response.status_code == 302
    store = Store.objects.get(seller_id=CONNECT_DATA["seller_id"])
    assert store.refresh_token == "Atzr|second-refresh-token"
    events = list(StoreEvent.objects.filter(store=store).values())
    assert [event["kind"] for event in events] == [
        StoreEvent.Kind.CREDENTIALS_UPDATED,
        StoreEvent.Kind.CONNECTED,
    ]
    assert events[0]["changes"] == {"name": ["Security Test Store", "Security Test Store Berlin"]}
    stored = json.dumps(events, default=str)
    for data in (CONNECT_DATA, reconnect):
        for name in ("lwa_client_id", "lwa_client_secret", "refresh_token"):
            assert data[name] not in stored


# A login on every page


PUBLIC = {"login", "health", "set_language", "admin:login", "favicon"}


def every_url_pattern(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from every_url_pattern(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield namespace + (pattern.name or ""), pattern


def sample_url(name: str, pattern: URLPattern) -> str | None:
    """A URL the pattern answers, with placeholder arguments; None for unnamed patterns."""
    if not pattern.name:
        return None
    converters = pattern.pattern.converters
    if not converters and not pattern.pattern.regex.groups:
        return reverse(name)
    kwargs = {
        key: 1 if converter.regex == "[0-9]+" else "x" for key, converter in converters.items()
    }
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:  # noqa: BLE001 - the admin's regex patterns: sampled below
        return None


def test_every_page_but_login_health_and_language_asks_for_a_login(client):
    checked = 0
    for name, pattern in every_url_pattern():
        url = sample_url(name, pattern)
        if url is None or name in PUBLIC:
            continue
        for method in (client.get, client.post):
            response = method(url)

            assert response.status_code == 302, (name, url, response.status_code)
            assert response["Location"].startswith((reverse("login"), reverse("admin:login"))), (
                name,
                url,
            )
        checked += 1

    assert checked > 40


def test_the_public_urls_answer_without_a_login(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("admin:login")).status_code == 200
    assert client.post(reverse("set_language"), {"language": "de"}).status_code == 302
    assert client.get(reverse("health")).status_code in {200, 503}
    # The icon browsers ask for on every page, the login page's too.
    assert client.get(reverse("favicon")).status_code == 301


# Sign-in lockout


@pytest.fixture
def merchant():
    return user_with_all_permissions_but("anna")


def sign_in(client, password, *, username="anna", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_five_failed_sign_ins_lock_the_account_out_even_with_the_right_password(client, merchant):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    assert sign_in(client, "wrong").status_code == 429

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "locked for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_sign_in_resets_the_count_of_failures(client, merchant):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    response = sign_in(client, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(merchant.pk)


def test_the_lockout_ends_after_the_cool_off_time(client, merchant):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )

    assert sign_in(client, PASSWORD).status_code == 302


# By username from any address: tests/test_login_throttling.py.


def test_the_admin_sign_in_is_locked_out_too(client, merchant):
    merchant.is_staff = True
    merchant.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong")

    response = client.post(reverse("admin:login"), {"username": "anna", "password": PASSWORD})

    assert response.status_code == 429


# Production settings


SANDBOX_PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.urls import Resolver404, resolve

def on_the_main_site(path):
    try:
        resolve(path)
    except Resolver404:
        return False
    return True

def sandbox_process():
    # What `gunicorn seller_central_sandbox.wsgi:application` would load.
    try:
        import seller_central_sandbox.wsgi  # noqa: F401
    except Exception as error:
        return type(error).__name__
    return "started"

def sp_api_view(path):
    # The sandbox process (seller_central_sandbox.wsgi) serves this URLconf.
    try:
        return resolve(path, urlconf="seller_central_sandbox.api_urls").url_name
    except Exception as error:
        return type(error).__name__

print(json.dumps({
    "installed": "seller_central_sandbox" in settings.INSTALLED_APPS,
    "control_page": [on_the_main_site(path) for path in ("/sandbox/", "/sandbox/sellers/A1/")],
    "token_endpoint": sp_api_view("/auth/o2/token"),
    "process": sandbox_process(),
}))
"""


def sandbox_probe(tmp_path, **overrides) -> dict:
    environment = project_environment(
        var_dir=tmp_path,
        keep_services=False,
        DEBUG="false",
        SECRET_KEY="x" * 64 + "production-only-secret-value-from-the-environment",
        CREDENTIALS_ENCRYPTION_KEYS="S0-NJ8PLBqzU2uOn3AZpHVNcPoV0RMGxJ5yzYhD3h8E=",
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{tmp_path}/production.sqlite3",
        REDIS_URL="redis://127.0.0.1:1/0",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    # Production sets nothing about the sandbox: it is off by default once DEBUG is off.
    environment.pop("SELLER_CENTRAL_SANDBOX_ENABLED", None)
    environment.update(overrides)
    result = run_python(SANDBOX_PROBE, environment)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_sandbox_is_not_reachable_with_production_settings(tmp_path):
    # The same probe with the sandbox switched on finds both its control page and its SP-API.
    enabled = sandbox_probe(tmp_path, SELLER_CENTRAL_SANDBOX_ENABLED="true")
    assert enabled == {
        "installed": True,
        "control_page": [True, True],
        "token_endpoint": "sandbox_token",
        "process": "started",
    }

    production = sandbox_probe(tmp_path)

    assert production["installed"] is False
    assert production["control_page"] == [False, False]
    # Its SP-API URLs cannot even load: its models belong to an app that is not installed.
    assert production["token_endpoint"] == "RuntimeError"
    # Nor does its own process start.
    assert production["process"] == "ImproperlyConfigured"
