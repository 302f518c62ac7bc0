"""The notification consumer as its own process (`manage.py notifications_consume`, the
Procfile's `notifications`): killed with SIGKILL mid-batch it loses nothing and hands off nothing
twice; SIGTERM stops it cleanly."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from amazon_channel.models import AmazonNotification, NotificationQueueStatus
from amazon_channel.tests.factories import StoreFactory
from amazon_channel.tests.test_notification_consumer import (
    order_change_body,
    queue_depth,
    subscription_for,
)
from tests.helpers import PROJECT_DIR, subprocess_environment
from tests.test_fault_drills import celery_worker, kill_hard, wait_until

pytestmark = [pytest.mark.postgresql, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

HANDLED_LINE = re.compile(r"Task amazon_channel\.tasks\.notification_handle\[[^\]]+\] succeeded")


def consumer_environment(settings, tmp_path: Path, queue, sqs_server_url: str, **overrides):
    return subprocess_environment(
        settings,
        var_dir=tmp_path,
        AMAZON_NOTIFICATIONS_QUEUE_URL=queue.url,
        AMAZON_SQS_ENDPOINT_URL=sqs_server_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # moto takes any key
        LOG_FORMAT="plain",
        **overrides,
    )


def consumer_start(environment: dict, log_path: Path, *arguments: str) -> subprocess.Popen:
    with log_path.open("a") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "notifications_consume", "--wait-seconds", "1",
             *arguments],
            cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def consume_until_all_handled(environment: dict, log: Path, queue, *, count: int) -> None:
    """A consumer started again after the kill, until `count` notifications are settled and
    the queue is empty, plus time for anything handed off twice to run; then stopped."""
    consumer = consumer_start(environment, log)
    try:
        wait_until(
            lambda: (
                AmazonNotification.objects.exclude(state=AmazonNotification.State.RECEIVED).count()
                == count
            ),
            timeout=60,
            message="every notification handled",
        )
        wait_until(lambda: queue_depth(queue.client(), queue.url) == 0, timeout=30)
        time.sleep(3)  # anything handed off twice would run by now
    finally:
        consumer.send_signal(signal.SIGTERM)
        consumer.wait(timeout=30)


def quiet_store():
    """A store whose notifications are handled at once and without a call to Amazon: inactive,
    so each ORDER_CHANGE waits (WAITING) instead of asking for a getOrder re-read, which would
    go to this store's unreachable endpoint and be retried. What these drills count is the
    consumer's hand-offs (the worker's notification_handle runs), not the handling."""
    return StoreFactory(is_active=False)


def test_a_consumer_killed_mid_batch_loses_nothing_and_hands_off_each_once(
    sqs_queue, sqs_server_url, settings, tmp_path
):
    store = quiet_store()
    subscription = subscription_for(store)
    bodies = [
        order_change_body(store, subscription.subscription_id, order_id=f"302-0000000-000000{n}")
        for n in range(5)
    ]
    client = sqs_queue.client()
    # A message taken and not deleted comes back after 2 s (30 s by default).
    client.set_queue_attributes(QueueUrl=sqs_queue.url, Attributes={"VisibilityTimeout": "2"})
    for body in bodies:
        client.send_message(QueueUrl=sqs_queue.url, MessageBody=json.dumps(body))
    # A broker that accepts the connection and never answers: the first consumer records a
    # notification, commits, and hangs handing it to Celery. Killed there, it leaves a RECEIVED
    # row and a message it never deleted.
    silent_broker = socket.socket()
    silent_broker.bind(("127.0.0.1", 0))
    silent_broker.listen(16)
    silent_url = f"redis://127.0.0.1:{silent_broker.getsockname()[1]}/0"
    log = tmp_path / "consumer.log"
    first = consumer_start(
        consumer_environment(
            settings, tmp_path, sqs_queue, sqs_server_url,
            REDIS_URL=silent_url, CELERY_BROKER_URL=silent_url,
        ),
        log,
    )  # fmt: skip
    try:
        wait_until(
            lambda: AmazonNotification.objects.exists(), timeout=60, message="a row recorded"
        )
        time.sleep(0.5)  # it stays stuck in the hand-off
        assert AmazonNotification.objects.count() == 1, log.read_text()
        kill_hard(first)
    finally:
        if first.poll() is None:  # a failed wait above must not leave the consumer running
            kill_hard(first)
        silent_broker.close()
    killed_in_hand_off = AmazonNotification.objects.get()
    assert killed_in_hand_off.state == AmazonNotification.State.RECEIVED

    environment = consumer_environment(settings, tmp_path, sqs_queue, sqs_server_url)
    worker_log = tmp_path / "worker.log"
    with celery_worker(environment, worker_log, "notifications"):
        consume_until_all_handled(environment, log, sqs_queue, count=len(bodies))

    notifications = AmazonNotification.objects.order_by("pk")
    assert [n.notification_id for n in notifications] == [
        body["NotificationMetadata"]["NotificationId"] for body in bodies
    ]
    killed_in_hand_off.refresh_from_db()
    # The copy SQS sent again was recorded as such, and handed off since still RECEIVED.
    assert killed_in_hand_off.receive_count == 2
    assert killed_in_hand_off.state == AmazonNotification.State.WAITING
    assert len(HANDLED_LINE.findall(worker_log.read_text())) == len(bodies), worker_log.read_text()
    assert queue_depth(client, sqs_queue.dead_letter_url) == 0


class DeleteHoldingProxy:
    """An HTTP proxy in front of moto that forwards every SQS call but DeleteMessage, which it
    holds unanswered: a consumer that recorded and handed off a notification is stuck there,
    to be killed before the message is deleted."""

    def __init__(self, target: str):
        target_address = urlsplit(target)
        self.is_holding = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                action = self.headers.get("X-Amz-Target", "") + body[:200].decode("latin-1")
                if "DeleteMessage" in action:
                    proxy.is_holding.set()
                    time.sleep(120)  # never answered: the consumer dies waiting
                    return
                upstream = http.client.HTTPConnection(
                    target_address.hostname, target_address.port, timeout=60
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request("POST", self.path, body=body, headers=headers)
                reply = upstream.getresponse()
                content = reply.read()
                self.send_response(reply.status)
                for name, value in reply.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                upstream.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_consumer_killed_before_deleting_what_it_handed_off_hands_nothing_off_twice(
    sqs_queue, sqs_server_url, settings, tmp_path
):
    store = quiet_store()
    subscription = subscription_for(store)
    bodies = [
        order_change_body(store, subscription.subscription_id, order_id=f"302-0000000-100000{n}")
        for n in range(5)
    ]
    client = sqs_queue.client()
    client.set_queue_attributes(QueueUrl=sqs_queue.url, Attributes={"VisibilityTimeout": "2"})
    for body in bodies:
        client.send_message(QueueUrl=sqs_queue.url, MessageBody=json.dumps(body))
    environment = consumer_environment(settings, tmp_path, sqs_queue, sqs_server_url)
    proxy = DeleteHoldingProxy(sqs_server_url)
    log, worker_log = tmp_path / "consumer.log", tmp_path / "worker.log"
    with celery_worker(environment, worker_log, "notifications"):
        first = consumer_start({**environment, "AMAZON_SQS_ENDPOINT_URL": proxy.url}, log)
        try:
            assert proxy.is_holding.wait(timeout=60), log.read_text()
            # Recorded, handed off and handled: only the message's deletion is missing.
            wait_until(
                lambda: AmazonNotification.objects.exclude(
                    state=AmazonNotification.State.RECEIVED
                ).exists(),
                timeout=30,
                message="the first notification handled",
            )
            kill_hard(first)
        finally:
            if first.poll() is None:  # a failed wait above must not leave it running
                kill_hard(first)
            proxy.close()
        assert AmazonNotification.objects.count() == 1

        consume_until_all_handled(environment, log, sqs_queue, count=len(bodies))

    first_notification = AmazonNotification.objects.get(
        notification_id=bodies[0]["NotificationMetadata"]["NotificationId"]
    )
    # Its copy came back and only counted: it was handled already.
    assert first_notification.receive_count == 2
    assert AmazonNotification.objects.count() == len(bodies)
    assert len(HANDLED_LINE.findall(worker_log.read_text())) == len(bodies), worker_log.read_text()


def test_sigterm_stops_the_consumer_cleanly_and_it_told_the_health_check_it_was_alive(
    sqs_queue, sqs_server_url, settings, tmp_path
):
    log = tmp_path / "consumer.log"
    environment = consumer_environment(settings, tmp_path, sqs_queue, sqs_server_url)
    heartbeat = tmp_path / "notifications.heartbeat"
    # Long polls of 20 s, as in production: the stop does not wait for the poll to end.
    process = consumer_start(environment, log, "--wait-seconds", "20")
    try:
        wait_until(
            lambda: NotificationQueueStatus.objects.filter(
                queue_url=sqs_queue.url, consumer_seen_at__isnull=False, checked_at__isnull=False
            ).exists(),
            timeout=60,
            message="the consumer reads the queue",
        )
        assert heartbeat.exists()
        time.sleep(1)  # in its long poll
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            kill_hard(process)

    assert exit_code == 0, log.read_text()
    assert time.monotonic() - started < 5
    assert "notifications consumer stopped" in log.read_text()


def test_the_consumer_waits_quietly_for_a_queue_server_that_is_not_up_yet(
    sqs_server_url, settings, tmp_path
):
    # The demo: moto starts beside the consumer, and the consumer makes the queue once it can.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    queue_url = f"{endpoint}/123456789012/notifications-{uuid.uuid4().hex[:8]}"
    environment = subprocess_environment(
        settings,
        var_dir=tmp_path,
        AMAZON_NOTIFICATIONS_QUEUE_URL=queue_url,
        AMAZON_SQS_ENDPOINT_URL=endpoint,
        AMAZON_NOTIFICATIONS_QUEUE_CREATE="true",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # moto takes any key
        LOG_FORMAT="plain",
    )
    log = tmp_path / "consumer.log"
    process = consumer_start(environment, log)
    moto = None
    try:
        time.sleep(4)
        assert process.poll() is None, log.read_text()
        moto = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_until(
            lambda: NotificationQueueStatus.objects.filter(
                queue_url=queue_url, consumer_seen_at__isnull=False
            ).exists(),
            timeout=60,
            message="the consumer reads the queue once it exists",
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        if moto is not None:
            os.killpg(moto.pid, signal.SIGTERM)
            moto.wait(timeout=10)

    output = log.read_text()
    assert output.count("waiting for the notifications queue") == 1, output
    assert "Traceback" not in output, output
    assert "notifications queue ready" in output
