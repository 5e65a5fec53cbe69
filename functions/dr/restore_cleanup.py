"""Deleting what restore tests restored: the cleanup of one test (on every path), and the sweep of what
earlier tests left behind.

Each resource is handled on its own, so one refusal never stops the others, and its outcome is reported:

- ``deleted``: it was there and this cleanup deleted it (it is gone now);
- ``gone``: it was not there (never restored, or already deleted by someone else);
- ``deleting``: its deletion was accepted and is still in progress (a table DELETING, a cluster deleting);
- ``waiting``: a restore job that creates it is still running: nothing to delete yet;
- ``retrying``: an error that can pass (throttling or a 5xx after the SDK's retries, a state that forbids
  deletion for now); it is tried again on the next look, at most ``RETRY_LIMIT`` times in a row;
- ``failed``: AWS refused (access denied, deletion protection, ...) or it kept failing: it is left, with
  AWS's reason. It is tried again on each look, but it does not keep the cleanup waiting.

The cleanup is *settled* when nothing is deleting, waiting or retrying; *done* when, in addition, nothing
of it is left and every listing it needed could be read. ``leftover_resources`` counts what is known to be
left; ``leftover_known`` says whether that count is complete (``leftover_unchecked`` names what could not be
listed).

The sweeper deletes only resources named ``drtest-*`` **and** tagged ``dr:purpose=restore-test`` that belong
to no running restore test (neither by name prefix nor by the ``dr:execution`` tag) and were created before
the oldest running restore test started. A ``drtest-*`` resource without the tag is reported, never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from dr.aws import client, error_code, is_transient, paginate
from dr.backup_models import BackupRequest, RestorePlanItem
from dr.restore_test import PREFIX, PURPOSE, PURPOSE_TAG, RUNNING_STATES, name_prefix, ours
from dr.settings import Settings

T = TypeVar("T")

RETRY_LIMIT = 10  # looks in a row with a passing error before a resource counts as failed
SETTLED_STATES = ("deleted", "gone", "failed")
LEFT_STATES = ("deleting", "waiting", "retrying", "failed")
_GONE_CODES = {
    "ResourceNotFoundException",
    "NoSuchBucket",
    "404",
    "NotFound",
    "DBClusterNotFoundFault",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
}
# AWS refuses the deletion *now*, because of a state that passes (a table being created, a cluster still
# holding instances that are being deleted, a bucket emptied a moment ago).
_NOT_YET_CODES = {
    "ResourceInUseException",
    "InvalidDBClusterStateFault",
    "InvalidDBInstanceState",
    "InvalidDBInstanceStateFault",
    "BucketNotEmpty",
    "OperationAborted",
    "ConflictingOperationInProgress",
}


class Refused(Exception):
    """A deletion AWS answered with an error inside a successful response (S3 DeleteObjects' Errors)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def _why(err: Exception) -> str:
    if isinstance(err, ClientError):
        message = err.response.get("Error", {}).get("Message") or str(err)
        return f"{error_code(err)}: {message}"
    return f"{type(err).__name__}: {err}"


def _passes(err: Exception) -> bool:
    """Whether trying again later can help."""
    if isinstance(err, ClientError):
        return is_transient(err) or error_code(err) in _NOT_YET_CODES
    if isinstance(err, Refused):
        return err.code in _NOT_YET_CODES or err.code in ("InternalError", "SlowDown", "ServiceUnavailable")
    return isinstance(err, BotoCoreError)


def _gone(err: ClientError) -> bool:
    return error_code(err) in _GONE_CODES


def _described(describe: Callable[[], T]) -> T | None:
    """What ``describe()`` answers, or None when the resource is already gone."""
    try:
        return describe()
    except ClientError as err:
        if _gone(err):
            return None
        raise


# -- deleting one resource ----------------------------------------------------------------------------------
def _delete_table(region: str, name: str) -> str:
    ddb = client("dynamodb", region)
    table = _described(lambda: ddb.describe_table(TableName=name)["Table"])
    if table is None:
        return "gone"
    if table["TableStatus"] != "DELETING":
        ddb.delete_table(TableName=name)
    return "deleting"


def _versions(s3: Any, name: str) -> Iterator[dict[str, str]]:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            yield {"Key": entry["Key"], "VersionId": entry["VersionId"]}


def _delete_bucket(region: str, name: str) -> str:
    s3 = client("s3", region)
    if _described(lambda: s3.head_bucket(Bucket=name)) is None:
        return "gone"
    versions = list(_versions(s3, name))
    for start in range(0, len(versions), 1000):
        answer = s3.delete_objects(Bucket=name, Delete={"Objects": versions[start : start + 1000], "Quiet": True})
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise Refused(
                str(first.get("Code", "Unknown")),
                f"{len(errors)} object version(s) not deleted (first: {first.get('Key')}: {first.get('Message')})",
            )
    s3.delete_bucket(Bucket=name)
    return "deleting"  # confirmed "deleted" once the bucket no longer answers


def _delete_instance(region: str, name: str) -> str:
    rds = client("rds", region)
    instance = _described(lambda: rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0])
    if instance is None:
        return "gone"
    if instance.get("DBInstanceStatus") != "deleting":
        rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    return "deleting"


