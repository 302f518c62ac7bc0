"""Secrets stay put: a store's credentials are bound to its endpoints, and outside the Seller
Central sandbox only Amazon's hosts are ever contacted.

The attack these tests replay: a staff user who may change stores (and does not know the
secrets) points the token endpoint, or the SP-API endpoint, at a server of theirs and leaves the
secret fields blank (blank keeps the stored values); the next sync posts the client secret and
the refresh token there (Login with Amazon's refresh-token grant), or sends it access tokens
(x-amz-access-token). `attacker` below is that server: it answers like Login with Amazon and the
SP-API, and records whatever reaches it.
"""

import io
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import unquote_plus

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from amazon_channel.models import Store, StoreEvent, SyncRun
from amazon_channel.spapi.client import AmazonClient, AmazonRequestError, token_client_class
from amazon_channel.stores.services import (
    StoreCredentials,
    StoreEndpointRefused,
    store_connect,
    store_save,
)
from amazon_channel.tests.test_admin import posted_form
from commerce_orders.notes import note_render
from seller_central_sandbox.testing import TEST_TIME_SCALE
from tests.helpers import run_manage, subprocess_environment
from tests.sync_helpers import store_for_seller, sync_to_the_end

pytestmark = pytest.mark.django_db(transaction=True)

DE = "A1PA6795UKMFR9"
SECRETS_MESSAGE = "needs the LWA client secret and the refresh token entered again"
SP_API_HOST_MESSAGE = "The SP-API endpoint must be one of Amazon's SP-API hosts"
TOKEN_HOST_MESSAGE = "The token endpoint must be one of Login with Amazon's"


# The attacker's server


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: str


@dataclass
class RecordingServer:
    """An HTTP server on loopback that answers like Login with Amazon (a token) and the SP-API
    (an empty payload), and records every request that reaches it."""

    port: int
    requests: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(recorder: RecordingServer):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            recorder.requests.append(
                Recorded(self.command, self.path, dict(self.headers.items()), body)
            )
            if self.path.startswith("/auth/o2/token"):
                answer = {"access_token": "Atza|attacker", "token_type": "bearer"}
            else:
                answer = {"payload": []}
            content = json.dumps(answer | {"expires_in": 3600}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format, *args):
            pass

    return Handler


@pytest.fixture(autouse=True)
def outside_attempts(monkeypatch):
    """Connections off this machine (Amazon's hosts among them), refused before they leave and
    recorded: however a check fails, these tests never reach Amazon. httpx connects through
    socket.create_connection."""
    attempts = []
    connect = socket.create_connection

    def guarded(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "localhost", "::1"):
            attempts.append(address)
            raise ConnectionRefusedError("not contacted by tests")
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return attempts


@pytest.fixture
def attacker():
    recorder = RecordingServer(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    recorder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def leaked(recorder: RecordingServer, *secrets: str) -> list[str]:
    """The secrets found anywhere in what reached the server."""
    seen = " ".join(f"{r.path} {r.headers} {unquote_plus(r.body)}" for r in recorder.requests)
    return [secret for secret in secrets if secret in seen]


# Fixtures


@pytest.fixture
def seller(sandbox_seller_factory, settings):
    settings.AMAZON_RATE_LIMIT_SCALE = TEST_TIME_SCALE
    settings.AMAZON_RETRY_BASE_SECONDS = 0.05
    return sandbox_seller_factory(marketplace_ids=[DE])


@pytest.fixture
def store(sandbox_server, seller):
    """Connected to the Seller Central sandbox, standing in for Amazon."""
    return store_for_seller(sandbox_server, seller)


@pytest.fixture
def store_changer(client):
    """Staff who may view and change stores, nothing else: not a superuser."""
    user = get_user_model().objects.create_user("mallory", password="x" * 20, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="amazon_channel", codename__in=["view_store", "change_store"]
        )
    )
    client.force_login(user)
    return client


@pytest.fixture
def sandbox_off(settings):
    """As in production: DEBUG off leaves SELLER_CENTRAL_SANDBOX_ENABLED off."""
    settings.SELLER_CENTRAL_SANDBOX_ENABLED = False


def change_url(store):
    return reverse("admin:amazon_channel_store_change", args=[store.pk])


def page_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


# Django admin: an endpoint change without the secrets


