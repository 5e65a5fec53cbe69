"""Where drctl acts: the embedded AWS in this process, a localcloud server on loopback, or a real account.

In every case the workflows are found by the stack's logical ids, so the same commands work on all three.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


class TargetError(Exception):
    """drctl cannot find what it needs in the target (stack, resource, execution)."""


@dataclass
class Target:
    region: str
    stack_name: str
    endpoint_url: str | None = None
    label: str = "AWS"
    _resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    _outputs: dict[str, Any] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def client(self, service: str, region: str | None = None) -> Any:
        """The target's client of ``service`` (kept: boto3 clients are thread-safe and slow to make, and a
        drill follows its execution with a read every 50 ms)."""
        key = (service, region or self.region)
        if key not in self._clients:
            kwargs: dict[str, Any] = {"region_name": key[1], "config": _CONFIG}
            if self.endpoint_url:
                kwargs.update(
                    endpoint_url=self.endpoint_url,
                    aws_access_key_id="localcloud",
                    aws_secret_access_key="localcloud",
                )
            self._clients[key] = boto3.client(service, **kwargs)
        return self._clients[key]

    # -- the stack -----------------------------------------------------------------------------------
    def load(self) -> Target:
        if self.endpoint_url:
            manifest_url = f"{self.endpoint_url}/_localcloud/stacks"
            try:
                with urllib.request.urlopen(manifest_url, timeout=10) as response:  # noqa: S310 - loopback URL given by the operator
                    manifest = json.load(response)
            except (OSError, ValueError) as err:  # URLError, a timeout, a refused connection, not JSON
                raise TargetError(
                    f"no localcloud server answers at {self.endpoint_url} ({getattr(err, 'reason', err)}); "
                    "start one with `drctl serve` and pass the URL it prints"
                ) from err
            stack = next(
                (s for s in manifest["stacks"] if s["name"] == self.stack_name and s["region"] == self.region),
                None,
            )
            if stack is None:
                found = [f"{s['name']} ({s['region']})" for s in manifest["stacks"]]
                raise TargetError(f"no stack {self.stack_name} in {self.region} on {self.endpoint_url}; found {found}")
            self._resources, self._outputs = stack["resources"], stack["outputs"]
            return self
        cfn = self.client("cloudformation")
        try:
            outputs = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0].get("Outputs", [])
        except NoCredentialsError as err:
            raise TargetError(
                f"no AWS credentials to read stack {self.stack_name} in {self.region} with: sign in "
                "(`aws sso login --profile NAME`, then AWS_PROFILE=NAME) or export credentials"
            ) from err
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            what = "not found" if "does not exist" in str(err) else f"cannot be read ({code})"
            raise TargetError(f"stack {self.stack_name} {what} in {self.region}: {err}") from err
        except BotoCoreError as err:  # no endpoint, a timeout, a bad region name
            raise TargetError(f"stack {self.stack_name} in {self.region} cannot be read: {err}") from err
        self._outputs = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=self.stack_name):
            for r in page["StackResourceSummaries"]:
                self._resources[r["LogicalResourceId"]] = {
                    "type": r["ResourceType"],
                    "physical": r.get("PhysicalResourceId"),
                }
        return self

    def with_stack(self, resources: dict[str, dict[str, Any]], outputs: dict[str, Any]) -> Target:
        self._resources, self._outputs = resources, outputs
        return self

    def physical(self, logical_id: str) -> str:
        if logical_id not in self._resources:
            raise TargetError(
                f"stack {self.stack_name} in {self.region} has no resource {logical_id} (is it deployed there?)"
            )
        return str(self._resources[logical_id]["physical"])

    def state_machine_arn(self, workflow: str) -> str:
        logical = {
            "failover": "FailoverStateMachine",
            "failback": "FailbackStateMachine",
            "backup-verification": "BackupVerificationStateMachine",
            "restore-test": "RestoreTestStateMachine",
        }[workflow]
        return self.physical(logical)

    @property
    def state_table(self) -> str:
        return self.physical("StateTable")


def local_target(cloud: Any, stack_name: str, region: str) -> Target:
    """The embedded AWS of this process (its clients go through moto's in-process mock)."""
    stack = cloud.stacks[(stack_name, region)]
    resources = {
        lid: {"type": r.type, "physical": r.ref, "arn": r.attributes.get("Arn")} for lid, r in stack.resources.items()
    }
    return Target(region=region, stack_name=stack_name, label="localcloud").with_stack(resources, stack.outputs)
