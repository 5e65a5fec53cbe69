"""The platform's backups as its plan would have made them, and the ways a test breaks them.

``seed_history(platform)`` (the stack deployed, so its backup plan exists) gives every protected resource
what the design's plan leaves behind by now: a recovery point of the ``daily`` rule for each of the last 35
days at 02:00 UTC, of the ``weekly`` rule for each Sunday 03:00 UTC of the last 90 days, of the ``monthly``
rule for the 1st 04:00 UTC of each of the last 12 months, each with its rule's retention, encrypted with
the vault's key, holding the resource's data as it is when seeded (that data predates the history: the
source buckets' object versions are dated before the oldest recovery point); a completed copy of every monthly one in
the recovery region's vault; and the completed backup (and copy) jobs of the last 24 hours. Seeding is
O(1) per recovery point: thousands take milliseconds.

The knobs below each break exactly one thing the backup verification or the restore test checks; they are
exposed as methods of ``Platform`` (``platform.backup_stale(...)``, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from moto.s3.models import FakeKey, s3_backends

from localcloud.cloud import LocalCloud
from localcloud.deployer import Stack
from localcloud.design import PlatformDesign
from localcloud.services.backup import (
    AuroraClusterSnapshot,
    BackupSimulator,
    DynamoTableSnapshot,
    S3BucketSnapshot,
    Snapshot,
)
from localcloud.template import ACCOUNT_ID


class Platform(Protocol):
    """What these functions read of ``localcloud.scenario.Platform`` (which passes itself): no import back."""

    @property
    def cloud(self) -> LocalCloud: ...
    @property
    def design(self) -> PlatformDesign: ...
    @property
    def backup(self) -> BackupSimulator: ...
    @property
    def stacks(self) -> dict[str, Stack]: ...
    def resource_arns(self) -> list[tuple[str, str]]: ...


# (rule, retention days, the slots it fires at: (weekday or None, day of month or None, hour UTC))
RULES: tuple[tuple[str, int, tuple[int | None, int | None, int]], ...] = (
    ("daily", 35, (None, None, 2)),
    ("weekly", 90, (6, None, 3)),  # Sunday (datetime.weekday() == 6)
    ("monthly", 365, (None, 1, 4)),
)
COPIED_RULE = "monthly"
JOB_WINDOW = timedelta(hours=24)


def slots(
    now: datetime, retention_days: int, when: tuple[int | None, int | None, int], done_after: float
) -> Iterator[datetime]:
    """The times a rule fired within its retention whose backup has finished by ``now``, newest first."""
    weekday, day, hour = when
    moment = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    oldest = now - timedelta(days=retention_days)
    while moment > oldest:
        matches = (weekday is None or moment.weekday() == weekday) and (day is None or moment.day == day)
        if matches and moment + timedelta(seconds=done_after) <= now:
            yield moment
        moment -= timedelta(days=1)


def plan_rules(platform: Platform) -> tuple[str, dict[str, str]]:
    """(plan id, rule name -> rule id) of the stack's backup plan in the primary region."""
    region = platform.design.primary_region
    plan_id = str(platform.stacks[region].physical("BackupPlan"))
    plan = platform.cloud.client("backup", region).get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]
    return plan_id, {rule["RuleName"]: rule["RuleId"] for rule in plan["Rules"]}


def recovery_vault_arn(platform: Platform) -> str:
    d = platform.design
    return f"arn:aws:backup:{d.recovery_region}:{ACCOUNT_ID}:backup-vault:{d.recovery_backup_vault}"


