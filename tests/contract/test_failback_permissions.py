"""Every AWS call a function made during a failback is allowed by that function's Policies in template.yaml:
the unplanned failover that detached the old Aurora primary, writes during the outage, then the failback
(re-protection of all three stores, the lag wait, the outage-writes counts, the switchover, traffic home)."""

from __future__ import annotations

from pathlib import Path

from localcloud import scenario_failback as scenario
from localcloud.scenario import Platform
from localcloud.template import expanded_template
from tests.contract.test_permissions import action, allowed_actions
from tests.workflows.test_failback import recovers, run_to_end, start, unplanned_failover

ROOT = Path(__file__).resolve().parents[2]
# IAM actions of the calls re-protection and the outage-writes count add: a copy in place writes the object
# (there is no s3:CopyObject action; reading the source version is s3:GetObjectVersion), a HEAD of a version
# is s3:GetObjectVersion. (The other steps HEAD only the current heartbeat object: s3:GetObject.)
REPROTECT_ACTIONS = {("s3", "CopyObject"): "s3:PutObject", ("s3", "HeadObject"): "s3:GetObjectVersion"}


def test_every_call_a_failback_step_made_is_allowed_by_its_policies(platform: Platform) -> None:
    resources = expanded_template(ROOT / "template.yaml")["Resources"]
    platform.aurora.detach_old_primary_on_failover = True
    written = unplanned_failover(platform)
    recovers(platform)
    platform.cloud.interceptor.calls_by_function.clear()  # only what the failback's steps call

    result = run_to_end(platform, start(platform, "failback", {"mode": "planned"}))
    assert result["status"] == "SUCCEEDED", result
    assert scenario.missing_at_home(platform, written) == []

    by_name = {
        f"{platform.design.stack_name}-{lid}": r
        for lid, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    called = platform.cloud.interceptor.calls_by_function
    missing = {}
    for function, calls in called.items():
        granted = allowed_actions(resources, by_name[function]["Properties"].get("Policies", []))
        overrides = REPROTECT_ACTIONS if "Reprotect" in function or "OutageWrites" in function else {}
        needed = {overrides.get(c) or action(*c) for c in calls}
        if needed - granted:
            missing[function] = sorted(needed - granted)
    assert {"roadcall-dr-ReprotectAuroraFunction", "roadcall-dr-ReprotectS3Function"} <= set(called)
    assert ("s3", "CopyObject") in called["roadcall-dr-ReprotectS3Function"]
    assert ("rds", "DeleteDBCluster") in called["roadcall-dr-ReprotectAuroraFunction"]
    assert missing == {}
