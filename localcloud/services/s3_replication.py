"""S3 cross-Region replication on top of moto, progressing on the virtual clock.

moto stores ``PutBucketReplication`` configurations but replicates nothing.
``S3ReplicationSimulator`` copies new objects to the destination bucket the way S3 Replication does.

Modeled (Amazon S3 User Guide, "Replicating objects within and across Regions"):
- every ``Enabled`` rule of a bucket's configuration; a rule applies to an object when its
  ``Filter`` (``Prefix``, ``Tag``, ``And`` of both; or the legacy rule-level ``Prefix``) matches; of
  the rules matching an object for one destination the highest ``Priority`` wins; a destination is
  ``arn:aws:s3:::NAME``;
- what is replicated: each new object version written by PutObject, CopyObject or
  CompleteMultipartUpload, and each delete marker made by DeleteObject/DeleteObjects without a
  VersionId, when the rule has ``DeleteMarkerReplication`` Enabled and no tag filter (a legacy
  prefix-only rule replicates delete markers, as in S3). Deleting a specific version is never
  replicated. Objects that existed before the configuration, and replicas, are not replicated
  (no S3 Batch Replication, no chains);
- the replica keeps the key, the bytes, the ETag, the version id, the user metadata,
  Content-Type, the tags and LastModified of the source version, in the destination's storage
  class when the rule names one;
- replication status, read by HeadObject/GetObject as ``ReplicationStatus``: moto 5.2.5 does not
  expose it, so the simulator stores it as the object's ``x-amz-replication-status`` header, which
  moto echoes: the source version is ``PENDING`` until every destination has it, then
  ``COMPLETED`` (``FAILED`` when a destination cannot take it); replicas are ``REPLICA``;
- both buckets need versioning Enabled (moto, like S3, refuses a configuration on an unversioned
  source; unlike S3 it accepts an unversioned destination, so such a misconfiguration can be
  staged): an object whose destination is missing or unversioned is not replicated, its status is
  ``FAILED`` and ``problems()`` says why;
- timing: an object reaches the destination ``latency`` after it was written, 2 s by default (the
  typical "seconds" of S3 replication; Replication Time Control only promises 99.99 % within
  15 minutes, ``RTC_SLA_SECONDS``): ``set_replication_latency`` per source bucket; nothing runs in
  the background, a hook applies what is due before every AWS call (and ``pump()``);
- outages: ``pause_replication(source_region)`` holds the objects of that Region's buckets;
  ``resume_replication`` delivers them ``latency`` after the resume (and ends a slowdown);
  ``slow_replication(source_region, rate)`` makes the latency of that Region's buckets grow by
  ``rate`` seconds per second from now (a gray failure); ``sync_now`` delivers everything at once
  (scenario seeding);
- CloudWatch ``AWS/S3`` metrics per rule (dimensions ``SourceBucket``, ``DestinationBucket``,
  ``RuleId``) in the source bucket's Region, through the ``MetricsSimulator`` when given:
  ``ReplicationLatency`` (Seconds: the configured latency, or the age of the oldest pending object
  when larger), ``OperationsPendingReplication`` (Count), ``BytesPendingReplication`` (Bytes).
  S3 publishes them only for rules with replication metrics (or RTC) enabled; here every enabled
  rule has them;
- ``GetBucketReplication`` answers the stored configuration as it was put (moto 5.2.5 drops each
  rule's ``Filter`` and ``DeleteMarkerReplication``).

How writes are seen: PutObject, CopyObject, CompleteMultipartUpload, DeleteObject and DeleteObjects
are routed here and answered by moto itself (``passthrough.moto_response``); once moto has answered,
the response names the version (or delete marker) the write created, and that is what is queued.
A write moto refuses is never queued.

Not modeled: the IAM role's permissions, KMS-encrypted object selection (``SourceSelectionCriteria``),
replica modification sync, existing-object replication, S3 Replication Time Control events, event
notifications of the destination bucket for replicas, delete markers for keys the destination never
held, object lock settings on replicas, partitions other than ``aws``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import get_service_model
from moto.s3.models import FakeKey, s3_backends

from localcloud.clock import VirtualClock
from localcloud.interceptor import Call, Interceptor, Response, serialize_result
from localcloud.services.metrics import MetricsSimulator
from localcloud.services.passthrough import moto_response, parse_response
from localcloud.services.regional_replication import RegionalReplication

DEFAULT_REPLICATION_LATENCY_SECONDS = 2.0
RTC_SLA_SECONDS = 15 * 60  # Replication Time Control: 99.99 % of objects within 15 minutes
STATUS_HEADER = "x-amz-replication-status"
BUCKET_ARN_PREFIX = "arn:aws:s3:::"
WRITE_OPERATIONS = ("PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject", "DeleteObjects")


def _backend() -> Any:
    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def _bucket(name: str) -> Any:
    return _backend().buckets.get(name)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Rule:
    """One replication rule, read from the configuration moto stored (XML parsed into dicts)."""

    rule_id: str
    priority: int
    enabled: bool
    prefix: str
    tags: tuple[tuple[str, str], ...]
    delete_markers: bool
    destination_arn: str
    storage_class: str | None

    @property
    def destination_bucket(self) -> str:
        arn = self.destination_arn
        return arn[len(BUCKET_ARN_PREFIX) :] if arn.startswith(BUCKET_ARN_PREFIX) else ""

    def matches(self, key: str, tags: dict[str, str]) -> bool:
        return key.startswith(self.prefix) and all(tags.get(k) == v for k, v in self.tags)

    @staticmethod
    def parse(raw: dict[str, Any]) -> Rule:
        legacy = "Filter" not in raw
        prefix = raw.get("Prefix") or ""
        tags: list[Any] = []
        flt = raw.get("Filter") or {}
        if not legacy:
            conjunction = flt.get("And") or {}
            prefix = flt.get("Prefix") or conjunction.get("Prefix") or ""
            tags = _as_list(flt.get("Tag")) + _as_list(conjunction.get("Tag"))
        destination = raw.get("Destination") or {}
        delete_markers = (raw.get("DeleteMarkerReplication") or {}).get("Status")
        return Rule(
            rule_id=str(raw.get("ID") or ""),
            priority=int(raw.get("Priority") or 0),
            enabled=raw.get("Status") == "Enabled",
            prefix=str(prefix),
            tags=tuple((str(t["Key"]), str(t.get("Value") or "")) for t in tags),
            # a legacy (prefix-only) rule replicates delete markers; a filtered one only when asked
            delete_markers=legacy or (delete_markers == "Enabled" and not tags),
            destination_arn=str(destination.get("Bucket") or ""),
            storage_class=destination.get("StorageClass"),
        )


def rules_of(bucket: Any) -> list[Rule]:
    config = getattr(bucket, "replication", None) or {}
    return [Rule.parse(raw) for raw in _as_list(config.get("Rule"))]


@dataclass
class PendingObject:
    """A source version (object or delete marker) on its way to one destination."""

    source_bucket: str
    source_region: str
    key: str
    version_id: str
    delete_marker: bool
    size: int
    written_at: datetime
    rule_id: str
    destination_bucket: str

    @property
    def route(self) -> tuple[str, str, str]:
        return (self.source_bucket, self.rule_id, self.destination_bucket)


def _status(key: Any, status: str | None) -> None:
    if not isinstance(key, FakeKey):
        return
    if status is None:
        key.metadata.pop(STATUS_HEADER, None)
    else:
        key.metadata[STATUS_HEADER] = status


class S3ReplicationSimulator(RegionalReplication):
    """Replicates new objects of moto's buckets to their destinations on the virtual clock."""

    def __init__(self, clock: VirtualClock, metrics: MetricsSimulator | None = None) -> None:
        super().__init__(clock)
        self.metrics = metrics
        self._latency_rules: list[tuple[str | None, float]] = [(None, DEFAULT_REPLICATION_LATENCY_SECONDS)]
        self._pending: list[PendingObject] = []
        self._failed: dict[tuple[str, str, str], tuple[int, str]] = {}  # route -> (objects, last reason)

    # -- knobs -------------------------------------------------------------------------------------
    def set_replication_latency(self, seconds: float, source_bucket: str | None = None) -> None:
        """Latency of the objects of ``source_bucket`` (None: every bucket, replacing earlier settings)."""
        if seconds < 0:
            raise ValueError(f"replication latency must be >= 0 seconds, got {seconds}")
        with self._lock:
            self._pump_locked()
            if source_bucket is None:
                self._latency_rules = []
            self._latency_rules.append((source_bucket, float(seconds)))

    def replication_latency(self, source_bucket: str) -> float:
        with self._lock:
            return self._latency(source_bucket)

    def sync_now(self, source_bucket: str | None = None) -> int:
        """Deliver every pending object (of ``source_bucket``) now, paused or not; return how many."""
        with self._lock:
            chosen = [p for p in self._pending if source_bucket in (None, p.source_bucket)]
            self._deliver_all(chosen)
            return len(chosen)

    # -- views -------------------------------------------------------------------------------------
    def pending(self, source_bucket: str | None = None) -> int:
        """Objects (and delete markers) not yet replicated, counted once per destination."""
        with self._lock:
            self._pump_locked()
            return sum(1 for p in self._pending if source_bucket in (None, p.source_bucket))

    def problems(self) -> list[str]:
        """Why objects are not replicated: misconfigured rules now, and objects that failed."""
        with self._lock:
            found: list[str] = []
            for name, bucket in sorted(_backend().buckets.items()):
                for rule in rules_of(bucket):
                    if rule.enabled:
                        reason = self._blocker(name, rule)
                        if reason:
                            found.append(f"bucket {name} rule {rule.rule_id!r}: {reason}")
            for (source, rule_id, destination), (count, reason) in sorted(self._failed.items()):
                found.append(
                    f"{count} object(s) written to {source} were not replicated to {destination} "
                    f"(rule {rule_id!r}): {reason}"
                )
            return found

    # -- replication ---------------------------------------------------------------------------------
    def pump(self) -> int:
        """Deliver every object that is due on the clock; return how many were delivered."""
        with self._lock:
            return self._pump_locked()

    def _pump_locked(self) -> int:
        now = self.clock.now()
        due = [p for p in self._pending if (at := self._due_at(p)) is not None and at <= now]
        due.sort(key=lambda p: p.written_at)
        self._deliver_all(due)
        return len(due)

    def _deliver_all(self, chosen: list[PendingObject]) -> None:
        for pending in chosen:
            self._pending.remove(pending)
            self._deliver(pending)

    def _latency(self, source_bucket: str) -> float:
        for bucket, seconds in reversed(self._latency_rules):
            if bucket in (None, source_bucket):
                return seconds
        return DEFAULT_REPLICATION_LATENCY_SECONDS

    def _due_at(self, pending: PendingObject) -> datetime | None:
        latency = self._latency(pending.source_bucket) + self._growth(pending.source_region)
        return self._arrival(pending.source_region, pending.written_at, latency)

    @staticmethod
    def _blocker(source: str, rule: Rule) -> str | None:
        """Why ``rule`` of ``source`` cannot replicate now (None when it can)."""
        source_bucket = _bucket(source)
        if source_bucket is None or not source_bucket.is_versioned:
            status = source_bucket.versioning_status if source_bucket is not None else None
            return f"source bucket {source} has versioning {status or 'off'}, expected Enabled"
        if not rule.destination_bucket:
            return f"destination {rule.destination_arn!r} is not a bucket ARN (expected {BUCKET_ARN_PREFIX}NAME)"
        destination = _bucket(rule.destination_bucket)
        if destination is None:
            return f"destination bucket {rule.destination_bucket} does not exist"
        if not destination.is_versioned:
            return (
                f"destination bucket {rule.destination_bucket} has versioning "
                f"{destination.versioning_status or 'off'}, expected Enabled"
            )
        return None

    def _observe(self, bucket_name: str, key_name: str, version_id: str | None, delete_marker: bool) -> None:
        """A write succeeded in ``bucket_name``: queue it for every destination whose rule matches."""
        bucket = _bucket(bucket_name)
        if bucket is None or not rules_of(bucket):
            return
        # An unversioned (or suspended) bucket answers no VersionId; its objects are version "null".
        version_id = version_id or "null"
        version = _backend().get_object(bucket_name, key_name, version_id, return_delete_marker=True)
        if version is None:
            return
        tags: dict[str, str] = {}
        if not delete_marker:
            tags = _backend().tagger.get_tag_dict_for_resource(version.arn)
        chosen: dict[str, Rule] = {}
        for rule in rules_of(bucket):
            if not rule.enabled or not rule.matches(key_name, tags):
                continue
            if delete_marker and not rule.delete_markers:
                continue
            best = chosen.get(rule.destination_arn)
            if best is None or rule.priority > best.priority:
                chosen[rule.destination_arn] = rule
        status = None
        for rule in chosen.values():
            reason = self._blocker(bucket_name, rule)
            if reason:
                self._fail((bucket_name, rule.rule_id, rule.destination_bucket or rule.destination_arn), reason)
                status = "FAILED"
                continue
            status = status or "PENDING"
            self._pending.append(
                PendingObject(
                    source_bucket=bucket_name,
                    source_region=bucket.region_name,
                    key=key_name,
                    version_id=str(version_id),
                    delete_marker=delete_marker,
                    size=0 if delete_marker else int(version.size),
                    written_at=self.clock.now(),
                    rule_id=rule.rule_id,
                    destination_bucket=rule.destination_bucket,
                )
            )
        _status(version, status)

    def _fail(self, route: tuple[str, str, str], reason: str) -> None:
        count, _ = self._failed.get(route, (0, ""))
        self._failed[route] = (count + 1, reason)

    def _deliver(self, pending: PendingObject) -> None:
        """Copy one source version (or delete marker) to its destination, and settle its status."""
        backend = _backend()
        source = backend.get_object(pending.source_bucket, pending.key, pending.version_id, return_delete_marker=True)
        rule = next((r for r in rules_of(_bucket(pending.source_bucket)) if r.rule_id == pending.rule_id), None)
        reason = self._blocker(pending.source_bucket, rule) if rule is not None else "the rule was removed"
        if reason:
            self._fail(pending.route, reason)
            _status(source, "FAILED")
            return
        if source is None:
            return  # the version was deleted before it could be replicated
        destination = _bucket(pending.destination_bucket)
        if pending.delete_marker:
            if pending.key in destination.keys:
                marker = backend._set_delete_marker(pending.destination_bucket, pending.key)
                marker._version_id = pending.version_id
        elif not any(str(v.version_id) == pending.version_id for v in destination.keys.getlist(pending.key, [])):
            self._copy(source, pending, rule)
        others = any(
            p.source_bucket == pending.source_bucket and p.version_id == pending.version_id for p in self._pending
        )
        if isinstance(source, FakeKey) and not others and source.metadata.get(STATUS_HEADER) != "FAILED":
            _status(source, "COMPLETED")

    @staticmethod
    def _copy(source: Any, pending: PendingObject, rule: Rule | None) -> None:
        backend = _backend()
        replica = backend.put_object(
            bucket_name=pending.destination_bucket,
            key_name=pending.key,
            value=source.value,
            storage=(rule.storage_class if rule is not None else None) or source.storage_class,
            etag=source.etag.strip('"'),
            multipart=source.multipart,
            encryption=source.encryption,
            kms_key_id=source.kms_key_id,
            bucket_key_enabled=source.bucket_key_enabled,
            checksum_value=source.checksum_value,
            disable_notification=True,
        )
        replica._version_id = source.version_id
        replica.last_modified = source.last_modified
        replica.checksum_algorithm = source.checksum_algorithm
        replica.set_metadata({k: v for k, v in source.metadata.items() if k.lower() != STATUS_HEADER})
        _status(replica, "REPLICA")
        backend.tagger.copy_tags(source.arn, replica.arn)

    # -- the API -------------------------------------------------------------------------------------
    def _observing(self, call: Call) -> Response:
        """Let moto write, then queue what the write created for replication."""
        response = moto_response(call)
        if response[0] >= 300:
            return response
        params = call.params
        parsed = parse_response(call, response)
        writes: list[tuple[str, str | None, bool]] = []  # (key, version id, delete marker)
        if call.operation == "DeleteObjects":
            versioned = {o["Key"] for o in params["Delete"]["Objects"] if o.get("VersionId")}
            writes = [
                (d["Key"], d.get("DeleteMarkerVersionId"), True)
                for d in parsed.get("Deleted", [])
                if d.get("DeleteMarker") and d["Key"] not in versioned
            ]
        elif call.operation == "DeleteObject":
            if parsed.get("DeleteMarker") and not params.get("VersionId"):
                writes = [(params["Key"], parsed.get("VersionId"), True)]
        else:
            writes = [(params["Key"], parsed.get("VersionId"), False)]
        with self._lock:
            for key, version_id, delete_marker in writes:
                if call.operation == "CopyObject" and version_id:  # moto copies the source's status too
                    _status(_backend().get_object(params["Bucket"], key, version_id), None)
                self._observe(params["Bucket"], key, version_id, delete_marker)
        return response

    def _get_bucket_replication(self, call: Call) -> Response:
        bucket = _bucket(call.params["Bucket"])
        config = getattr(bucket, "replication", None) if bucket is not None else None
        if not config:
            return moto_response(call)  # moto's NoSuchBucket / ReplicationConfigurationNotFoundError
        return serialize_result(call, {"ReplicationConfiguration": stored_configuration(call, config)})

    # -- metrics ---------------------------------------------------------------------------------------
    def _series_values(self, route: tuple[str, str, str], what: str) -> float | None:
        with self._lock:
            self._pump_locked()
            source, rule_id, destination = route
            bucket = _bucket(source)
            if bucket is None or not any(
                r.enabled and r.rule_id == rule_id and r.destination_bucket == destination for r in rules_of(bucket)
            ):
                return None
            waiting = [p for p in self._pending if p.route == route]
            if what == "OperationsPendingReplication":
                return float(len(waiting))
            if what == "BytesPendingReplication":
                return float(sum(p.size for p in waiting))
            seconds = self._latency(source) + self._growth(bucket.region_name)
            if waiting:
                oldest = min(p.written_at for p in waiting)
                seconds = max(seconds, (self.clock.now() - oldest).total_seconds())
            return seconds

    def _define(self, source: str, region: str, rules: list[Rule]) -> None:
        if self.metrics is None:
            return
        for rule in rules:
            if not (rule.enabled and rule.destination_bucket and rule.rule_id):
                continue
            route = (source, rule.rule_id, rule.destination_bucket)
            dimensions = {"SourceBucket": source, "DestinationBucket": rule.destination_bucket, "RuleId": rule.rule_id}
            for name, unit in (
                ("ReplicationLatency", "Seconds"),
                ("OperationsPendingReplication", "Count"),
                ("BytesPendingReplication", "Bytes"),
            ):
                self.metrics.define(
                    region, "AWS/S3", name, dimensions, partial(self._series_values, route, name), unit=unit
                )

    def _define_all(self) -> None:
        with self._lock:
            configured = [(name, b.region_name, rules_of(b)) for name, b in list(_backend().buckets.items())]
        for name, region, rules in configured:
            self._define(name, region, rules)

    # -- wiring ----------------------------------------------------------------------------------------
    def _before_call(self, call: Call) -> None:
        self.pump()
        if call.service == "s3" and call.operation == "PutBucketReplication":
            params = call.params
            bucket = _bucket(params["Bucket"])
            raw_rules = (params.get("ReplicationConfiguration") or {}).get("Rules") or []
            if bucket is not None:
                self._define(params["Bucket"], bucket.region_name, [_rule_from_params(r) for r in raw_rules])

    def register(self, interceptor: Interceptor) -> None:
        interceptor.hook(self._before_call)
        for operation in WRITE_OPERATIONS:
            interceptor.route("s3", operation, self._observing)
        interceptor.route("s3", "GetBucketReplication", self._get_bucket_replication)
        if self.metrics is not None:
            self.metrics.before_publish(self._define_all)
            self._define_all()