def seed_history(
    platform: Platform,
    resources: list[tuple[str, str]] | None = None,
    counts: dict[str, int] | None = None,
    backdate: bool = True,
) -> int:
    """Seed what the plan would have made by now; returns how many recovery points (copies included).
    ``counts`` keeps only each rule's newest N recovery points (a plan younger than its retention).
    ``backdate`` dates the buckets' objects before the oldest point first (a history's first seeding; a
    plan that keeps running, adding its newest points, leaves the objects written since as they are)."""
    d = platform.design
    backup = platform.backup
    now = platform.cloud.clock.now()
    plan_id, rule_ids = plan_rules(platform)
    duration = backup.durations.backup
    if backdate:
        backdate_objects(platform, now - timedelta(days=max(days for _, days, _ in RULES) + 1))
    seeded = 0
    for arn, kind in resources or platform.resource_arns():
        snapshot = backup.snapshot_of(arn, d.primary_region)
        for rule, days, when in RULES:
            for n, created in enumerate(slots(now, days, when, duration)):
                if counts is not None and n >= counts.get(rule, 0):
                    break
                point = backup.seed_recovery_point(
                    d.backup_vault,
                    d.primary_region,
                    arn,
                    kind,
                    created,
                    delete_after_days=days,
                    plan_id=plan_id,
                    rule_id=rule_ids[rule],
                    snapshot=snapshot,
                )
                seeded += 1
                recent = now - created <= JOB_WINDOW
                if recent:
                    backup.seed_backup_job(
                        d.backup_vault,
                        d.primary_region,
                        arn,
                        "COMPLETED",
                        created,
                        resource_type=kind,
                        plan_id=plan_id,
                        rule_id=rule_ids[rule],
                        create_recovery_point=False,
                        delete_after_days=days,
                    )
                if rule == COPIED_RULE:
                    backup.seed_copy_job(
                        d.backup_vault,
                        d.primary_region,
                        recovery_vault_arn(platform),
                        arn,
                        created_at=created + timedelta(seconds=duration),
                        source_recovery_point_arn=point,
                        resource_type=kind,
                        delete_after_days=days,
                    )
                    seeded += 1
    return seeded


def backdate_objects(platform: Platform, moment: datetime) -> None:
    """Date every version of the protected buckets' objects at ``moment``: the data a seeded history backs
    up existed before its oldest recovery point (a restore test compares the version current then)."""
    buckets = s3_backends[platform.cloud.account_id]["aws"].buckets
    naive = moment.astimezone(UTC).replace(tzinfo=None)  # moto keeps S3 times naive, in UTC
    for name in platform.design.buckets:
        bucket = buckets.get(name)
        if bucket is None:
            continue
        for _key, versions in bucket.keys.iterlists():
            for version in versions:
                if isinstance(version, FakeKey):
                    version.last_modified = naive


# -- knobs: each breaks one thing ---------------------------------------------------------------------
def _points(platform: Platform, region: str, vault: str, resource_arn: str) -> list[dict[str, Any]]:
    client = platform.cloud.client("backup", region)
    return list(
        client.list_recovery_points_by_backup_vault(BackupVaultName=vault, ByResourceArn=resource_arn)["RecoveryPoints"]
    )


def _rule_of(point: dict[str, Any]) -> str | None:
    return (point.get("CreatedBy") or {}).get("BackupRuleName")


def make_stale(platform: Platform, resource_arn: str, rule: str = "daily", hours: float = 30.0) -> list[str]:
    """Delete the resource's recovery points of ``rule`` taken in the last ``hours``: its newest one is
    older than that (a rule that stopped running). Returns the deleted ARNs."""
    d = platform.design
    now = platform.cloud.clock.now()
    client = platform.cloud.client("backup", d.primary_region)
    deleted = []
    for point in _points(platform, d.primary_region, d.backup_vault, resource_arn):
        if _rule_of(point) == rule and now - point["CreationDate"] < timedelta(hours=hours):
            client.delete_recovery_point(BackupVaultName=d.backup_vault, RecoveryPointArn=point["RecoveryPointArn"])
            deleted.append(str(point["RecoveryPointArn"]))
    return deleted


def fail_job(platform: Platform, resource_arn: str, state: str = "FAILED", hours_ago: float = 2.0) -> str:
    """A backup job of the daily rule that ended ``state`` (FAILED, ABORTED, EXPIRED, PARTIAL) lately."""
    d = platform.design
    plan_id, rule_ids = plan_rules(platform)
    return platform.backup.seed_backup_job(
        d.backup_vault,
        d.primary_region,
        resource_arn,
        state,
        platform.cloud.clock.now() - timedelta(hours=hours_ago),
        plan_id=plan_id,
        rule_id=rule_ids["daily"],
        create_recovery_point=False,
    )


