"""LocalCloud: the embedded AWS. moto + the adapters + simulated services + event routing + faults.

    with LocalCloud() as cloud:
        stack = cloud.deploy("template.yaml", region="us-west-2", stack_name="dr")
        arn = cloud.start_execution(stack.arn("FailoverStateMachine"), {"mode": "dry-run"})
        result = cloud.wait(arn)

Everything runs in-process; ``localcloud.server`` puts the same thing behind a loopback HTTP port.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from moto import mock_aws
from moto.cloudwatch.models import cloudwatch_backends
from moto.logs.exceptions import ResourceAlreadyExistsException as LogsAlreadyExists
from moto.logs.models import logs_backends

from localcloud import egress, sdk
from localcloud.adapters.batch_write_keys import BatchWriteKeysAdapter
from localcloud.adapters.cloudwatch_dimensions import CloudWatchDimensionsAdapter
from localcloud.adapters.error_names import ErrorNamesAdapter
from localcloud.adapters.execution_history import ExecutionHistoryAdapter
from localcloud.adapters.execution_status import ExecutionStatusAdapter
from localcloud.adapters.execution_stop import ExecutionStopAdapter
from localcloud.adapters.jsonata_eval import JsonataAdapter
from localcloud.adapters.kms_lazy_keys import KmsLazyKeysAdapter
from localcloud.adapters.lambda_runtime import InProcessLambdaRuntime
from localcloud.adapters.log_keys import LogKeysAdapter
from localcloud.adapters.map_errors import MapErrorsAdapter
from localcloud.adapters.program_cache import ProgramCacheAdapter
from localcloud.adapters.response_methods import ResponseMethodsAdapter
from localcloud.adapters.sdk_casing import SdkCasingAdapter
from localcloud.adapters.sdk_client_errors import SdkClientErrorsAdapter
from localcloud.adapters.sdk_models import SdkModelsAdapter
from localcloud.adapters.sns_signing_key import SnsSigningKeyAdapter
from localcloud.adapters.status_events import StatusEventsAdapter
from localcloud.adapters.task_timeouts import TaskTimeoutsAdapter
from localcloud.adapters.task_tokens import TaskTokenAdapter
from localcloud.adapters.timestamps import TimestampsAdapter
from localcloud.adapters.url_routes import UrlRoutesAdapter
from localcloud.adapters.virtual_time import VirtualTimeAdapter
from localcloud.clock import VirtualClock
from localcloud.deployer import Deployer, Stack
from localcloud.errors import ExecutionTimeout
from localcloud.events import EventRouter
from localcloud.faults import Faults
from localcloud.iam.enforcer import IamEnforcer
from localcloud.iam.states_role import StatesRoleAdapter
from localcloud.interceptor import Call, Interceptor
from localcloud.outage import Outage
from localcloud.services.dns import DnsServer
from localcloud.services.resource_keys import ResourceKeys
from localcloud.services.route53_health import Route53HealthSimulator
from localcloud.sfn_mocks import SfnMocksAdapter
from localcloud.template import ACCOUNT_ID

egress.install()  # after moto's stubber: nothing the SDK sends leaves loopback once a cloud has run here

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def pauses(first: float = 0.02, longest: float = 0.1) -> Iterator[float]:
    """The sleeps of a loop that polls the embedded AWS: short at first (most waits end soon), then longer,
    so that a long wait does not take the CPU (and the GIL) from the execution it is waiting for."""
    pause = first
    while True:
        yield pause
        pause = min(pause * 1.5, longest)


class LocalCloud:
    """``enforce_iam`` (on by default): each deployed function and state machine calls AWS as its own
    role and is denied what its policies do not allow, as in AWS (``localcloud.iam``)."""

    def __init__(self, start: datetime | None = None, enforce_iam: bool = True) -> None:
        self.clock = VirtualClock(start)
        self.runtime = InProcessLambdaRuntime(on_output=self._lambda_output, busy=self.clock.busy)
        self.runtime.extra_environment = {"POWERTOOLS_TRACE_DISABLED": "true"}  # no X-Ray daemon offline
        self.interceptor = Interceptor(busy=self.clock.busy)
        self.outage = Outage(self.clock)
        self.faults = Faults(self.clock, is_application=self.outage.is_application)
        self.router = EventRouter()
        self.router.region_up = self.outage.eventbridge_up
        self.router.client = self.client
        # Route 53's DNS data plane (a scenario points its resolver at the platform's health simulator).
        self.dns = DnsServer(Route53HealthSimulator(self.clock, model_failure_threshold=False))
        self.deployer = Deployer(self.runtime, self.router)
        self.iam = IamEnforcer(enabled=enforce_iam)
        self.resource_keys = ResourceKeys()  # what Logs and DynamoDB check of a customer key themselves
        self.sfn_mocks = SfnMocksAdapter()  # Step Functions Local's MockConfigFile.json test cases
        self.program_cache = ProgramCacheAdapter()
        self.status_events = StatusEventsAdapter(self.router, self.clock.busy)
        self.adapters: list[Any] = [
            SdkModelsAdapter(),  # first: before any session of this cloud reads a model
            self.program_cache,
            JsonataAdapter(),
            SdkCasingAdapter(),
            VirtualTimeAdapter(self.clock),
            TaskTimeoutsAdapter(),
            self.runtime,
            LogKeysAdapter(),  # each invocation's Powertools log keys its own (the runtime runs them in threads)
            self.interceptor,
            TaskTokenAdapter(self.interceptor),
            ExecutionStopAdapter(self.interceptor),
            ExecutionHistoryAdapter(self.interceptor),
            ExecutionStatusAdapter(),
            self.status_events,
            ErrorNamesAdapter(),
            MapErrorsAdapter(),
            CloudWatchDimensionsAdapter(),
            SdkClientErrorsAdapter(),
            KmsLazyKeysAdapter(),
            SnsSigningKeyAdapter(),
            ResponseMethodsAdapter(),
            UrlRoutesAdapter(),
            TimestampsAdapter(),
            BatchWriteKeysAdapter(),
            self.sfn_mocks,
            StatesRoleAdapter(self.service_credentials),
            self.iam,
        ]
        self.stacks: dict[tuple[str, str], Stack] = {}
        self._mock: Any = None
        self._router_lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

    def service_credentials(self, role_arn: str, session: str) -> dict[str, str]:
        """An execution role's session, as the Lambda and Step Functions services get it for a run: their own
        call, never the application's (no outage of the application's applies to it)."""
        with self.outage.as_service():
            return self.iam.credentials(role_arn, session)

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> LocalCloud:
        egress.arm()
        # moto logs every ASL failure it evaluates (each Catch path) at ERROR; the history has them.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        self.clock.install()
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        for adapter in self.adapters:
            adapter.install()
        if os.environ.get("SFN_MOCK_CONFIG"):  # as Step Functions Local reads it
            self.sfn_mocks.load(os.environ["SFN_MOCK_CONFIG"])
        self.interceptor.set_fault_source(self.faults.answer)
        self.interceptor.caller = self.runtime.current_function
        self.interceptor.authorizer = self.iam.authorize
        self.runtime.credentials = self.service_credentials
        self.outage.caller = self.runtime.current_function
        self.outage.application_key = lambda key: self.iam.principal(key) is not None
        self.interceptor.set_outage(self.outage.intercept)
        self.interceptor.hook(self._route_events)
        self.resource_keys.register(self.interceptor)
        self.router.tick(self.clock.now())
        self.clock.listeners.append(self.router.tick)
        self.clock.wakeups.append(self.router.next_due)
        self.dns.start()
        return self

    def stop(self) -> None:
        self.clock.listeners.clear()
        # a listener already running (a schedule's target) ends while moto and the DNS server still answer it
        self.clock.halt()
        self.dns.stop()
        self._stop_running_executions()
        for adapter in reversed(self.adapters):
            adapter.uninstall()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self.clock.uninstall()

    def _stop_running_executions(self) -> None:
        """Nothing outlives its cloud: executions still running (a test that ended early) are stopped."""
        if self._mock is None:
            return
        for stack in list(self.stacks.values()):
            for resource in stack.resources.values():
                if resource.type != "AWS::Serverless::StateMachine":
                    continue
                sfn = self.client("stepfunctions", stack.region)
                running = sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=resource.ref, statusFilter="RUNNING"
                )
                for execution in [e for page in running for e in page["executions"]]:
                    with contextlib.suppress(Exception):
                        sfn.stop_execution(executionArn=execution["executionArn"], cause="localcloud stopped")

    def suspend(self, settle: float = 5.0) -> datetime:
        """Stop every thread of the cloud once nothing is in flight (the scheduler, the DNS server) and return
        the clock's moment: the process can then be forked, and each fork ``resume``s from that moment. The
        test suite builds a platform once and runs each test in a fork of it (tests/forkserver.py)."""
        deadline, sleeps = time.monotonic() + settle, pauses()
        while self.clock.busy_count or self.clock.pending_timers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cloud did not settle within {settle} s: {self.clock.pending_timers}")
            time.sleep(next(sleeps))
        self.dns.pause()
        return self.clock.suspend()

    def resume(self, at: datetime) -> None:
        """In a fork of a suspended cloud: its DNS server answers again, then its clock runs again from ``at``."""
        self.dns.start()
        self.clock.resume(at)

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- deploying -----------------------------------------------------------------------------------
    def deploy(
        self, template: str | Path, region: str, stack_name: str, parameters: dict[str, str] | None = None
    ) -> Stack:
        stack = self.deployer.deploy(Path(template), region, stack_name, parameters)
        self.stacks[(stack_name, region)] = stack
        return stack

    def client(self, service: str, region: str) -> Any:
        """A client of the embedded AWS (cached: boto3 clients are thread-safe and slow to create)."""
        key = (service, region)
        with self._router_lock:
            if key not in self._clients:
                self._clients[key] = sdk.client(service, region)
            return self._clients[key]

    # -- time ----------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> datetime:
        """Move the clock forward and fire the schedules that came due."""
        return self.clock.advance(seconds)

    # -- executions ----------------------------------------------------------------------------------
    def start_execution(self, state_machine_arn: str, payload: Any, name: str | None = None) -> str:
        region = state_machine_arn.split(":")[3]
        body = payload if isinstance(payload, str) else json.dumps(payload)
        out = self.client("stepfunctions", region).start_execution(
            stateMachineArn=state_machine_arn, name=name or f"local-{uuid.uuid4().hex[:12]}", input=body
        )
        return str(out["executionArn"])

    def describe(self, execution_arn: str) -> dict[str, Any]:
        region = execution_arn.split(":")[3]
        out: dict[str, Any] = self.client("stepfunctions", region).describe_execution(executionArn=execution_arn)
        return out

    def wait(self, execution_arn: str, timeout: float = 120.0) -> dict[str, Any]:
        """Wait (in real time, bounded) until the execution ends; returns DescribeExecution."""
        deadline, sleeps = time.monotonic() + timeout, pauses()
        while True:
            out = self.describe(execution_arn)
            if out["status"] in TERMINAL:
                return out
            if time.monotonic() > deadline:
                history = self.history(execution_arn)
                entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
                exits = [e["stateExitedEventDetails"] for e in history if "stateExitedEventDetails" in e]
                raise ExecutionTimeout(
                    f"{execution_arn} still {out['status']} after {timeout} s of real time; last states entered: "
                    f"{entered[-6:]}; clock {self.clock.now().isoformat()}, {self.clock.jumps} jumps, "
                    f"busy {self.clock.busy_count}, timers {self.clock.pending_timers}; "
                    f"last state output: {exits[-1]['output'][:2000] if exits else '-'}"
                )
            time.sleep(next(sleeps))

    def wait_for_state(self, execution_arn: str, state_name: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until the execution has entered ``state_name``; returns that history event."""
        deadline, sleeps = time.monotonic() + timeout, pauses()
        while True:
            for event in self.history(execution_arn):
                details = event.get("stateEnteredEventDetails") or {}
                if details.get("name") == state_name:
                    return event
            if self.describe(execution_arn)["status"] in TERMINAL or time.monotonic() > deadline:
                raise ExecutionTimeout(f"{execution_arn} never entered {state_name}")
            time.sleep(next(sleeps))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        region = execution_arn.split(":")[3]
        pages = self.client("stepfunctions", region).get_paginator("get_execution_history")
        return [e for page in pages.paginate(executionArn=execution_arn, maxResults=1000) for e in page["events"]]

    def executions(self, state_machine_arn: str) -> list[dict[str, Any]]:
        region = state_machine_arn.split(":")[3]
        pages = self.client("stepfunctions", region).get_paginator("list_executions")
        return [e for page in pages.paginate(stateMachineArn=state_machine_arn) for e in page["executions"]]

    # -- events and Lambda output --------------------------------------------------------------------
    def put_event(
        self,
        region: str,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str] | None = None,
        time_: datetime | None = None,
    ) -> None:
        entry: dict[str, Any] = {
            "Source": source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "Resources": resources or [],
            "EventBusName": "default",
        }
        if time_ is not None:
            entry["Time"] = time_
        self.client("events", region).put_events(Entries=[entry])

    def _route_events(self, call: Call) -> None:
        if (call.service, call.operation) == ("events", "PutEvents"):
            entries = call.params.get("Entries") or []
            threading.Thread(
                target=self.router.on_put_events, args=(call.region, entries, self.clock.now()), daemon=True
            ).start()

    def _lambda_output(self, function_name: str, region: str, output: str) -> None:
        """What a function printed goes to its log group; EMF lines become metric data, as in Lambda.

        Lambda's own delivery, written straight into the Logs and CloudWatch backends rather than through an
        SDK client: it is no caller's API call (no IAM, no fault, no outage applies to it, as before, when it
        went as the administrator), and sending it through botocore and moto cost three to five requests per
        invocation, a tenth of the restore tests' samples under py-spy."""
        lines = [line for line in output.splitlines() if line.strip()]
        if not lines:
            return
        logs = logs_backends[ACCOUNT_ID][region]
        group = f"/aws/lambda/{function_name}"
        stream = f"{self.clock.now():%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        with contextlib.suppress(LogsAlreadyExists):  # another invocation made it first
            if group not in logs.groups:
                logs.create_log_group(group, {})
        logs.create_log_stream(group, stream)
        stamp = int(self.clock.now().timestamp() * 1000)
        logs.put_log_events(group, stream, [{"timestamp": stamp, "message": line} for line in lines])
        for line in lines:
            self._emf(region, line)

    @staticmethod
    def _emf(region: str, line: str) -> None:
        try:
            doc = json.loads(line)
        except ValueError:
            return
        if not isinstance(doc, dict) or "_aws" not in doc:
            return
        cloudwatch = cloudwatch_backends[ACCOUNT_ID][region]
        for directive in doc["_aws"].get("CloudWatchMetrics", []):
            dims_sets = directive.get("Dimensions") or [[]]
            for metric in directive.get("Metrics", []):
                values = doc.get(metric["Name"])
                for value in values if isinstance(values, list) else [values]:
                    if value is None:
                        continue
                    for dims in dims_sets:
                        cloudwatch.put_metric_data(
                            directive["Namespace"],
                            [
                                {
                                    "MetricName": metric["Name"],
                                    "Value": float(value),
                                    "Unit": metric.get("Unit", "None"),
                                    "Dimensions": [{"Name": d, "Value": str(doc[d])} for d in dims if d in doc],
                                }
                            ],
                        )

    @property
    def account_id(self) -> str:
        return ACCOUNT_ID