@pytest.mark.parametrize(
    ("endpoint_field", "path"), [("token_endpoint", "/auth/o2/token"), ("sp_api_endpoint", "")]
)
def test_a_store_changer_cannot_send_the_stored_secrets_to_their_server(
    store_changer, store, seller, sandbox_server, attacker, endpoint_field, path
):
    before = Store.objects.get(pk=store.pk)
    page = store_changer.get(change_url(store))
    assert page.status_code == 200

    response = store_changer.post(
        change_url(store),
        posted_form(
            page, **{endpoint_field: attacker.url + path}, lwa_client_secret="", refresh_token=""
        ),
    )
    # The store syncs as usual afterwards (beat would run it): still against its own endpoints.
    run = sync_to_the_end(Store.objects.get(pk=store.pk))

    assert response.status_code == 200
    assert SECRETS_MESSAGE in page_text(response)
    after = Store.objects.get(pk=store.pk)
    assert (after.sp_api_endpoint, after.token_endpoint) == (
        before.sp_api_endpoint,
        before.token_endpoint,
    )
    assert not StoreEvent.objects.filter(store=store).exists()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert sandbox_server.exchanges, "the sync reached the store's own endpoints"
    assert attacker.requests == []
    assert leaked(attacker, seller.client_secret, seller.refresh_token) == []


@pytest.mark.parametrize(
    "typed",
    [{"lwa_client_secret": "typed"}, {"refresh_token": "Atzr|typed"}],
    ids=["secret", "token"],
)
def test_one_secret_is_not_enough_to_change_an_endpoint(store_changer, store, attacker, typed):
    page = store_changer.get(change_url(store))
    values = {"lwa_client_secret": "", "refresh_token": "", **typed}

    response = store_changer.post(
        change_url(store),
        posted_form(page, token_endpoint=f"{attacker.url}/auth/o2/token", **values),
    )

    assert response.status_code == 200
    assert SECRETS_MESSAGE in page_text(response)
    assert Store.objects.get(pk=store.pk).token_endpoint == store.token_endpoint


def test_an_endpoint_change_with_both_secrets_typed_again_is_saved(store_changer, store, seller):
    page = store_changer.get(change_url(store))
    new_endpoint = store.sp_api_endpoint + "/"

    response = store_changer.post(
        change_url(store),
        posted_form(
            page,
            sp_api_endpoint=new_endpoint,
            lwa_client_secret=seller.client_secret,
            refresh_token=seller.refresh_token,
        ),
    )

    assert response.status_code == 302
    saved = Store.objects.get(pk=store.pk)
    assert saved.sp_api_endpoint == new_endpoint
    assert (saved.lwa_client_secret, saved.refresh_token) == (
        seller.client_secret,
        seller.refresh_token,
    )


def test_blank_secrets_still_keep_the_stored_ones_when_no_endpoint_changes(
    store_changer, store, seller
):
    page = store_changer.get(change_url(store))

    response = store_changer.post(
        change_url(store),
        posted_form(page, name="Renamed", lwa_client_secret="", refresh_token=""),
    )

    assert response.status_code == 302
    saved = Store.objects.get(pk=store.pk)
    assert saved.name == "Renamed"
    assert (saved.lwa_client_secret, saved.refresh_token) == (
        seller.client_secret,
        seller.refresh_token,
    )


# The service, for every entry point


@pytest.mark.parametrize("endpoint_field", ["sp_api_endpoint", "token_endpoint"])
def test_store_save_refuses_an_endpoint_change_with_blank_secrets(
    store, admin_user, attacker, endpoint_field
):
    edited = Store.objects.get(pk=store.pk)
    setattr(edited, endpoint_field, attacker.url + "/auth/o2/token")
    edited.lwa_client_secret = edited.refresh_token = ""

    with pytest.raises(StoreEndpointRefused) as refused:
        store_save(store=edited, actor=admin_user)

    assert SECRETS_MESSAGE in refused.value.message
    assert getattr(Store.objects.get(pk=store.pk), endpoint_field) == getattr(store, endpoint_field)


def test_store_connect_refuses_blank_secrets(sandbox_server):
    with pytest.raises(StoreEndpointRefused):
        store_connect(
            actor=None,
            name="Blank",
            marketplace_code="DE",
            seller_id="A1BLANKSECRETS",
            credentials=StoreCredentials("amzn1.application-oa2-client.blank", "", ""),
            environment="sandbox",
            sp_api_endpoint=sandbox_server.url,
            token_endpoint=f"{sandbox_server.url}/auth/o2/token",
        )

    assert not Store.objects.exists()


