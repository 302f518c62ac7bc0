"""The local SQS fixture (seller_central_sandbox.testing): moto's server over real HTTP, a
standard queue and the dead-letter queue that takes what was received too often."""

import pytest

from seller_central_sandbox.testing import sqs_queue_create


def test_the_local_queue_moves_a_message_received_three_times_to_its_dead_letter_queue(
    sqs_queue,
):
    client = sqs_queue.client()
    client.send_message(QueueUrl=sqs_queue.url, MessageBody='{"poison": true}')

    receives = 0
    for _ in range(4):
        answer = client.receive_message(
            QueueUrl=sqs_queue.url, VisibilityTimeout=0, WaitTimeSeconds=0
        )
        receives += len(answer.get("Messages", []))
    dead = client.receive_message(QueueUrl=sqs_queue.dead_letter_url, WaitTimeSeconds=1)

    assert receives == 3
    assert [message["Body"] for message in dead["Messages"]] == ['{"poison": true}']


@pytest.mark.parametrize("name", ["a-standard-queue", "a-fifo-queue.fifo"])
def test_a_queue_of_each_kind_has_its_arn_and_its_dead_letter_queue(sqs_server_url, name):
    queue = sqs_queue_create(sqs_server_url, name)
    attributes = queue.client().get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])[
        "Attributes"
    ]

    assert queue.arn == f"arn:aws:sqs:us-east-1:123456789012:{name}"
    assert (attributes.get("FifoQueue") == "true") == name.endswith(".fifo")
    assert queue.dead_letter_arn in attributes["RedrivePolicy"]
