"""The Procfile's sandbox process: its own port, only the SP-API URLs, the real client; feeds
that finish on their own and notify the queue."""

import contextlib
import io
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
from sp_api.api import Feeds, Notifications, Orders
from sp_api.auth import AccessTokenClient

from seller_central_sandbox.testing import SandboxMarketplace, sqs_queue_create
from seller_central_sandbox.tests.contract import validate_notification
from tests.helpers import PROJECT_DIR, project_environment, run_manage
from tests.test_processes import free_port, procfile_commands

VENV_BIN = Path(os.sys.executable).parent


@contextlib.contextmanager
def procfile_sandbox(environment: dict, port: int):
    """The Procfile's sandbox line in a process group of its own, once it answers on `port`
    (yields that first answer); stopped afterwards."""
    sandbox = subprocess.Popen(
        ["sh", "-c", procfile_commands()["sandbox"]],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                probe = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("the sandbox process did not come up")
        yield probe
    finally:
        os.killpg(sandbox.pid, signal.SIGTERM)
        sandbox.wait(timeout=20)


def test_the_sandbox_process_serves_the_sp_api_to_the_client(tmp_path):
    environment = project_environment(var_dir=tmp_path, keep_services=False)
    port = free_port()
    environment.update(SANDBOX_BIND=f"127.0.0.1:{port}", PATH=f"{VENV_BIN}:{environment['PATH']}")
    assert run_manage("migrate", "--noinput", environment=environment).returncode == 0
    created = run_manage(
        "sandbox", "seller-create", "--seller-id", "A1PROCESS", "--client-id", "process-client",
        "--client-secret", "process-secret", "--refresh-token", "Atzr|process-test",
        environment=environment,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    generated = run_manage(
        # Placed over the past day: an order placed now waits two minutes for a search.
        "sandbox", "orders-generate", "--seller-id", "A1PROCESS", "--count", "3", "--days", "1",
        environment=environment,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr

    with procfile_sandbox(environment, port) as probe:
        from sp_api.auth import AccessTokenClient

        token_client = type(
            "ProcessTokenClient",
            (AccessTokenClient,),
            {"scheme": "http://", "host": f"127.0.0.1:{port}"},
        )
        response = Orders(
            marketplace=SandboxMarketplace(
                endpoint=f"http://@127.0.0.1:{port}", marketplace_id="ATVPDKIKX0DER"
            ),
            version="2026-01-01",
            credentials={
                "refresh_token": "Atzr|process-test",
                "lwa_app_id": "process-client",
                "lwa_client_secret": "process-secret",
            },
            auth_token_client_class=token_client,
        ).search_orders(createdAfter="2000-01-01T00:00:00Z")

    assert probe.status_code == 404
    assert probe.json()["errors"][0]["code"] == "NotFound"
    assert len(response.payload["orders"]) == 3
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0056"


ACKNOWLEDGEMENT = (
    b'<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header>'
    b"<DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>A1NOTIFY</MerchantIdentifier>"
    b"</Header><MessageType>OrderAcknowledgement</MessageType><Message><MessageID>1</MessageID>"
    b"<OrderAcknowledgement><AmazonOrderID>111-1111111-1111111</AmazonOrderID>"
    b"<StatusCode>Success</StatusCode></OrderAcknowledgement></Message></AmazonEnvelope>"
)


def test_the_sandbox_process_finishes_an_unread_feed_and_notifies_the_queue(
    tmp_path, sqs_server_url
):
    queue = sqs_queue_create(sqs_server_url, f"process-{uuid.uuid4().hex[:12]}")
    environment = project_environment(var_dir=tmp_path, keep_services=False)
    port = free_port()
    environment.update(
        SANDBOX_BIND=f"127.0.0.1:{port}",
        PATH=f"{VENV_BIN}:{environment['PATH']}",
        SANDBOX_SQS_ENDPOINT_URL=sqs_server_url,
        SANDBOX_TIME_SCALE="20",
        SANDBOX_NOTIFICATION_PUMP_SECONDS="0.2",
    )
    assert run_manage("migrate", "--noinput", environment=environment).returncode == 0
    created = run_manage(
        "sandbox", "seller-create", "--seller-id", "A1NOTIFY", "--client-id", "notify-client",
        "--client-secret", "notify-secret", "--refresh-token", "Atzr|notify-test",
        environment=environment,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    with procfile_sandbox(environment, port):
        kwargs = {
            "marketplace": SandboxMarketplace(
                endpoint=f"http://@127.0.0.1:{port}", marketplace_id="ATVPDKIKX0DER"
            ),
            "credentials": {
                "refresh_token": "Atzr|notify-test",
                "lwa_app_id": "notify-client",
                "lwa_client_secret": "notify-secret",
            },
            "auth_token_client_class": type(
                "ProcessTokenClient",
                (AccessTokenClient,),
                {"scheme": "http://", "host": f"127.0.0.1:{port}"},
            ),
        }
        notifications = Notifications(**kwargs)
        destination_id = notifications.create_destination(name="process", arn=queue.arn).payload[
            "destinationId"
        ]
        notifications.create_subscription(
            "FEED_PROCESSING_FINISHED", destination_id=destination_id, payload_version="2020-09-04"
        )
        _, feed = Feeds(**kwargs).submit_feed(
            "POST_ORDER_ACKNOWLEDGEMENT_DATA",
            io.BytesIO(ACKNOWLEDGEMENT),
            content_type="text/xml; charset=UTF-8",
        )

        bodies = queue.receive(wait_seconds=15, expected=1)

    [notification] = [json.loads(body) for body in bodies]
    validate_notification(notification)
    finished = notification["payload"]["feedProcessingFinishedNotification"]
    assert finished["feedId"] == feed.payload["feedId"]
    assert finished["processingStatus"] == "DONE"
