"""Each adapter replaces exactly one thing in moto. These tests fail if moto changes under an adapter
(the attribute it patches moved, or the gap it closes was closed or changed upstream)."""

from __future__ import annotations

import io
import os
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import botocore.endpoint
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.awslambda.models import LambdaFunction
from moto.core.request import Request as MotoRequest
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.string import string_expression as se
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk as sdk,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.asl.eval.callback import callback
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

from localcloud.adapters import jsonata_eval
from localcloud.adapters.jsonata_eval import JsonataAdapter, evaluate
from localcloud.adapters.lambda_runtime import InProcessLambdaRuntime, ThreadLocalEnviron
from localcloud.adapters.patching import Patch
from localcloud.adapters.sdk_casing import SdkCasingAdapter
from localcloud.adapters.virtual_time import VirtualTimeAdapter
from localcloud.clock import VirtualClock, VirtualTimeoutEvent
from localcloud.cloud import LocalCloud


def test_moto_still_ships_without_a_jsonata_evaluator() -> None:
    # The gap the JSONata adapter closes: if moto ever fills it, revisit the adapter.
    assert moto_jsonata._eval_jsonata is None


def test_jsonata_binds_values_that_splicing_would_break() -> None:
    tricky = 'a "quote", a \\ backslash and a\nnewline'
    assert evaluate("$v & '!'", {"v": tricky}) == tricky + "!"
    assert evaluate("$states.input.x * 2", {"states": {"input": {"x": 21}}}) == 42


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$partition([1,2,3,4,5], 2)", [[1, 2], [3, 4], [5]]),
        ("$range(0, 10, 5)", [0, 5, 10]),
        ("$hash('abc', 'MD5')", "900150983cd24fb0d6963f7d28e17f72"),
        ("$parse('{\"a\": [1]}')", {"a": [1]}),
        ("$length($uuid())", 36),
        ("$random() < 1", True),
    ],
)
def test_jsonata_has_the_functions_step_functions_adds(expression: str, expected: object) -> None:
    assert evaluate(expression, {}) == expected


def test_jsonata_errors_name_the_expression() -> None:
    with pytest.raises(moto_jsonata.JSONataException) as err:
        evaluate("$hash('x', 'CRC32')", {})
    assert "CRC32" in str(err.value.details)


def test_jsonata_adapter_replaces_both_evaluating_components_and_restores_them() -> None:
    originals = (se.StringJSONata._eval_body, se.StringVariableSample._eval_body)
    adapter = JsonataAdapter()
    adapter.install()
    assert se.StringJSONata._eval_body is jsonata_eval._eval_string_jsonata
    assert se.StringVariableSample._eval_body is jsonata_eval._eval_string_variable_sample
    adapter.uninstall()
    assert (se.StringJSONata._eval_body, se.StringVariableSample._eval_body) == originals


def test_sdk_casing_restores_the_normalisers_moto_left_empty() -> None:
    assert sdk.StateTaskServiceAwsSdk._normalise_response.__qualname__.startswith("StateTaskService.")
    adapter = SdkCasingAdapter()
    adapter.install()
    try:
        task = sdk.StateTaskServiceAwsSdk.__new__(sdk.StateTaskServiceAwsSdk)
        task.resource = type("R", (), {"api_name": "sfn", "api_action": "describeExecution"})()
        params = {"ExecutionArn": "arn:x"}
        task._normalise_parameters(params)
        assert params == {"executionArn": "arn:x"}
        response = {"status": "RUNNING", "executionArn": "arn:x"}
        task._normalise_response(response)
        assert response == {"Status": "RUNNING", "ExecutionArn": "arn:x"}
    finally:
        adapter.uninstall()


def test_virtual_time_replaces_every_real_wait_and_puts_them_back() -> None:
    clock = VirtualClock()
    originals = (
        wait_function.WaitFunction._wait_interval,
        retrier_decl.time,
        execute_state.threading,
        callback.Event,
        botocore.endpoint.time,
    )
    adapter = VirtualTimeAdapter(clock)
    adapter.install()
    assert callback.Event is VirtualTimeoutEvent
    assert retrier_decl.time.sleep == clock.sleep
    assert botocore.endpoint.time.sleep == clock.skip
    assert execute_state.threading.Event is VirtualTimeoutEvent
    adapter.uninstall()
    assert (
        wait_function.WaitFunction._wait_interval,
        retrier_decl.time,
        execute_state.threading,
        callback.Event,
        botocore.endpoint.time,
    ) == originals


