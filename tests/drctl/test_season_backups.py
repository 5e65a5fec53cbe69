"""The drill season's backup plan runs on the virtual clock: a jump of days ends with the days' recovery
points in the vault before the schedules of the jump's last slots read it."""

from __future__ import annotations

from datetime import datetime, timedelta

from drctl.season import BackupPlanOnTheClock
from localcloud.scenario import Platform


def completed_points(platform: Platform) -> list[datetime]:
    backup = platform.cloud.client("backup", platform.design.primary_region)
    pages = backup.get_paginator("list_recovery_points_by_backup_vault").paginate(
        BackupVaultName=platform.design.backup_vault
    )
    return [p["CreationDate"] for page in pages for p in page["RecoveryPoints"] if p["Status"] == "COMPLETED"]


def test_a_jump_of_days_brings_the_days_points_before_anything_else_hears_of_it(platform: Platform) -> None:
    # Given a platform whose plan has run until now, and the plan put on the clock first
    platform.seed_backup_history()
    clock = platform.cloud.clock
    start = clock.now()
    before = len(completed_points(platform))
    newest_seen: list[datetime] = []
    plan, witness = (
        BackupPlanOnTheClock(platform, start),
        lambda _now: newest_seen.append(max(completed_points(platform))),
    )
    clock.listeners.insert(0, plan)
    clock.listeners.append(witness)

    # When the clock jumps three days
    try:
        clock.advance_to(start + timedelta(days=3))
    finally:
        clock.listeners.remove(plan)
        clock.listeners.remove(witness)

    # Then the other listeners already saw a point of the last day, and each day's daily backup is there
    assert newest_seen and clock.now() - newest_seen[-1] < timedelta(hours=26)  # what readiness calls fresh
    resources = len(platform.resource_arns())
    assert len(completed_points(platform)) - before >= 3 * resources


def test_each_slot_is_made_once_however_often_the_plan_hears_of_a_moment(platform: Platform) -> None:
    # Given a platform whose plan has run until now, and the plan not yet on the clock
    platform.seed_backup_history()
    clock = platform.cloud.clock
    plan = BackupPlanOnTheClock(platform, clock.now())
    start = len(completed_points(platform))

    # When two days pass, and the plan hears of that moment twice, then of an earlier one
    clock.advance_to(clock.now() + timedelta(days=2))
    plan(clock.now())
    after_two_days = len(completed_points(platform))
    plan(clock.now())
    plan(clock.now() - timedelta(hours=12))

    # Then the two days' points were made, once
    assert after_two_days - start >= 2 * len(platform.resource_arns())
    assert len(completed_points(platform)) == after_two_days
