"""pytest fixtures: the Seller Central sandbox over real HTTP, for any test module.

    @pytest.mark.django_db(transaction=True)
    def test_something(sandbox_seller, sandbox_client_kwargs):
        orders_generate(seller=sandbox_seller, count=5, seed=1)
        response = Orders(version="2026-01-01", **sandbox_client_kwargs).search_orders(...)

The server runs the sandbox's own WSGI handler in a thread of the test process and shares its
test database, so the tests must be transactional (`django_db(transaction=True)`).
"""

import threading
import uuid
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIRequestHandler

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connections

# Fast enough that feeds finish in a fraction of a second; a test may lower it again.
TEST_TIME_SCALE = 50.0


@dataclass(frozen=True)
class Exchange:
    """One request the sandbox answered, as it went over the wire."""

    method: str
    path: str
    query: str
    status: int
    headers: dict
    body: bytes


@dataclass(frozen=True)
class SandboxMarketplace:
    """What python-amazon-sp-api needs of a marketplace: endpoint, marketplace_id, region."""

    endpoint: str
    marketplace_id: str
    region: str = "us-east-1"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _Recorder:
    def __init__(self, application):
        self.application = application
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        captured = {}

        def recording_start_response(status, headers, exc_info=None):
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = {name.lower(): value for name, value in headers}
            return start_response(status, headers, exc_info)

        chunks = list(self.application(environ, recording_start_response))
        with self._lock:
            self.exchanges.append(
                Exchange(
                    method=environ["REQUEST_METHOD"],
                    path=environ.get("PATH_INFO", ""),
                    query=environ.get("QUERY_STRING", ""),
                    status=captured["status"],
                    headers=captured["headers"],
                    body=b"".join(chunks),
                )
            )
        return chunks


@dataclass
class SandboxServer:
    host: str
    port: int
    recorder: _Recorder = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        # python-amazon-sp-api sends `endpoint[8:]` as the Host header (it assumes https://):
        # the empty userinfo "@" keeps the host and port whole over plain http.
        return f"http://@{self.host}:{self.port}"

    @property
    def exchanges(self) -> list[Exchange]:
        return list(self.recorder.exchanges)

    def access_token_client_class(self):
        from sp_api.auth import AccessTokenClient

        return type(
            "SandboxAccessTokenClient",
            (AccessTokenClient,),
            {"scheme": "http://", "host": f"{self.host}:{self.port}"},
        )


@pytest.fixture
def sandbox_time_scale(settings):
    settings.SANDBOX_TIME_SCALE = TEST_TIME_SCALE
    return TEST_TIME_SCALE


@pytest.fixture
def sandbox_server(transactional_db, settings, sandbox_time_scale):
    """The sandbox's SP-API answering on 127.0.0.1 and a free port, for one test."""
    from django.test import override_settings

    from seller_central_sandbox.ratelimit import reset_rate_limits

    # The module builds the sandbox process's application on import, and refuses where the
    # sandbox is off: a test that turns it off before this fixture may be the first to import
    # it in its process (alone, or under xdist).
    with override_settings(SELLER_CENTRAL_SANDBOX_ENABLED=True):
        from seller_central_sandbox.wsgi import SandboxHandler

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    reset_rate_limits()
    # An in-memory SQLite test database exists only in this connection: share it, as
    # Django's LiveServerThread does.
    overrides = {
        connection.alias: connection
        for connection in connections.all()
        if connection.vendor == "sqlite" and connection.is_in_memory_db()
    }
    for connection in overrides.values():
        connection.inc_thread_sharing()
    recorder = _Recorder(SandboxHandler())
    httpd = ThreadedWSGIServer(
        ("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False, connections_override=overrides
    )
    httpd.set_app(recorder)
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sandbox-server",
        daemon=True,
    )
    thread.start()
    try:
        yield SandboxServer(host="127.0.0.1", port=httpd.server_address[1], recorder=recorder)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
        for connection in overrides.values():
            connection.dec_thread_sharing()


@pytest.fixture
def sandbox_seller_factory(transactional_db):
    """Make sellers with credentials of their own (a distinct refresh token per seller keeps
    python-amazon-sp-api's token cache, keyed by refresh token, from crossing tests)."""
    from seller_central_sandbox.services.sellers import seller_create

    def make(*, marketplace_ids=None, seller_id=None):
        suffix = uuid.uuid4().hex[:12].upper()
        return seller_create(
            seller_id=seller_id or f"A{suffix}",
            client_id=f"amzn1.application-oa2-client.{suffix.lower()}",
            client_secret=f"secret-{uuid.uuid4().hex}",
            refresh_token=f"Atzr|{uuid.uuid4().hex}{uuid.uuid4().hex}",
            marketplace_ids=marketplace_ids or ["ATVPDKIKX0DER"],
        )

    return make


@pytest.fixture
def sandbox_seller(sandbox_seller_factory):
    return sandbox_seller_factory()


def client_kwargs_for(server: SandboxServer, seller, *, marketplace_id: str | None = None) -> dict:
    """The arguments of sp_api.api.Orders / Feeds (besides `version`) that reach the sandbox."""
    return {
        "marketplace": SandboxMarketplace(
            endpoint=server.endpoint, marketplace_id=marketplace_id or seller.marketplace_ids[0]
        ),
        "credentials": {
            "refresh_token": seller.refresh_token,
            "lwa_app_id": seller.client_id,
            "lwa_client_secret": seller.client_secret,
        },
        "auth_token_client_class": server.access_token_client_class(),
    }