def _rule_from_params(rule: dict[str, Any]) -> Rule:
    """A rule as the API request carries it (PutBucketReplication), in the shape moto stores."""
    raw: dict[str, Any] = dict(rule)
    flt = rule.get("Filter")
    if flt is not None:
        conjunction = flt.get("And") or {}
        raw["Filter"] = {
            "Prefix": flt.get("Prefix"),
            "Tag": flt.get("Tag"),
            "And": {"Prefix": conjunction.get("Prefix"), "Tag": conjunction.get("Tags")},
        }
    return Rule.parse(raw)


def stored_configuration(call: Call, config: dict[str, Any]) -> dict[str, Any]:
    """moto's stored configuration (XML parsed into strings and dicts) in the API's output shape."""
    operation = get_service_model("s3").operation_model(call.operation)
    shape = operation.output_shape.members["ReplicationConfiguration"]
    converted: dict[str, Any] = _convert(shape, config)
    return converted


def replication_of(bucket: Any) -> dict[str, Any] | None:
    """A moto bucket's replication configuration as GetBucketReplication answers it (None: it has none)."""
    config = getattr(bucket, "replication", None)
    if not config:
        return None
    shape = get_service_model("s3").operation_model("GetBucketReplication").output_shape
    converted: dict[str, Any] = _convert(shape.members["ReplicationConfiguration"], config)
    return converted


def _convert(shape: Any, value: Any) -> Any:
    """Turn xmltodict output into the types of botocore ``shape`` (structures, lists, ints, bools)."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            raw = value.get(member.serialization.get("name", name)) if isinstance(value, dict) else None
            if raw is None and member.type_name == "string" and name in value:
                raw = ""  # an empty element (<Prefix/>) is an empty string
            converted = _convert(member, raw)
            if converted is not None:
                out[name] = converted
        return out
    if kind == "list":
        return [_convert(shape.member, item) for item in _as_list(value)]
    if kind in ("integer", "long"):
        return int(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return value