def test_a_virtual_timeout_expires_when_the_clock_passes_it_not_before() -> None:
    clock = VirtualClock()
    clock.install()
    try:
        VirtualTimeoutEvent.clock = clock
        event = VirtualTimeoutEvent()
        result: list[bool] = []
        waiter = threading.Thread(target=lambda: result.append(event.wait(timeout=3600)))
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive()  # an hour of virtual time has not passed
        clock.advance(3601)
        waiter.join(5)
        assert result == [False]
    finally:
        VirtualTimeoutEvent.clock = None
        clock.uninstall()


def test_lambda_adapter_replaces_the_docker_invocation() -> None:
    runtime = InProcessLambdaRuntime()
    original = LambdaFunction._invoke_lambda
    runtime.install()
    try:
        assert LambdaFunction._invoke_lambda is not original
        assert isinstance(os.environ, ThreadLocalEnviron)
    finally:
        runtime.uninstall()
    assert LambdaFunction._invoke_lambda is original


def test_each_invocation_thread_sees_only_its_own_environment() -> None:
    environ = ThreadLocalEnviron({"SHARED": "base"})
    seen: dict[str, tuple[str | None, str | None]] = {}

    def run(name: str) -> None:
        environ.overlay = {"COLOR": name}
        seen[name] = (environ.get("COLOR"), environ.get("SHARED"))
        environ.overlay = None

    threads = [threading.Thread(target=run, args=(c,)) for c in ("red", "blue")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"red": ("red", None), "blue": ("blue", None)}
    assert environ["SHARED"] == "base"


def test_a_patch_of_something_moto_no_longer_has_fails_loudly() -> None:
    with pytest.raises(AttributeError, match="moto changed under the adapter"):
        Patch(LambdaFunction, "_invoke_lambda_in_docker", None)


def test_moto_still_orders_cloudwatch_dimensions_by_comparing_a_name_with_a_value() -> None:
    from moto.cloudwatch.models import Dimension

    # The gap: with moto's ordering, these two dimensions are each "less" than the other in no order.
    a, b = Dimension("TableName", "t"), Dimension("ReceivingRegion", "us-west-2")
    assert not (a < b) and not (b < a)


def test_a_two_dimension_metric_is_found_whatever_the_order_of_its_dimensions(cloud: LocalCloud) -> None:
    from datetime import UTC, datetime, timedelta

    cw = cloud.client("cloudwatch", "us-east-1")
    cw.put_metric_data(
        Namespace="AWS/DynamoDB",
        MetricData=[
            {
                "MetricName": "ReplicationLatency",
                "Value": 250.0,
                "Unit": "Milliseconds",
                "Dimensions": [{"Name": "ReceivingRegion", "Value": "us-west-2"}, {"Name": "TableName", "Value": "t"}],
            }
        ],
    )
    now = datetime.now(UTC)
    out = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/DynamoDB",
                        "MetricName": "ReplicationLatency",
                        "Dimensions": [
                            {"Name": "TableName", "Value": "t"},
                            {"Name": "ReceivingRegion", "Value": "us-west-2"},
                        ],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
    )
    assert out["MetricDataResults"][0]["Values"] == [250.0]


def _moto_key(key_id: str, region: str = "us-east-1") -> object:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.kms.models import kms_backends

    return kms_backends[DEFAULT_ACCOUNT_ID][region].keys[key_id]


def test_a_symmetric_key_encrypts_and_decrypts_without_ever_generating_a_key_pair(cloud: LocalCloud) -> None:
    from localcloud.adapters.kms_lazy_keys import LazyPrivateKey

    kms = cloud.client("kms", "us-east-1")
    key_id = kms.create_key(Description="data key")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    kms.describe_key(KeyId=key_id)
    private = _moto_key(key_id).private_key  # type: ignore[attr-defined]
    assert isinstance(private, LazyPrivateKey)
    assert not private.generated  # moto would have spent ~50 ms of CPU on an RSA-2048 pair here


