"""EvaluateReadiness: the DR posture, every 30 minutes (ReadinessSchedule) in the recovery region, and the
drill calendar's reminders (GameDayDueSchedule, GameDayReminderSchedule). A thin handler over dr.posture
and dr.posture_report: the input says which (``ReadinessInput``), the output is the evaluation's report
(what ``drctl readiness --stack`` shows)."""

from __future__ import annotations

from typing import Any

from dr import posture_report
from dr.inventory import load_inventory
from dr.models import parse
from dr.posture import PostureSettings, ReadinessInput
from dr.settings import get_settings
from dr.steps._handler import lambda_step


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(ReadinessInput, event or {}, "readiness input")
    settings, options = get_settings(), PostureSettings()
    if request.reminder:
        return posture_report.remind(request, settings, options)
    return posture_report.run(request, settings, options, load_inventory(settings))
