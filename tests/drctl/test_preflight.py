"""drctl preflight against localcloud: the scenario's own parameters pass; a name that is not in the account
is an error that names it; parameters that disagree with each other are errors before any AWS call; the
parameters are template defaults, then a samconfig environment, then overrides (the last value of a name wins)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drctl import preflight
from drctl.cli import main
from localcloud.scenario import Platform


def check(platform: Platform, **changes: str) -> list[preflight.Finding]:
    params = {**preflight.parameters(), **platform.parameters(), **changes}
    return preflight.run(platform.cloud.client, params, platform.design.stack_name)


def errors(findings: list[preflight.Finding]) -> list[str]:
    return [f.detail for f in findings if f.status == "error"]


def test_the_scenarios_parameters_pass(platform: Platform) -> None:
    findings = check(platform)

    assert errors(findings) == []
    checks = {f.check for f in findings if f.status == "ok"}
    assert {"stack", "regions", "lists", "tables", "buckets", "aurora", "health checks", "vaults", "dns"} <= checks


def test_a_table_that_is_not_in_the_primary_region_is_named(platform: Platform) -> None:
    tables = [*platform.design.tables, "roadcall-typo-prod"]

    findings = check(platform, ProtectedTables=",".join(tables))

    assert errors(findings) == [f"table roadcall-typo-prod does not exist in {platform.design.primary_region}"]


def test_missing_buckets_clusters_health_checks_and_vaults_are_each_named(platform: Platform) -> None:
    d = platform.design
    findings = check(
        platform,
        ReplicaBuckets=",".join([*d.replicas[:-1], "nowhere-dr"]),
        AuroraPrimaryClusterId="no-such-cluster",
        PrimaryHealthCheckId="00000000-0000-0000-0000-000000000000",
        RecoveryBackupVaultName="no-such-vault",
    )

    assert errors(findings) == [
        "replica bucket nowhere-dr does not exist (or is not this account's)",
        f"Aurora cluster no-such-cluster does not exist in {d.primary_region}",
        "PrimaryHealthCheckId 00000000-0000-0000-0000-000000000000 is not a Route 53 health check of this account",
        f"vault no-such-vault does not exist in {d.recovery_region} (ManageBackupVaults=false adopts it)",
    ]


class NoCalls:
    def __call__(self, service: str, region: str) -> Any:
        raise AssertionError(f"preflight asked {service} in {region} about parameters that disagree")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"RecoveryRegion": "us-east-1"}, "PrimaryRegion and RecoveryRegion are both us-east-1: they must differ"),
        ({"ReplicaBuckets": "only-one-dr"}, "ProtectedBuckets has 3 names and ReplicaBuckets 1"),
        ({"ProtectedTables": ",".join(f"t{i}" for i in range(26))}, "ProtectedTables has 26 names; 1 to 25"),
        ({"ProtectedTables": "a-b,ab"}, "ProtectedTables has names that differ only in punctuation"),
        ({"ProtectedBuckets": "b" * 49, "ReplicaBuckets": "r"}, "ProtectedBuckets has names longer than 48"),
    ],
)
def test_parameters_that_disagree_are_errors_before_any_aws_call(changes: dict[str, str], error: str) -> None:
    findings = preflight.run(NoCalls(), {**preflight.parameters(), **changes}, "roadcall-dr")
    assert any(e.startswith(error) for e in errors(findings)), errors(findings)


def test_defaults_then_the_samconfig_environment_then_overrides_the_last_value_wins() -> None:
    merged = preflight.parameters("prod-primary", ["PrimaryHealthCheckId=" + "0" * 8 + "-0000-0000-0000-" + "0" * 12])
    assert (merged["Stage"], merged["PrimaryRegion"], merged["NotificationEmail"]) == (
        "prod",
        "us-east-1",
        "oncall@roadcall.example",
    )
    assert merged["PrimaryHealthCheckId"] == "00000000-0000-0000-0000-000000000000"  # the override wins
    assert merged["ApprovalTimeoutSeconds"] == "1800"  # the template's default
    with pytest.raises(ValueError, match="not declared"):
        preflight.parameters(None, ["NoSuchParameter=1"])


def test_the_command_exits_1_on_an_error_and_prints_each_finding(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = [f"{k}={v}" for k, v in {**platform.parameters(), "ProtectedTables": "roadcall-typo-prod"}.items()]

    stack = platform.design.stack_name
    code = main(["--stack", stack, "preflight", "--output", "json", "--parameter-overrides", *pairs])

    assert code == 1
    findings = json.loads(capsys.readouterr().out)
    assert {"check": "tables", "status": "error", "detail": "table roadcall-typo-prod does not exist in us-east-1"} in (
        findings
    )