# The dashboard's Add Store (which also updates an existing store of the same seller)


@pytest.fixture
def adding_client(client):
    user = get_user_model().objects.create_user("anna", password="x" * 20)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_store", "add_store"]))
    client.force_login(user)
    return client


def add_store_form(store, **overrides) -> dict:
    data = {
        "name": store.name,
        "marketplace_code": store.marketplace_code,
        "seller_id": store.seller_id,
        "environment": store.environment,
        "lwa_client_id": store.lwa_client_id,
        "lwa_client_secret": "",
        "refresh_token": "",
        "sp_api_endpoint": store.sp_api_endpoint,
        "token_endpoint": store.token_endpoint,
        "save": "1",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("button", ["save", "test_connection"])
def test_add_store_never_moves_a_stores_endpoints_without_the_secrets(
    adding_client, store, seller, attacker, button
):
    data = add_store_form(store, token_endpoint=f"{attacker.url}/auth/o2/token")
    data.pop("save")

    response = adding_client.post(reverse("dashboard:store_connect_save"), {**data, button: "1"})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"lwa_client_secret", "refresh_token"}
    assert Store.objects.get(pk=store.pk).token_endpoint == store.token_endpoint
    assert attacker.requests == []


@pytest.mark.parametrize(
    ("endpoint_field", "message"),
    [("sp_api_endpoint", SP_API_HOST_MESSAGE), ("token_endpoint", TOKEN_HOST_MESSAGE)],
)
def test_add_store_refuses_an_endpoint_that_is_not_amazons_while_the_sandbox_is_off(
    adding_client, sandbox_off, attacker, endpoint_field, message
):
    data = {
        "name": "Berlin",
        "marketplace_code": "DE",
        "seller_id": "A1ADDSTORE",
        "environment": "production",
        "lwa_client_id": "amzn1.application-oa2-client.add",
        "lwa_client_secret": "add-secret",
        "refresh_token": "Atzr|add",
        "sp_api_endpoint": "",
        "token_endpoint": "",
        endpoint_field: attacker.url + "/auth/o2/token",
    }

    for button in ("test_connection", "save"):
        response = adding_client.post(
            reverse("dashboard:store_connect_save"), {**data, button: "1"}
        )

        assert response.status_code == 200
        assert message in " ".join(response.context["form"].errors[endpoint_field])
    assert not Store.objects.exists()
    assert attacker.requests == []


# Outside the sandbox (production settings): Amazon's hosts only, at save and in the client


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"sp_api_endpoint": "http://127.0.0.1:8001"}, SP_API_HOST_MESSAGE),
        ({"token_endpoint": "http://127.0.0.1:8001/auth/o2/token"}, TOKEN_HOST_MESSAGE),
        (
            {"token_endpoint": "https://api.amazon.com.example.net/auth/o2/token"},
            TOKEN_HOST_MESSAGE,
        ),
    ],
)
def test_with_the_sandbox_off_store_connect_refuses_endpoints_that_are_not_amazons(
    sandbox_off, arguments, message
):
    with pytest.raises(StoreEndpointRefused) as refused:
        store_connect(
            actor=None,
            name="Custom",
            marketplace_code="DE",
            seller_id="A1CUSTOM",
            credentials=StoreCredentials("amzn1.application-oa2-client.c", "secret", "Atzr|c"),
            environment="production",
            **arguments,
        )

    assert message in refused.value.message
    assert not Store.objects.exists()


@pytest.mark.parametrize(
    ("environment", "sp_api_endpoint", "token_endpoint"),
    [
        ("production", None, None),
        ("sandbox", None, "https://api.amazon.co.uk/auth/o2/token"),
        ("production", "https://sellingpartnerapi-fe.amazon.com", "https://api.amazon.co.jp/auth/o2/token"),
        ("sandbox", "https://sandbox.sellingpartnerapi-na.amazon.com", None),
    ],
)  # fmt: skip
def test_with_the_sandbox_off_amazons_hosts_are_accepted(
    sandbox_off, environment, sp_api_endpoint, token_endpoint
):
    store, created = store_connect(
        actor=None,
        name="Amazon",
        marketplace_code="DE",
        seller_id="A1AMAZON",
        credentials=StoreCredentials("amzn1.application-oa2-client.a", "secret", "Atzr|a"),
        environment=environment,
        sp_api_endpoint=sp_api_endpoint,
        token_endpoint=token_endpoint,
    )

    assert created
    assert store.token_endpoint == (token_endpoint or "https://api.amazon.com/auth/o2/token")


