"""Test connection is not a port scanner: it contacts only the hosts a store may use (Amazon's,
or any while the Seller Central sandbox is enabled), and when the endpoints cannot be reached or
answer something that is not Amazon's, it says so in one message whatever answered.

The targets are what a scan would try: a closed port on loopback, a port that speaks another
protocol (as Redis does), a port that accepts and never answers, a web server that is not
Amazon's, and the cloud metadata address 169.254.169.254 (never contacted by these tests: the
socket layer refuses and records any attempt to reach it).
"""

import logging
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from amazon_channel.models import Store
from amazon_channel.stores.services import StoreCredentials, store_connection_test

pytestmark = pytest.mark.django_db(transaction=True)

METADATA_ADDRESS = "169.254.169.254"
CREDENTIALS = StoreCredentials("amzn1.application-oa2-client.scan", "scan-secret", "Atzr|scan")


# What a scan would find


class _RedisLike(socketserver.BaseRequestHandler):
    """Reads what comes and answers as Redis does to an HTTP request, then hangs up."""

    def handle(self):
        self.server.connections.append(self.client_address)
        self.request.settimeout(2)
        try:
            self.request.recv(4096)
            self.request.sendall(b"-ERR unknown command 'POST', with args beginning with:\r\n")
        except OSError:
            pass


class _Silent(socketserver.BaseRequestHandler):
    """Accepts and never answers (a filtered or a slow service)."""

    def handle(self):
        self.server.connections.append(self.client_address)
        self.server.release.wait(15)


class _NotAmazon(BaseHTTPRequestHandler):
    """A web server of some other kind: an HTML page for every path."""

    def _answer(self):
        self.server.connections.append(self.client_address)
        body = b"<html><body><h1>Not Found</h1></body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format, *args):
        pass


class _OtherJSON(BaseHTTPRequestHandler):
    """A JSON service that hands out a token, then answers in a shape that is not Amazon's."""

    def _answer(self):
        self.server.connections.append(self.client_address)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token = self.path.startswith("/auth/o2/token")
        body = b'{"access_token": "Atza|other", "expires_in": 3600}' if token else b"[1]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format, *args):
        pass


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True


def _serve(server_class, handler):
    server = server_class(("127.0.0.1", 0), handler)
    server.connections = []
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    return server, thread


