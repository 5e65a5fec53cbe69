"""ReportOutageWrites: the items and objects the recovery region took since the outage began, and how
many of them are not in the old primary yet (dr.outage). Read-only; run before the approval (what still
has to arrive) and again after the traffic is home (nothing lost)."""

from __future__ import annotations

from typing import Any

from dr import outage
from dr.aws import aws_errors
from dr.errors import TransientAwsError
from dr.inventory import load_inventory
from dr.models import OperationRequest, parse
from dr.replication import ReplicationSettings
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    settings, extra = get_settings(), ReplicationSettings()
    inv = load_inventory(settings)
    with aws_errors("count the writes taken during the outage", TransientAwsError):
        since, source = outage.outage_started_at(
            settings.state_table, settings.recovery_region, extra.outage_lookback_hours
        )
        out = outage.report(
            inv, request.source_region, request.target_region, since, source, extra.changed_at_attribute
        )
    out["phase"] = str(event.get("phase", "before"))
    return out