@pytest.fixture
def sandbox_client_kwargs(sandbox_server, sandbox_seller) -> dict:
    """`Orders(version="2026-01-01", **sandbox_client_kwargs)` talks to the sandbox as
    `sandbox_seller`."""
    return client_kwargs_for(sandbox_server, sandbox_seller)


def order_in_status(*, seller, status: str, fulfilled_by: str, seed: int, now=None):
    """One buyer order of the seller, already in `status` (a FulfillmentStatus) and fulfilled by
    `fulfilled_by` (a FulfilledBy), shaped as Amazon shows such an order: units shipped or
    cancelled to match, no address for an Amazon-fulfilled one. The buyer's side is drawn from
    `seed` as orders_generate draws it."""
    from seller_central_sandbox.models import FulfilledBy, FulfillmentStatus
    from seller_central_sandbox.services.orders import orders_generate

    order = orders_generate(seller=seller, count=1, seed=seed, now=now)[0]
    details = dict(order.details)
    if fulfilled_by == FulfilledBy.AMAZON:
        details["address"] = None
    elif not details.get("address"):
        details["address"] = {
            "name": details["buyer"]["buyerName"],
            "addressLine1": "12 Hauptstraße",
            "city": "Berlin",
            "postalCode": "10115",
            "countryCode": "DE",
            "addressType": "RESIDENTIAL",
        }
    order.status, order.fulfilled_by, order.details = status, fulfilled_by, details
    order.save(update_fields=["status", "fulfilled_by", "details"])
    items = list(order.items.order_by("pk"))
    if status == FulfillmentStatus.PARTIALLY_SHIPPED and items[0].quantity_ordered < 2:
        items[0].quantity_ordered = 2  # one unit shipped, one still to ship
    for position, item in enumerate(items):
        item.buyer_cancel_reason = ""
        item.quantity_shipped = 0
        if status == FulfillmentStatus.SHIPPED:
            item.quantity_shipped = item.quantity_ordered
        elif status == FulfillmentStatus.PARTIALLY_SHIPPED and position == 0:
            item.quantity_shipped = 1
        elif status == FulfillmentStatus.CANCELLED:
            item.quantity_cancelled = item.quantity_ordered
            item.cancelled_by, item.cancel_reason = "BUYER", "Ordered by mistake"
        item.save()
    return order


# -- Amazon SQS, locally: moto's server ---------------------------------------------------------

# moto's default account: the owner in every queue ARN it makes.
SQS_ACCOUNT_ID = "123456789012"
SQS_REGION = "us-east-1"


def sqs_client(endpoint_url: str):
    """A boto3 SQS client of the local server (moto takes any key)."""
    import boto3

    return boto3.client(
        "sqs",
        endpoint_url=endpoint_url,
        region_name=SQS_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a local fake's dummy key
    )


@dataclass(frozen=True)
class SqsQueue:
    """A queue of the local SQS server: its URL and ARN, and its dead-letter queue's."""

    endpoint_url: str
    name: str
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str

    def client(self):
        return sqs_client(self.endpoint_url)

    def receive(self, *, wait_seconds: float = 2.0, expected: int | None = None) -> list[str]:
        """The bodies of the messages that arrive within `wait_seconds` (all of them, or until
        `expected` arrived), each deleted once read."""
        import time

        client = self.client()
        bodies: list[str] = []
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and (expected is None or len(bodies) < expected):
            remaining = max(0, min(1, int(deadline - time.monotonic())))
            answer = client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=remaining
            )
            for message in answer.get("Messages", []):
                bodies.append(message["Body"])
                client.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            if not answer.get("Messages") and remaining == 0:
                time.sleep(0.05)
        return bodies


@pytest.fixture(scope="session")
def sqs_server_url():
    """moto's SQS (and every other AWS) server on 127.0.0.1 and a free port, for the session."""
    import logging

    from moto.server import ThreadedMotoServer

    # werkzeug logs each request at INFO from the server's threads, also after pytest closed
    # the stream it captured them in ("--- Logging error ---" in the run's output).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def sqs_queue_create(endpoint_url: str, name: str, *, max_receives: int = 3) -> SqsQueue:
    """A standard queue (or a FIFO one, for a name ending in .fifo) with a dead-letter queue
    that takes a message after `max_receives` receives."""
    import json

    client = sqs_client(endpoint_url)
    is_fifo = name.endswith(".fifo")
    fifo = {"FifoQueue": "true"} if is_fifo else {}
    dead_name = f"{name.removesuffix('.fifo')}-dead{'.fifo' if is_fifo else ''}"
    dead_url = client.create_queue(QueueName=dead_name, Attributes=fifo)["QueueUrl"]
    dead_arn = client.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(max_receives)}
    url = client.create_queue(
        QueueName=name, Attributes={**fifo, "RedrivePolicy": json.dumps(redrive)}
    )["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return SqsQueue(endpoint_url, name, url, arn, dead_url, dead_arn)


@pytest.fixture
def sqs_queue(sqs_server_url, settings) -> SqsQueue:
    """A fresh standard queue with its dead-letter queue, which the sandbox sends to."""
    settings.SANDBOX_SQS_ENDPOINT_URL = sqs_server_url
    return sqs_queue_create(sqs_server_url, f"notifications-{uuid.uuid4().hex[:12]}")