def test_with_the_sandbox_off_store_save_refuses_a_custom_endpoint_even_with_the_secrets(
    sandbox_off, store, admin_user, seller
):
    edited = Store.objects.get(pk=store.pk)
    edited.name = "Renamed"

    with pytest.raises(StoreEndpointRefused) as refused:
        store_save(store=edited, actor=admin_user)

    assert SP_API_HOST_MESSAGE in refused.value.message
    assert Store.objects.get(pk=store.pk).name == store.name


@pytest.mark.parametrize("endpoint_field", ["sp_api_endpoint", "token_endpoint"])
def test_with_the_sandbox_off_a_stored_custom_endpoint_is_refused_by_the_client(
    sandbox_off, attacker, outside_attempts, endpoint_field
):
    # A bad row already in the database: the other endpoint is Amazon's.
    values = {
        "sp_api_endpoint": "https://sellingpartnerapi-eu.amazon.com",
        "token_endpoint": "https://api.amazon.com/auth/o2/token",
        endpoint_field: attacker.url
        + ("/auth/o2/token" if endpoint_field == "token_endpoint" else ""),
    }
    row = Store(
        name="Bad row",
        region="EU",
        marketplace_code="DE",
        marketplace_id=DE,
        seller_id="A1BADROW",
        environment="production",
        lwa_client_id="amzn1.application-oa2-client.bad",
        lwa_client_secret="bad-row-secret",
        refresh_token="Atzr|bad-row",
        **values,
    )
    Store.objects.bulk_create([row])  # straight in, past every check

    with pytest.raises(AmazonRequestError) as refused:
        AmazonClient(Store.objects.get(name="Bad row")).check_connection()

    assert "was not sent" in refused.value.message
    assert attacker.requests == []
    assert outside_attempts == []


def test_with_the_sandbox_off_the_token_client_itself_posts_nothing_elsewhere(
    sandbox_off, attacker
):
    # As python-amazon-sp-api's clients make it (their credentials are an object).
    token_client = token_client_class(f"{attacker.url}/auth/o2/token")(
        refresh_token="Atzr|direct",
        credentials=SimpleNamespace(
            lwa_app_id="amzn1.application-oa2-client.direct", lwa_client_secret="direct-secret"
        ),
    )

    with pytest.raises(AmazonRequestError):
        token_client.get_auth()

    assert attacker.requests == []


@pytest.mark.postgresql
def test_with_production_settings_a_sync_and_store_connect_send_nothing_to_a_custom_endpoint(
    store, seller, attacker, settings, tmp_path
):
    """DEBUG=false in a process of its own (SELLER_CENTRAL_SANDBOX_ENABLED derived, not set):
    the sync of a row pointing at the attacker, and store_connect to it, are refused."""
    Store.objects.filter(pk=store.pk).update(
        sp_api_endpoint=attacker.url, token_endpoint=f"{attacker.url}/auth/o2/token"
    )
    environment = subprocess_environment(settings, var_dir=tmp_path, DEBUG="false")
    environment.pop("SELLER_CENTRAL_SANDBOX_ENABLED", None)

    synced = run_manage("sync_amazon_orders", "--store", str(store.pk), environment=environment)
    connected = run_manage(
        "store_connect",
        "--name", "Elsewhere",
        "--marketplace", "DE",
        "--seller-id", "A1ELSEWHERE",
        "--client-id", "amzn1.application-oa2-client.elsewhere",
        "--client-secret", "elsewhere-secret",
        "--refresh-token", "Atzr|elsewhere",
        "--environment", "production",
        "--token-endpoint", f"{attacker.url}/auth/o2/token",
        environment=environment,
    )  # fmt: skip

    assert synced.returncode == 1, synced.stdout + synced.stderr
    assert "searchOrders was not sent" in synced.stderr
    assert SP_API_HOST_MESSAGE in synced.stderr
    assert connected.returncode != 0, connected.stdout + connected.stderr
    assert TOKEN_HOST_MESSAGE in connected.stderr
    assert not Store.objects.filter(name="Elsewhere").exists()
    assert attacker.requests == []
    assert leaked(attacker, seller.client_secret, seller.refresh_token) == []