def _delete_cluster(region: str, name: str) -> str:
    rds = client("rds", region)
    cluster = _described(lambda: rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0])
    if cluster is None:
        return "gone"
    for member in cluster.get("DBClusterMembers", []):  # AWS deletes a cluster only once it has no instances
        _delete_instance(region, str(member["DBInstanceIdentifier"]))
    if cluster.get("Status") != "deleting":
        rds.delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)
    return "deleting"


DELETERS: dict[str, Callable[[str, str], str]] = {
    "DynamoDB": _delete_table,
    "S3": _delete_bucket,
    "Aurora": _delete_cluster,
    "AuroraInstance": _delete_instance,
}


@dataclass
class Outcome:
    """What happened to one resource, over every look so far."""

    kind: str
    name: str
    region: str
    state: str = "gone"
    reason: str = ""
    attempts: int = 0
    failures_in_a_row: int = 0
    ever_existed: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.region, self.name)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name} in {self.region}"

    @property
    def left(self) -> bool:
        return self.state in LEFT_STATES

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "region": self.region,
            "state": self.state,
            "reason": self.reason,
            "attempts": self.attempts,
            "failures_in_a_row": self.failures_in_a_row,
            "ever_existed": self.ever_existed,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Outcome:
        return cls(
            kind=str(raw["kind"]),
            name=str(raw["name"]),
            region=str(raw["region"]),
            state=str(raw.get("state", "gone")),
            reason=str(raw.get("reason", "")),
            attempts=int(raw.get("attempts", 0)),
            failures_in_a_row=int(raw.get("failures_in_a_row", 0)),
            ever_existed=bool(raw.get("ever_existed", False)),
        )


def attempt(kind: str, region: str, name: str, prior: Outcome | None = None) -> Outcome:
    """Delete one resource (or see that it is gone); never raises for an AWS error, records it."""
    out = prior or Outcome(kind, name, region)
    out.attempts += 1
    try:
        state = DELETERS[kind](region, name)
    except (ClientError, BotoCoreError, Refused) as err:
        out.ever_existed = True  # a refusal is about something that exists (a gone one answers "not found")
        out.failures_in_a_row += 1
        if _passes(err) and out.failures_in_a_row < RETRY_LIMIT:
            out.state, out.reason = "retrying", f"{_why(err)} (will try again)"
        else:
            tries = f" (after {out.failures_in_a_row} tries)" if out.failures_in_a_row > 1 else ""
            out.state, out.reason = "failed", f"{_why(err)}{tries}"
        return out
    out.failures_in_a_row = 0
    if state == "gone":
        out.state = "deleted" if out.ever_existed else "gone"
        out.reason = "" if out.ever_existed else "not there"
    else:
        out.ever_existed = True
        out.state, out.reason = "deleting", "deletion in progress"
    return out


# -- finding what exists --------------------------------------------------------------------------------------
@dataclass
class Found:
    """A ``drtest-*`` resource: where, since when, with which tags."""

    kind: str
    name: str
    region: str
    created_at: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Listing:
    found: list[Found] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # what could not be listed, and why
    retry: bool = False  # whether an unchecked listing may succeed on the next look


