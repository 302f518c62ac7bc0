"""Amazon SQS as the channel uses it: the client, the queue and its dead-letter queue made once
(`manage.py notifications_queue_create`), and what the consumer reports of both.

Only our consumer reads the queue with boto3; Celery never does (kombu's SQS transport expects
its own envelope and fails on foreign JSON: celery/kombu#1181, #2421).
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.utils import timezone

from amazon_channel.models import NotificationQueueStatus

# Amazon's account that sends every Selling Partner API notification: the queue policy must let
# it send (amzn/selling-partner-api-models#2259, the same thread as -docs#2043: "you must use
# 437568002678 to set the Principal"; Amazon's guide asks for SendMessage and GetQueueAttributes,
# -models#1001).
AMAZON_NOTIFICATIONS_ACCOUNT = "437568002678"
DEFAULT_QUEUE_NAME = "amazon-notifications"
# The dead-letter queue keeps a poison message as long as SQS allows (14 days): a standard
# queue's message keeps its first enqueue time when moved there, so it must outlast the queue's.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# A queue on a server that is not AWS (moto) has no region in its URL.
FALLBACK_REGION = "us-east-1"
# Long polls last 20 s: an answer may take that long and a little more.
CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3}
)
_REGION_IN_URL = re.compile(
    r"^https?://(?:sqs[.-]([a-z0-9-]+)\.amazonaws\.com|([a-z0-9-]+)\.queue\.amazonaws\.com)"
)


@dataclass(frozen=True)
class QueueReference:
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str


def queue_region(queue: str) -> str | None:
    """The region of a queue URL (sqs.<region>.amazonaws.com, <region>.queue.amazonaws.com) or
    ARN (arn:aws:sqs:<region>:<account>:<name>); None when it names none (a local server)."""
    if queue.startswith("arn:"):
        parts = queue.split(":")
        return parts[3] if len(parts) == 6 and parts[3] else None
    match = _REGION_IN_URL.match(queue)
    return (match.group(1) or match.group(2)) if match else None


def sqs_client(*, queue: str = "", region: str | None = None, endpoint_url: str | None = None):
    """A boto3 SQS client for the queue's region, at AMAZON_SQS_ENDPOINT_URL when set (moto in
    the demo and the tests). Credentials come the standard boto3 way (environment, shared
    files, the instance's or task's role)."""
    region = region or queue_region(queue)
    if region is None and not boto3.session.Session().region_name:
        region = FALLBACK_REGION
    return boto3.session.Session().client(
        "sqs",
        region_name=region,
        endpoint_url=endpoint_url or settings.AMAZON_SQS_ENDPOINT_URL or None,
        config=CLIENT_CONFIG,
    )


def queue_policy(queue_arn: str) -> str:
    """The queue policy that lets Amazon's notifications account send to the queue."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "amazon-selling-partner-notifications",
            "Statement": [
                {
                    "Sid": "AmazonSellingPartnerApiSends",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{AMAZON_NOTIFICATIONS_ACCOUNT}:root"},
                    "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"],
                    "Resource": queue_arn,
                }
            ],
        }
    )


