"""`manage.py notifications_queue_create` against moto's SQS over HTTP: a standard queue Amazon
may send to, its dead-letter queue after AMAZON_NOTIFICATIONS_MAX_RECEIVES, made once however
often it runs."""

import json
import uuid

import pytest
from django.core.management import CommandError, call_command

from amazon_channel.notifications.queues import queue_region, sqs_client


@pytest.fixture
def sqs(sqs_server_url, settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AMAZON_SQS_ENDPOINT_URL = sqs_server_url
    return sqs_client(region="us-east-1")


def printed(output: str, label: str) -> str:
    return next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith(label))


def test_the_queue_command_makes_the_queue_its_dead_letter_queue_and_amazons_policy_once(
    sqs, settings, capsys
):
    settings.AMAZON_NOTIFICATIONS_MAX_RECEIVES = 4
    name = f"notifications-{uuid.uuid4().hex[:8]}"

    call_command("notifications_queue_create", "--name", name, "--region", "us-east-1")
    first = capsys.readouterr().out
    settings.AMAZON_NOTIFICATIONS_MAX_RECEIVES = 6
    call_command("notifications_queue_create", "--name", name, "--region", "us-east-1")
    second = capsys.readouterr().out

    url, arn = printed(first, "Queue URL"), printed(first, "Queue ARN")
    assert arn == f"arn:aws:sqs:us-east-1:123456789012:{name}"
    assert (printed(second, "Queue URL"), printed(second, "Queue ARN")) == (url, arn)
    names = [
        queue.rsplit("/", 1)[1] for queue in sqs.list_queues(QueueNamePrefix=name)["QueueUrls"]
    ]
    assert sorted(names) == [name, f"{name}-dead-letter"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert "FifoQueue" not in attributes
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == f"{arn}-dead-letter"
    assert int(redrive["maxReceiveCount"]) == 6  # the second run brought it up to date
    [statement] = json.loads(attributes["Policy"])["Statement"]
    # Amazon's sender (selling-partner-api-models#2259).
    assert statement["Principal"] == {"AWS": "arn:aws:iam::437568002678:root"}
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == arn
    assert {action.lower() for action in statement["Action"]} == {
        "sqs:sendmessage",
        "sqs:getqueueattributes",
    }
    dead = sqs.get_queue_attributes(
        QueueUrl=f"{url}-dead-letter", AttributeNames=["MessageRetentionPeriod"]
    )["Attributes"]
    assert dead["MessageRetentionPeriod"] == str(14 * 24 * 3600)


def test_the_queue_command_refuses_a_fifo_queue_amazon_would_never_fill(sqs):
    with pytest.raises(CommandError, match="standard queues only"):
        call_command("notifications_queue_create", "--name", "notifications.fifo")


@pytest.mark.parametrize(
    ("queue", "region"),
    [
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/notifications", "eu-west-1"),
        ("https://eu-central-1.queue.amazonaws.com/123456789012/notifications", "eu-central-1"),
        ("arn:aws:sqs:us-west-2:123456789012:notifications", "us-west-2"),
        ("http://127.0.0.1:5000/123456789012/notifications", None),
        ("arn:aws:sqs::123456789012:notifications", None),
    ],
)
def test_the_region_is_read_from_the_queue_url_or_arn(queue, region):
    assert queue_region(queue) == region