def _listed(listing: Listing, what: str, call: Callable[[], list[Found]]) -> None:
    try:
        listing.found += call()
    except (ClientError, BotoCoreError) as err:
        listing.unchecked.append(f"{what}: {_why(err)}")
        listing.retry = listing.retry or _passes(err)


def _tags(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    return {str(t["Key"]): str(t["Value"]) for t in pairs or []}


def _tables(region: str, prefix: str, with_details: bool) -> list[Found]:
    ddb = client("dynamodb", region)
    names = [str(n) for n in paginate(ddb, "list_tables", "TableNames") if str(n).startswith(prefix)]
    if not with_details:
        return [Found("DynamoDB", n, region) for n in names]
    out = []
    for name in names:
        try:
            table = ddb.describe_table(TableName=name)["Table"]
            tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
        except ClientError as err:
            if _gone(err):  # deleted since it was listed
                continue
            raise
        out.append(Found("DynamoDB", name, region, table.get("CreationDateTime"), _tags(tags)))
    return out


def _bucket_region(s3: Any, name: str) -> str:
    return str(s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1")


def _buckets(region: str, prefix: str, regions: list[str], with_details: bool) -> list[Found]:
    """The ``prefix`` buckets in ``regions`` (ListBuckets answers every region's buckets)."""
    s3 = client("s3", region)
    out = []
    for bucket in s3.list_buckets().get("Buckets", []):
        name = str(bucket["Name"])
        if not name.startswith(prefix.lower()):
            continue
        try:
            where = _bucket_region(s3, name)
        except ClientError as err:
            if _gone(err):  # deleted since it was listed
                continue
            raise
        if where not in regions:
            continue
        tags: dict[str, str] = {}
        if with_details:
            try:
                tags = _tags(client("s3", where).get_bucket_tagging(Bucket=name).get("TagSet"))
            except ClientError as err:
                if error_code(err) != "NoSuchTagSet":
                    raise
        out.append(Found("S3", name, where, bucket.get("CreationDate"), tags))
    return out


def _clusters(region: str, prefix: str) -> list[Found]:
    rds = client("rds", region)
    return [
        Found("Aurora", str(c["DBClusterIdentifier"]), region, c.get("ClusterCreateTime"), _tags(c.get("TagList")))
        for c in paginate(rds, "describe_db_clusters", "DBClusters")
        if str(c["DBClusterIdentifier"]).startswith(prefix.lower())
    ]


def _instances(region: str, prefix: str) -> list[Found]:
    """DB instances named ``prefix*`` that belong to no cluster of the same prefix (orphans)."""
    rds = client("rds", region)
    return [
        Found(
            "AuroraInstance",
            str(i["DBInstanceIdentifier"]),
            region,
            i.get("InstanceCreateTime"),
            _tags(i.get("TagList")),
        )
        for i in paginate(rds, "describe_db_instances", "DBInstances")
        if str(i["DBInstanceIdentifier"]).startswith(prefix.lower())
        and not str(i.get("DBClusterIdentifier") or "").startswith(prefix.lower())
    ]


def existing(regions: list[str], prefix: str, with_details: bool = False) -> Listing:
    """Every table, bucket, DB cluster and orphan DB instance in ``regions`` whose name starts with ``prefix``."""
    listing = Listing()
    for region in regions:
        _listed(listing, f"DynamoDB tables in {region}", partial(_tables, region, prefix, with_details))
        _listed(listing, f"DB clusters in {region}", partial(_clusters, region, prefix))
        _listed(listing, f"DB instances in {region}", partial(_instances, region, prefix))
    if regions:
        _listed(listing, "S3 buckets", partial(_buckets, regions[0], prefix, regions, with_details))
    return listing


# -- the cleanup of one restore test --------------------------------------------------------------------------
def running_jobs(request: BackupRequest, item: RestorePlanItem, known: list[str]) -> list[str]:
    """Restore jobs of this test still running: what they restore does not exist yet, so cannot be deleted."""
    backup = client("backup", item.region)
    since = request.started_at - timedelta(minutes=5)
    jobs = list(paginate(backup, "list_restore_jobs", "RestoreJobs", ByCreatedAfter=since, MaxResults=100))
    ours_ = [j for j in jobs if j.get("RecoveryPointArn") == item.recovery_point_arn or j.get("RestoreJobId") in known]
    return [str(j["RestoreJobId"]) for j in ours_ if j.get("Status") in RUNNING_STATES]


def tag_left(outcome: Outcome, request: BackupRequest) -> None:
    """Best effort: tag a resource this test must leave, so the sweeper recognises it later."""
    tags = {PURPOSE_TAG: PURPOSE, "dr:execution": request.execution_name}
    try:
        if outcome.kind == "DynamoDB":
            ddb = client("dynamodb", outcome.region)
            arn = ddb.describe_table(TableName=outcome.name)["Table"]["TableArn"]
            ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        elif outcome.kind == "S3":
            client("s3", outcome.region).put_bucket_tagging(
                Bucket=outcome.name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
            )
    except (ClientError, BotoCoreError):
        pass  # the report names it anyway; the sweeper will report it as untagged


def _planned(
    request: BackupRequest,
    plan: list[RestorePlanItem],
    results: list[dict[str, Any]],
    prior: dict[tuple[str, str, str], Outcome],
    unchecked: list[str],
) -> tuple[dict[tuple[str, str, str], Outcome], bool]:
    """The plan's restores, each deleted (or waited for while its restore job runs)."""
    known_jobs: dict[str, list[str]] = {}  # recovery point -> the restore jobs this test started from it
    for result in results:
        if result.get("restore_job_id"):
            known_jobs.setdefault(str(result.get("recovery_point_arn")), []).append(str(result["restore_job_id"]))
    outcomes: dict[tuple[str, str, str], Outcome] = {}
    retry = False
    for item in plan:
        if not ours(item.restore_name, request.execution):  # never delete anything this test did not name
            continue
        key: tuple[str, str, str] = (item.resource_type, item.region, item.restore_name)
        outcome = attempt(item.resource_type, item.region, item.restore_name, prior.get(key))
        try:
            running = running_jobs(request, item, known_jobs.get(item.recovery_point_arn, []))
        except (ClientError, BotoCoreError) as err:
            unchecked.append(f"restore jobs in {item.region}: {_why(err)}")
            retry, running = True, []
        if running and outcome.state == "gone":
            outcome.state, outcome.reason = "waiting", f"restore job {', '.join(running)} still running"
        outcomes[key] = outcome
    return outcomes, retry


def clean_up(
    request: BackupRequest,
    plan: list[RestorePlanItem],
    results: list[dict[str, Any]],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One look: delete every temporary resource of this test, then say, per resource, what is left and why."""
    previous = previous or {}
    prior = {o.key: o for o in (Outcome.from_json(r) for r in previous.get("resources") or [])}
    unchecked: list[str] = []
    outcomes, retry_unchecked = _planned(request, plan, results, prior, unchecked)
    prefix = name_prefix(request.execution)
    regions = sorted({item.region for item in plan} | {o.region for o in prior.values()})
    listing = existing(regions, prefix)
    for found in listing.found:  # anything else of this test's (a restore nobody recorded)
        key: tuple[str, str, str] = (found.kind, found.region, found.name)
        if key not in outcomes and ours(found.name, request.execution):
            outcomes[key] = attempt(found.kind, found.region, found.name, prior.get(key))
    for key, earlier in prior.items():  # looked at before, not planned nor listed now: look again
        if key not in outcomes:
            outcomes[key] = attempt(earlier.kind, earlier.region, earlier.name, earlier)
    after = existing(regions, prefix)  # what is still there once the deletions were issued
    still = {(f.kind, f.region, f.name) for f in after.found}
    for outcome in outcomes.values():
        if outcome.state == "deleting" and outcome.key not in still and not after.unchecked:
            outcome.state, outcome.reason = "deleted", ""
        if outcome.state == "failed":
            tag_left(outcome, request)
    unchecked += listing.unchecked + [u for u in after.unchecked if u not in listing.unchecked]
    retry_unchecked = retry_unchecked or listing.retry or after.retry
    return report(list(outcomes.values()), unchecked, retry_unchecked, int(previous.get("attempts") or 0) + 1)


def report(outcomes: list[Outcome], unchecked: list[str], retry_unchecked: bool, attempts: int) -> dict[str, Any]:
    """The cleanup's answer: per resource, what is left and why, and whether to look again."""
    ordered = sorted(outcomes, key=lambda o: o.key)
    left = [o for o in ordered if o.left]
    settled = all(o.state in SETTLED_STATES for o in ordered) and not retry_unchecked
    return {
        "resources": [o.as_json() for o in ordered],
        "deleted": [o.label for o in ordered if o.state == "deleted"],
        "leftover": [f"{o.label}: {o.state}, {o.reason}" for o in left],
        "leftover_resources": len(left),
        "leftover_known": not unchecked,
        "leftover_unchecked": unchecked,
        "pending": [f"{o.label}: {o.state}, {o.reason}" for o in left if o.state != "failed"],
        "settled": settled,
        "done": settled and not left and not unchecked,
        "attempts": attempts,
    }


# -- the sweeper ------------------------------------------------------------------------------------------------
def running_restore_tests(settings: Settings) -> list[tuple[str, datetime]]:
    """(execution ARN, start) of every restore test running now."""
    if not settings.restore_test_state_machine_arn:
        raise ValueError("RESTORE_TEST_STATE_MACHINE_ARN is not set: the sweeper cannot tell which tests run")
    sfn = client("stepfunctions", settings.recovery_region)
    return [
        (str(e["executionArn"]), e["startDate"])
        for e in paginate(
            sfn,
            "list_executions",
            "executions",
            stateMachineArn=settings.restore_test_state_machine_arn,
            statusFilter="RUNNING",
        )
    ]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sweep(
    settings: Settings, now: datetime, dry_run: bool = False, live: list[tuple[str, datetime]] | None = None
) -> dict[str, Any]:
    """Delete what earlier restore tests left (see the module docstring for the rule); report all of it.
    ``live``: the running restore tests (execution ARN, start), read from Step Functions when not given."""
    regions = sorted({settings.primary_region, settings.recovery_region})
    out: dict[str, Any] = {"swept": [], "kept": [], "untagged": [], "unchecked": [], "dry_run": dry_run}
    if live is None:
        try:
            live = running_restore_tests(settings)
        except (ClientError, BotoCoreError, ValueError) as err:
            out["unchecked"].append(f"running restore tests: {_why(err)}; nothing was deleted")
            out["swept_resources"] = 0
            return out
    owners = {name_prefix(arn): arn for arn, _ in live} | {arn.rsplit(":", 1)[-1]: arn for arn, _ in live}
    oldest = min((_utc(start) for _, start in live), default=None)
    listing = existing(regions, f"{PREFIX}-", with_details=True)
    out["unchecked"] += listing.unchecked
    for found in listing.found:
        created = _utc(found.created_at) if found.created_at else None
        entry: dict[str, Any] = {
            "kind": found.kind,
            "name": found.name,
            "region": found.region,
            "created_at": created.isoformat() if created else None,
            "age_seconds": round((now - created).total_seconds()) if created else None,
            "execution": found.tags.get("dr:execution"),
        }
        owner = next((arn for p, arn in owners.items() if found.name.startswith(p)), None) or owners.get(
            found.tags.get("dr:execution", "")
        )
        if owner is not None:
            out["kept"].append({**entry, "reason": f"belongs to the running restore test {owner}"})
        elif created is None or (oldest is not None and created >= oldest):
            when = created.isoformat() if created else "an unknown time"
            out["kept"].append({**entry, "reason": f"created {when}, not before the oldest running restore test"})
        elif found.tags.get(PURPOSE_TAG) != PURPOSE:
            out["untagged"].append({**entry, "reason": f"no {PURPOSE_TAG}={PURPOSE} tag: never touched"})
        elif dry_run:
            out["swept"].append({**entry, "state": "would delete", "reason": "dry run"})
        else:
            outcome = attempt(found.kind, found.region, found.name)
            if outcome.state == "deleting":  # look once more: most deletions are done at once
                outcome = attempt(found.kind, found.region, found.name, outcome)
            out["swept"].append({**entry, "state": outcome.state, "reason": outcome.reason})
    out["swept_resources"] = len(out["swept"])
    return out


def sweep_label(entry: dict[str, Any]) -> str:
    age = entry.get("age_seconds")
    days = f"{age / 86400:.1f} days old" if isinstance(age, int | float) else "age unknown"
    return f"{entry['kind']} {entry['name']} in {entry['region']} ({days}): {entry.get('state', '')}"
