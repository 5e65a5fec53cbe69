"""Roles as CloudFormation and SAM create them, in moto's IAM (where the enforcer reads them back).

AWS managed policies (``arn:aws:iam::aws:policy/...``) exist in every account; moto only has them when
told to load all ~1,600 of them for every backend (``MOTO_IAM_LOAD_MANAGED_POLICIES``, a quarter of a
second per test). localcloud adds the ones a template attaches, from the same data moto ships.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.iam.models import AWSManagedPolicy, iam_backends

from localcloud.errors import TemplateError
from localcloud.iam.sam import RolePolicies
from localcloud.template import ACCOUNT_ID


def trust(service: str) -> dict[str, Any]:
    """The trust policy SAM writes for a function (lambda) or state machine (states) role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}],
    }


@functools.cache
def _aws_managed_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data  # noqa: PLC0415 - 4.7 MB, when needed

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return data


def ensure_aws_managed(arn: str, where: str, account: str = ACCOUNT_ID) -> None:
    """Make the AWS managed policy ``arn`` attachable in moto's IAM."""
    backend = iam_backends[account]["global"]
    if arn in backend.managed_policies:
        return
    name = arn.rsplit("/", 1)[-1]
    data = _aws_managed_data().get(name)
    if data is None:
        raise TemplateError(where, f"{arn} is not an AWS managed policy (moto's copy of the list has no {name})")
    policy = AWSManagedPolicy.from_data(name, account, "us-east-1", data)
    if policy.arn != arn:
        raise TemplateError(where, f"{arn}: the AWS managed policy {name} is {policy.arn}")
    backend.managed_policies[arn] = policy


def create_role(
    iam: Any,
    name: str,
    assume_role_policy: dict[str, Any],
    policies: RolePolicies,
    where: str,
    path: str = "/",
) -> str:
    """Create the role (or reuse it: IAM is global and the stack is deployed in two regions), attach its
    managed policies and put its inline ones; returns its ARN."""
    try:
        arn = str(
            iam.create_role(RoleName=name[:64], Path=path, AssumeRolePolicyDocument=json.dumps(assume_role_policy))[
                "Role"
            ]["Arn"]
        )
    except iam.exceptions.EntityAlreadyExistsException:
        return str(iam.get_role(RoleName=name[:64])["Role"]["Arn"])
    for policy_arn in policies.managed:
        if ":iam::aws:policy/" in policy_arn:
            ensure_aws_managed(policy_arn, where)
        try:
            iam.attach_role_policy(RoleName=name[:64], PolicyArn=policy_arn)
        except iam.exceptions.NoSuchEntityException as err:
            raise TemplateError(where, f"managed policy {policy_arn} does not exist") from err
    for n, document in enumerate(policies.inline):
        iam.put_role_policy(
            RoleName=name[:64], PolicyName=f"{name[:100]}Policy{n}", PolicyDocument=json.dumps(document)
        )
    return arn