def drop_copy(platform: Platform, resource_arn: str, older_than: timedelta = timedelta(days=2)) -> str:
    """Delete from the recovery vault the newest copy of the resource that is older than ``older_than``
    (a monthly recovery point whose copy should long be there)."""
    d = platform.design
    cutoff = platform.cloud.clock.now() - older_than
    copies = [
        p
        for p in _points(platform, d.recovery_region, d.recovery_backup_vault, resource_arn)
        if p["CreationDate"] < cutoff
    ]
    newest = max(copies, key=lambda p: p["CreationDate"])
    platform.cloud.client("backup", d.recovery_region).delete_recovery_point(
        BackupVaultName=d.recovery_backup_vault, RecoveryPointArn=newest["RecoveryPointArn"]
    )
    return str(newest["RecoveryPointArn"])


def newest_daily(
    platform: Platform,
    resource_arn: str,
    *,
    encrypted: bool = True,
    delete_after_days: int = 35,
    snapshot: Snapshot | None = None,
    minutes_ago: float = 60,
) -> str:
    """A new daily-rule recovery point of the resource, newer than any other, as asked: taken ``minutes_ago``,
    or halfway between the newest one and now when that is more recent (the plan's daily backup of 02:00
    UTC has finished less than ``minutes_ago`` ago)."""
    d = platform.design
    plan_id, rule_ids = plan_rules(platform)
    kind = next(k for a, k in platform.resource_arns() if a == resource_arn)
    now = platform.cloud.clock.now()
    taken = now - timedelta(minutes=minutes_ago)
    newest = max(
        (p["CreationDate"] for p in _points(platform, d.primary_region, d.backup_vault, resource_arn)), default=None
    )
    if newest is not None and newest >= taken:
        taken = newest + (now - newest) / 2
    return platform.backup.seed_recovery_point(
        d.backup_vault,
        d.primary_region,
        resource_arn,
        kind,
        taken,
        encrypted=encrypted,
        delete_after_days=delete_after_days,
        plan_id=plan_id,
        rule_id=rule_ids["daily"],
        snapshot=snapshot or platform.backup.snapshot_of(resource_arn, d.primary_region),
    )


def _is_heartbeat_item(item: dict[str, Any]) -> bool:
    """The DR heartbeat's item (``dr_heartbeat_at``, or a key starting ``__dr_heartbeat__``), which restore
    validation leaves out: corrupting it would corrupt nothing the validation reads."""
    values = [v.get("S", "") if isinstance(v, dict) else v for v in item.values()]
    return "dr_heartbeat_at" in item or any(str(v).startswith("__dr_heartbeat__") for v in values)


def corrupted(snapshot: Snapshot) -> Snapshot:
    """The same backup with half of its table items, one object's bytes changed, or half of each database
    table's rows: data that does not match its source."""
    if isinstance(snapshot, AuroraClusterSnapshot) and snapshot.data is not None:
        data = snapshot.data.copy()
        for tables in data.databases.values():
            for table in tables.values():
                table.rows = table.rows[: len(table.rows) // 2]
        return dataclasses.replace(snapshot, data=data)
    if isinstance(snapshot, DynamoTableSnapshot):  # half of the application's items; the DR heartbeats stay
        heartbeats = [i for i in snapshot.items if _is_heartbeat_item(i)]
        items = [i for i in snapshot.items if not _is_heartbeat_item(i)]
        return dataclasses.replace(snapshot, items=items[: len(items) // 2] + heartbeats)
    application = [n for n, o in enumerate(getattr(snapshot, "objects", [])) if not o.key.startswith("_dr/")]
    if isinstance(snapshot, S3BucketSnapshot) and application:
        n = application[0]  # an application object (not the DR heartbeat, which validation leaves out)
        first = snapshot.objects[n]
        changed = dataclasses.replace(first, body=first.body + b" (corrupted)", etag='"0000corrupted0000"')
        return dataclasses.replace(snapshot, objects=[*snapshot.objects[:n], changed, *snapshot.objects[n + 1 :]])
    return snapshot