@pytest.fixture
def targets():
    """{name: (base URL, server or None)}: each target's URL and what records its visitors."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    running = {
        "non-HTTP port": _serve(_TCPServer, _RedisLike),
        "silent port": _serve(_TCPServer, _Silent),
        "other web server": _serve(_HTTPServer, _NotAmazon),
        "other JSON service": _serve(_HTTPServer, _OtherJSON),
    }
    found = {"closed port": (f"http://127.0.0.1:{closed_port}", None)}
    for name, (server, _thread) in running.items():
        found[name] = (f"http://127.0.0.1:{server.server_address[1]}", server)
    found["metadata address"] = (f"http://{METADATA_ADDRESS}", None)
    yield found
    for server, thread in running.values():
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def metadata_attempts(monkeypatch):
    """Every attempt to open a connection off this machine (the metadata address among them),
    refused before it leaves: httpx connects through socket.create_connection."""
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
def merchant_client(client):
    user = get_user_model().objects.create_user("anna", password="x" * 20)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_store", "add_store"]))
    client.force_login(user)
    return client


def scan_form(url: str) -> dict:
    return {
        "name": "Scan",
        "marketplace_code": "DE",
        "seller_id": "A1SCANNER",
        "environment": "sandbox",
        "lwa_client_id": CREDENTIALS.lwa_client_id,
        "lwa_client_secret": CREDENTIALS.lwa_client_secret,
        "refresh_token": CREDENTIALS.refresh_token,
        "sp_api_endpoint": url,
        "token_endpoint": f"{url}/auth/o2/token",
        "test_connection": "1",
    }


def visitors(targets) -> dict:
    return {name: list(server.connections) for name, (_url, server) in targets.items() if server}


# With the sandbox off (production): nothing is sent, and the refusal is the same for all


def test_with_the_sandbox_off_test_connection_refuses_every_target_alike_and_sends_nothing(
    merchant_client, targets, metadata_attempts, settings
):
    settings.SELLER_CENTRAL_SANDBOX_ENABLED = False

    errors = {
        name: merchant_client.post(reverse("dashboard:store_connect_save"), scan_form(url))
        .context["form"]
        .errors
        for name, (url, _server) in targets.items()
    }

    assert len({repr(sorted(found.items())) for found in errors.values()}) == 1, errors
    first = next(iter(errors.values()))
    assert set(first) == {"sp_api_endpoint", "token_endpoint"}
    assert all(server_visits == [] for server_visits in visitors(targets).values())
    assert metadata_attempts == []
    assert not Store.objects.exists()


def test_with_the_sandbox_off_the_service_refuses_every_target_alike_and_sends_nothing(
    targets, metadata_attempts, settings
):
    settings.SELLER_CENTRAL_SANDBOX_ENABLED = False

    problems = {
        name: store_connection_test(
            marketplace_code="DE",
            seller_id="A1SCANNER",
            credentials=CREDENTIALS,
            environment="sandbox",
            sp_api_endpoint=url,
            token_endpoint=f"{url}/auth/o2/token",
        )
        for name, (url, _server) in targets.items()
    }

    assert len(set(problems.values())) == 1, problems
    assert "must be one of Amazon's SP-API hosts" in next(iter(problems.values()))
    assert all(server_visits == [] for server_visits in visitors(targets).values())
    assert metadata_attempts == []


@pytest.mark.parametrize("endpoint_field", ["sp_api_endpoint", "token_endpoint"])
def test_with_the_sandbox_off_one_foreign_endpoint_is_enough_to_send_nothing(
    targets, settings, endpoint_field
):
    settings.SELLER_CENTRAL_SANDBOX_ENABLED = False
    url, server = targets["other web server"]
    endpoints = {
        "sp_api_endpoint": "https://sandbox.sellingpartnerapi-eu.amazon.com",
        "token_endpoint": "https://api.amazon.co.uk/auth/o2/token",
        endpoint_field: url + ("/auth/o2/token" if endpoint_field == "token_endpoint" else ""),
    }

    problem = store_connection_test(
        marketplace_code="DE",
        seller_id="A1SCANNER",
        credentials=CREDENTIALS,
        environment="sandbox",
        **endpoints,
    )

    assert "Other endpoints exist only while the Seller Central sandbox is enabled" in problem
    assert server.connections == []


# With the sandbox on (the demo, the tests): custom endpoints are contacted, but whatever
# answers, the message is the same


def test_with_the_sandbox_on_whatever_answers_test_connection_says_the_same(
    merchant_client, targets
):
    reachable = {name: target for name, target in targets.items() if name != "metadata address"}

    messages = {
        name: merchant_client.post(reverse("dashboard:store_connect_save"), scan_form(url))
        .context["form"]
        .non_field_errors()
        for name, (url, _server) in reachable.items()
    }

    texts = {name: " ".join(found) for name, found in messages.items()}
    assert len(set(texts.values())) == 1, texts
    text = next(iter(texts.values()))
    assert "Test connection failed" in text
    assert "Could not reach Amazon for getMarketplaceParticipations" in text
    assert "127.0.0.1" not in text
    # They were contacted (the sandbox allows custom endpoints): the sameness is the point.
    assert all(
        visitors(targets)[name]
        for name in ("non-HTTP port", "other web server", "other JSON service")
    )


def test_an_answer_that_cannot_be_read_is_logged_with_its_cause_the_network_is_not(
    merchant_client, targets, caplog
):
    # When Test connection reaches a service whose answer is not Amazon's shape, and a closed port
    for name in ("other JSON service", "closed port"):
        url, _server = targets[name]
        with caplog.at_level(logging.WARNING, logger="amazon_channel.spapi.client"):
            response = merchant_client.post(reverse("dashboard:store_connect_save"), scan_form(url))
        # Then the merchant reads the same message for both
        errors = " ".join(response.context["form"].non_field_errors())
        assert "Could not reach Amazon for getMarketplaceParticipations" in errors
        logged = [r for r in caplog.records if r.getMessage().startswith("unreadable answer")]
        # And the log keeps the cause of an unreadable answer (a failed call of ours looks the
        # same), not of a network failure
        if name == "other JSON service":
            assert logged and all(record.exc_info for record in logged)
        else:
            assert logged == []
        caplog.clear()