def _queue_ensure(client, name: str, attributes: dict) -> tuple[str, str]:
    """The queue's URL and ARN, made with `attributes` or brought to them: CreateQueue refuses
    an existing name whose attributes differ, so an existing queue is updated instead."""
    try:
        url = client.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in (
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ):
            raise
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    else:
        if attributes:
            client.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def notification_queue_create(
    *, name: str, max_receives: int, region: str | None = None, endpoint_url: str | None = None
) -> QueueReference:
    """Make (or bring up to date) the standard queue Amazon sends notifications to, its
    dead-letter queue `<name>-dead-letter` (a message received `max_receives` times unhandled
    moves there) and the policy that lets Amazon send. Idempotent. Raises botocore's errors.

    A standard queue: Amazon delivers nothing to a FIFO queue (amzn/selling-partner-api-docs#845).
    """
    if name.endswith(".fifo"):
        raise ValueError("Amazon delivers notifications to standard queues only, not FIFO.")
    client = sqs_client(region=region, endpoint_url=endpoint_url)
    dead_url, dead_arn = _queue_ensure(
        client,
        f"{name}-dead-letter",
        {"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS)},
    )
    url, arn = _queue_ensure(client, name, {})
    redrive = {"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(max_receives)}
    client.set_queue_attributes(
        QueueUrl=url,
        Attributes={"RedrivePolicy": json.dumps(redrive), "Policy": queue_policy(arn)},
    )
    return QueueReference(url=url, arn=arn, dead_letter_url=dead_url, dead_letter_arn=dead_arn)


def queue_name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


def _epoch_milliseconds(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def dead_letter_oldest_sent(*, client, dead_letter_url: str) -> datetime | None:
    """When the oldest message we can see in the dead-letter queue was first sent.

    SQS has no "oldest message" attribute (CloudWatch's ApproximateAgeOfOldestMessage needs
    CloudWatch access): we peek, receiving up to 10 messages with VisibilityTimeout=0, so they
    stay visible to anyone else at once. Peeking counts as a receive of those messages, which
    matters nowhere (the dead-letter queue has no redrive policy), and sees a sample of a large
    queue: the age is then a lower bound. SentTimestamp survives the move to the dead-letter
    queue (a standard queue keeps a message's first enqueue time), so it is Amazon's send time.
    """
    answer = client.receive_message(
        QueueUrl=dead_letter_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        WaitTimeSeconds=0,
        AttributeNames=["SentTimestamp"],
    )
    sent = [
        _epoch_milliseconds(message.get("Attributes", {}).get("SentTimestamp"))
        for message in answer.get("Messages", [])
    ]
    sent = [moment for moment in sent if moment is not None]
    return min(sent) if sent else None


def queue_status_refresh(*, client, queue_url: str) -> NotificationQueueStatus:
    """Read the queue's and its dead-letter queue's depths (and the dead-letter queue's oldest
    message) into NotificationQueueStatus, for the health check and Django admin. Raises
    botocore's errors."""
    attributes = client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "RedrivePolicy",
        ],
    )["Attributes"]
    values = {
        "messages": _count(attributes.get("ApproximateNumberOfMessages")),
        "messages_in_flight": _count(attributes.get("ApproximateNumberOfMessagesNotVisible")),
        "dead_letter_queue_url": "",
        "dead_letter_messages": 0,
        "dead_letter_oldest_at": None,
        "checked_at": timezone.now(),
    }
    dead_letter_arn = _dead_letter_arn(attributes.get("RedrivePolicy"))
    if dead_letter_arn:
        _, _, _, _, account, name = dead_letter_arn.split(":", 5)
        dead_url = client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        dead_count = _count(
            client.get_queue_attributes(
                QueueUrl=dead_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"].get("ApproximateNumberOfMessages")
        )
        values.update(dead_letter_queue_url=dead_url[:1000], dead_letter_messages=dead_count)
        if dead_count:
            values["dead_letter_oldest_at"] = dead_letter_oldest_sent(
                client=client, dead_letter_url=dead_url
            )
    status, _ = NotificationQueueStatus.objects.update_or_create(
        queue_url=queue_url, defaults=values
    )
    return status


def _count(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _dead_letter_arn(redrive_policy) -> str:
    try:
        arn = json.loads(redrive_policy or "{}").get("deadLetterTargetArn", "")
    except (ValueError, AttributeError):
        return ""
    return arn if isinstance(arn, str) and len(arn.split(":")) == 6 else ""


# The consumer reads the queue at least every 20 s; not seen for this long, it is down or stuck.
CONSUMER_SILENT_SECONDS = 120


def notification_queue_health(*, queue_url: str) -> dict:
    """What the consumer last reported of the queue, for /healthz: "ok"; "unhealthy" when the
    consumer has not read the queue for CONSUMER_SILENT_SECONDS; "degraded" when messages wait
    in the dead-letter queue. With the depths and the dead-letter queue's oldest message's age
    (seconds since Amazon sent it)."""
    status = NotificationQueueStatus.objects.filter(queue_url=queue_url).first()
    now = timezone.now()

    def age(moment) -> int | None:
        return None if moment is None else max(0, int((now - moment).total_seconds()))

    if status is None:
        return {"status": "unhealthy", "problem": "the consumer has never read the queue"}
    seen_age = age(status.consumer_seen_at)
    is_silent = seen_age is None or seen_age > CONSUMER_SILENT_SECONDS
    report = {
        "status": "unhealthy" if is_silent else "ok",
        "consumer_seen_seconds_ago": seen_age,
        "messages": status.messages,
        "messages_in_flight": status.messages_in_flight,
        "dead_letter_messages": status.dead_letter_messages,
        "dead_letter_oldest_age_seconds": age(status.dead_letter_oldest_at),
        "checked_seconds_ago": age(status.checked_at),
    }
    if is_silent:
        report["problem"] = f"the consumer has not read the queue for {CONSUMER_SILENT_SECONDS} s"
    elif status.dead_letter_messages:
        # Messages no retry will mend: someone should look (Django admin shows the queue).
        report["status"] = "degraded"
        report["problem"] = "messages in the dead-letter queue"
    return report