def test_an_asymmetric_key_signs_verifies_and_gives_its_public_key_through_the_lazy_key(cloud: LocalCloud) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    kms = cloud.client("kms", "us-east-1")
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["KeyId"]
    signed = kms.sign(KeyId=key_id, Message=b"evidence", SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["Signature"]
    assert kms.verify(
        KeyId=key_id, Message=b"evidence", Signature=signed, SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256"
    )["SignatureValid"]
    public = load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    public.verify(signed, b"evidence", padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]
    assert _moto_key(key_id).private_key.generated  # type: ignore[attr-defined]
    with pytest.raises(InvalidSignature):  # the same key pair every time: the signature fits only its message
        public.verify(signed, b"tampered", padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]


def test_the_lazy_key_adapter_puts_moto_key_generation_back() -> None:
    import moto.kms.models

    from localcloud.adapters.kms_lazy_keys import KmsLazyKeysAdapter

    original = moto.kms.models.generate_private_key
    adapter = KmsLazyKeysAdapter()
    adapter.install()
    assert moto.kms.models.generate_private_key is not original
    adapter.uninstall()
    assert moto.kms.models.generate_private_key is original


def test_sns_signs_every_subscriptions_notifications_with_its_regions_one_key(cloud: LocalCloud) -> None:
    import base64
    import json

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    # Given a topic with two SQS subscribers (the on-call's queue and an inbox, as in every platform test)
    sns, sqs = cloud.client("sns", "us-west-2"), cloud.client("sqs", "us-west-2")
    topic = sns.create_topic(Name="dr-events")["TopicArn"]
    queues = []
    for name in ("oncall", "inbox"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        queues.append(url)

    # When one notification is published
    sns.publish(TopicArn=topic, Message="failover started", Subject="DR")

    # Then each copy is signed, the signature checks out against its signing certificate, and both
    # certificates hold the Region's one key (moto made a new RSA-2048 key per subscription)
    keys = []
    for url in queues:
        body = json.loads(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
        certificates = sns_backends[DEFAULT_ACCOUNT_ID]["us-west-2"]._message_public_keys
        pem = certificates[body["SigningCertURL"].rsplit("/", 1)[1]]
        public = x509.load_pem_x509_certificate(pem).public_key()
        signed = "".join(
            f"{field}\n{body[field]}\n" for field in ("Message", "MessageId", "Timestamp", "TopicArn", "Type")
        )
        public.verify(base64.b64decode(body["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]
        keys.append(public.public_numbers())  # type: ignore[union-attr]
    assert keys[0] == keys[1]


def test_moto_finds_each_action_in_its_classs_method_list_made_once_while_the_cloud_runs() -> None:
    import moto.core.responses
    from moto.dynamodb.responses import DynamoHandler

    from localcloud.adapters.response_methods import ResponseMethodsAdapter

    original = moto.core.responses.method_names_from_class
    adapter = ResponseMethodsAdapter()
    adapter.install()
    try:
        names = moto.core.responses.method_names_from_class(DynamoHandler)
        assert names == original(DynamoHandler) and "put_item" in names  # the same list moto makes
        assert moto.core.responses.method_names_from_class(DynamoHandler) is names  # made once
    finally:
        adapter.uninstall()
    assert moto.core.responses.method_names_from_class is original


def test_moto_builds_each_backends_url_table_once_while_the_cloud_runs_and_again_for_new_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.core.base_backend import BaseBackend
    from moto.dynamodb.models import DynamoDBBackend
    from moto.s3.models import S3Backend

    from localcloud.adapters.url_routes import UrlRoutesAdapter

    s3 = S3Backend("us-east-1", "123456789012")
    dynamodb = DynamoDBBackend("us-east-1", "123456789012")
    original_s3, original_dynamodb = s3.urls, dynamodb.urls  # moto's own tables, built before the adapter
    adapter = UrlRoutesAdapter()
    adapter.install()
    try:
        table = s3.urls
        assert table == original_s3 and dynamodb.urls == original_dynamodb  # the tables moto builds
        assert s3.urls is table and S3Backend("us-west-2", "123456789012").urls is table  # once per class
        assert adapter.builds == 2
        monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", "https://s3.example.internal")
        custom = s3.urls  # a new setting: the table moto builds with it (its reload reads the variable)
        assert custom is not table and any("example" in url for url in custom)
    finally:
        adapter.uninstall()
    assert "urls" in BaseBackend.__dict__ and s3.urls is not s3.urls  # moto's property again, built per call


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-01T05:00:00Z",
        "2026-12-01T05:00:00.123Z",
        "2026-12-01T05:00:00.123456+00:00",
        "2026-12-01T07:30:00+02:30",
        "2026-12-01 05:00:00",
        "2026-12-01",
        "2026-12-01T05:00:00.1234567Z",  # more digits than fromisoformat keeps
        "Tue, 01 Dec 2026 05:00:00 GMT",  # RFC 822: botocore's path
        "1764565200",  # an epoch in a string: botocore's path
        1764565200.5,
    ],
)
def test_moto_writes_the_same_timestamps_with_the_fast_iso_reader(value: object) -> None:
    from botocore.utils import parse_to_aware_datetime

    from localcloud.adapters.timestamps import aware_datetime

    ours, botocores = aware_datetime(value), parse_to_aware_datetime(value)
    assert ours == botocores and ours.utcoffset() == botocores.utcoffset() and repr(ours.tzinfo) == "tzutc()"
    assert ours.isoformat() == botocores.isoformat()


def test_the_timestamps_adapter_replaces_motos_reader_and_puts_it_back() -> None:
    import moto.core.serialize

    from localcloud.adapters.timestamps import TimestampsAdapter, aware_datetime

    original = moto.core.serialize.parse_to_aware_datetime
    adapter = TimestampsAdapter()
    adapter.install()
    try:
        assert moto.core.serialize.parse_to_aware_datetime is aware_datetime
    finally:
        adapter.uninstall()
    assert moto.core.serialize.parse_to_aware_datetime is original


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2100, 1, 1)),
    offset_minutes=st.none() | st.integers(min_value=-14 * 60, max_value=14 * 60),
    timespec=st.sampled_from(["seconds", "milliseconds", "microseconds"]),
    separator=st.sampled_from(["T", " "]),
    zulu=st.booleans(),
)
def test_any_iso_timestamp_is_read_as_botocore_reads_it(
    moment: datetime, offset_minutes: int | None, timespec: str, separator: str, zulu: bool
) -> None:
    from botocore.utils import parse_to_aware_datetime

    from localcloud.adapters.timestamps import aware_datetime

    if offset_minutes is not None:
        moment = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    text = moment.isoformat(sep=separator, timespec=timespec)
    if zulu and offset_minutes == 0:
        text = text.replace("+00:00", "Z")
    ours, botocores = aware_datetime(text), parse_to_aware_datetime(text)
    assert ours == botocores and ours.isoformat() == botocores.isoformat()


def test_sessions_made_while_the_cloud_runs_read_each_sdk_model_once() -> None:
    import boto3
    import botocore.session

    from localcloud.adapters.sdk_models import SdkModelsAdapter

    adapter = SdkModelsAdapter()
    adapter.install()
    try:
        ours, functions = boto3.session.Session(), boto3.session.Session()  # localcloud's and dr.aws's
        model = ours._session.get_service_model("rds")
        loader = functions._session.get_component("data_loader")
        assert loader is ours._session.get_component("data_loader")
        assert loader.load_service_model("rds", "service-2") is loader.load_service_model("rds", "service-2")
        assert functions._session.get_service_model("rds").operation_names == model.operation_names
        elsewhere = botocore.session.get_session({"data_path": ("data_path", None, "/nonexistent", None)})
        assert elsewhere.get_component("data_loader") is not loader  # another AWS_DATA_PATH: its own loader
    finally:
        adapter.uninstall()
    assert boto3.session.Session()._session.get_component("data_loader") is not loader  # botocore's own again


def test_one_werkzeug_request_names_a_call_and_answers_it(bare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The interceptor names each call with moto's router on a werkzeug request; moto answers with that one
    # rather than building a second from the same botocore request (a tenth of an answered call's time).
    built: list[str] = []
    original = MotoRequest.from_primitives.__func__  # type: ignore[attr-defined]

    def counting(cls: type, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        built.append(url)
        return original(cls, method, url, *args, **kwargs)

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="one-request")
    monkeypatch.setattr(MotoRequest, "from_primitives", classmethod(counting))
    s3.put_object(Bucket="one-request", Key="a/b c", Body=io.BytesIO(b"streamed body"))
    assert len(built) == 1
    # and moto read the whole streamed body from it
    assert s3.get_object(Bucket="one-request", Key="a/b c")["Body"].read() == b"streamed body"
    assert len(built) == 2
