"""What the unit tests of a run's end share: the state table and the DR topic on an embedded AWS, with a
queue named ``inbox`` subscribed to the topic (raw delivery), and the settings that point at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dr import bookkeeping
from dr.settings import Settings

from localcloud.cloud import LocalCloud

REGION = "us-west-2"


@pytest.fixture
def settings(cloud: LocalCloud) -> Iterator[Settings]:
    ddb, sns, sqs = (cloud.client(s, REGION) for s in ("dynamodb", "sns", "sqs"))
    ddb.create_table(
        TableName="dr-state",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    topic = sns.create_topic(Name="dr-events")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    bookkeeping._patient.cache_clear()  # clients bound to an earlier test's embedded AWS
    yield Settings(STATE_TABLE="dr-state", TOPIC_ARN=topic, RECOVERY_REGION=REGION)
    bookkeeping._patient.cache_clear()