def test_with_the_sandbox_on_store_connect_command_still_takes_our_sandbox(sandbox_server):
    out = io.StringIO()

    call_command(
        "store_connect",
        "--name", "Sandboxed",
        "--marketplace", "DE",
        "--seller-id", "A1SANDBOXED",
        "--client-id", "amzn1.application-oa2-client.s",
        "--client-secret", "s-secret",
        "--refresh-token", "Atzr|s",
        "--endpoint", sandbox_server.url,
        "--token-endpoint", f"{sandbox_server.url}/auth/o2/token",
        stdout=out,
        stderr=io.StringIO(),
    )  # fmt: skip

    assert Store.objects.get(pk=int(out.getvalue())).sp_api_endpoint == sandbox_server.url


def test_with_the_sandbox_off_store_connect_command_says_why_it_refuses(sandbox_off):
    with pytest.raises(CommandError, match="must be one of Amazon's SP-API hosts"):
        call_command(
            "store_connect",
            "--name", "Local",
            "--marketplace", "DE",
            "--seller-id", "A1LOCAL",
            "--client-id", "amzn1.application-oa2-client.l",
            "--client-secret", "l-secret",
            "--refresh-token", "Atzr|l",
            "--endpoint", "http://127.0.0.1:8001",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )  # fmt: skip


# The allow-list itself


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://sellingpartnerapi-na.amazon.com",
        "https://sellingpartnerapi-eu.amazon.com/",
        "https://SellingPartnerAPI-FE.amazon.com",
        "https://sandbox.sellingpartnerapi-eu.amazon.com",
        "https://sellingpartnerapi-eu.amazon.com:443",
    ],
)
def test_amazons_sp_api_hosts_are_allowed(sandbox_off, endpoint):
    from amazon_channel.spapi.marketplaces import sp_api_endpoint_host_problem

    assert sp_api_endpoint_host_problem(endpoint=endpoint) is None


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://sellingpartnerapi-eu.amazon.com",
        "https://sellingpartnerapi-eu.amazon.com:8443",
        "https://sellingpartnerapi-eu.amazon.com.example.net",
        "https://example.net/sellingpartnerapi-eu.amazon.com",
        "https://someone@sellingpartnerapi-eu.amazon.com",
        "https://sellingpartnerapi-eu.amazon.com@example.net",
        "https://example.net\\@sellingpartnerapi-eu.amazon.com",
        "https://example.net#@sellingpartnerapi-eu.amazon.com",
        "https://sellingpartnerapi%2Deu.amazon.com",
        "https://api.amazon.com",
        "https://amazon.com",
        "https://127.0.0.1",
        "http://169.254.169.254",
        "",
    ],
)
def test_anything_else_is_refused_as_an_sp_api_endpoint(sandbox_off, endpoint):
    from amazon_channel.spapi.marketplaces import sp_api_endpoint_host_problem

    problem = note_render(sp_api_endpoint_host_problem(endpoint=endpoint))
    assert problem.startswith(SP_API_HOST_MESSAGE)


@pytest.mark.parametrize(
    ("endpoint", "is_allowed"),
    [
        ("https://api.amazon.com/auth/o2/token", True),
        ("https://api.amazon.co.uk/auth/o2/token", True),
        ("https://api.amazon.co.jp/auth/o2/token", True),
        ("http://api.amazon.com/auth/o2/token", False),
        ("https://api.amazon.de/auth/o2/token", False),
        ("https://sellingpartnerapi-eu.amazon.com/auth/o2/token", False),
        ("https://api.amazon.com.example.net/auth/o2/token", False),
        ("https://api.amazon.com:8443/auth/o2/token", False),
        ("http://127.0.0.1:6379/auth/o2/token", False),
    ],
)
def test_only_login_with_amazons_hosts_take_the_token_request(sandbox_off, endpoint, is_allowed):
    from amazon_channel.spapi.marketplaces import token_endpoint_host_problem

    assert (token_endpoint_host_problem(endpoint=endpoint) is None) is is_allowed
