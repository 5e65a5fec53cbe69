"""Aurora global database failover and switchover, on top of moto's RDS global clusters.

moto holds the topology (``CreateGlobalCluster``, ``CreateDBCluster`` with ``GlobalClusterIdentifier``,
``DescribeGlobalClusters``) but cannot promote a secondary. ``AuroraGlobalSimulator`` adds
``FailoverGlobalCluster`` and ``SwitchoverGlobalCluster`` and keeps moto's objects showing the
operation as it progresses on the virtual clock, so ``DescribeGlobalClusters`` (answered from moto's
objects) reads what AWS would show at that moment.

Modeled (AWS API reference and the Aurora User Guide, "Using failover/switchover in an Aurora global
database"):
- ``FailoverGlobalCluster``: ``AllowDataLoss=true`` is a failover (unplanned, may lose the writes
  not yet replicated); ``Switchover=true``, or neither, is a switchover; both together is
  ``InvalidParameterCombination``. ``SwitchoverGlobalCluster`` is a switchover;
- ``TargetDbClusterIdentifier`` is an ARN, or an identifier looked up in the caller's Region (as
  AWS does, which is why it asks for the ARN);
- the global cluster's ``Status`` is ``failing-over`` / ``switching-over`` while the operation runs,
  with ``FailoverState`` {Status, FromDbClusterArn, ToDbClusterArn, IsDataLossAllowed}:
  ``pending`` for the first ``pending_seconds`` (10 s), then ``failing-over`` / ``switching-over``,
  then (when it fails) ``cancelling`` for the last ``cancel_seconds`` (20 s); afterwards the state
  is gone and the Status is ``available`` again. Both APIs answer the ``GlobalCluster`` in its
  in-progress state;
- durations (``set_durations``): failover 90 s, switchover 150 s; a switchover started while the
  target's replication lag is above ``switchover_lag_threshold_seconds`` (1 s) still succeeds but
  takes longer by the lag (the secondaries must catch up before the roles change, and Aurora
  waits for them);
- on success the writer moves (``GlobalClusterMembers[].IsWriter`` flips; the old primary becomes a
  secondary, or, with ``detach_old_primary_on_failover`` on an ``AllowDataLoss`` failover, is removed
  from the global cluster as when it cannot be reached); after a switchover every secondary's lag
  is 0, after a failover the rejoined old primary lags ``post_failover_lag_seconds`` (0.5 s);
- ``fail_next_failover``: the next operation ends after its duration with the writer not moved;
- errors: unknown global cluster ``GlobalClusterNotFoundFault``; unknown target
  ``DBClusterNotFoundFault``; a target that is not a member ``InvalidDBClusterStateFault``; an
  operation already running, or a target that already is the writer,
  ``InvalidGlobalClusterStateFault``;
- ``DescribeGlobalClusters`` honours ``GlobalClusterIdentifier`` (``GlobalClusterNotFoundFault``
  when unknown) and the ``region`` filter, and ``RemoveFromGlobalCluster`` works from any Region
  (moto 5.2.5 ignores the identifier, and only removes clusters when called in us-east-1);
- CloudWatch ``AWS/RDS`` ``AuroraGlobalDBReplicationLag`` and ``AuroraGlobalDBRPOLag``
  (Milliseconds, dimension ``DBClusterIdentifier``) for every secondary, in its Region, through the
  ``MetricsSimulator`` when given (``set_replication_lag``; 0 until set);
- outages of the writer's Region: ``pause_replication(region)`` (a Regional outage: nothing reaches
  the secondaries) makes every secondary's lag grow with the clock from that moment, on top of the lag
  there was; ``pause_replication(region, rate=0.2)`` slows it (a gray failure: lag grows by 0.2 s per
  second); ``resume_replication`` catches up to the configured lag. ``set_region_reachable(region,
  False)``: a switchover (``SwitchoverGlobalCluster``, or ``FailoverGlobalCluster`` without
  ``AllowDataLoss``) needs the primary cluster, so it is refused with ``InvalidDBClusterStateFault``
  while the writer's Region is unreachable; ``FailoverGlobalCluster`` with ``AllowDataLoss`` from
  another Region works (the documented unplanned path) and records the grown lag as its data at risk.

Not modeled: instance-level roles (moto always shows one ``IsClusterWriter`` instance per cluster,
also in a secondary), the DB clusters' own Status during the operation, write forwarding, RDS events,
``DescribeGlobalClusters`` pagination, engine-version checks, more than one operation queued.
moto keeps every global cluster in its us-east-1 backend (``RDSResponse.global_backend``); so do we.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.rds.models import rds_backends

from localcloud import sdk
from localcloud.clock import VirtualClock
from localcloud.interceptor import (
    AwsError,
    Call,
    Interceptor,
    Response,
    serialize_error,
    serialize_result,
    serialize_service_error,
)
from localcloud.services.metrics import MetricsSimulator

GLOBAL_BACKEND_REGION = "us-east-1"  # where moto stores global clusters, whatever the caller's Region
LAG_METRICS = ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag")


def describe_global_cluster(global_cluster: Any) -> dict[str, Any]:
    """The ``GlobalCluster`` output shape of one of moto's global clusters, as AWS would return it."""
    described: dict[str, Any] = {
        "GlobalClusterIdentifier": global_cluster.global_cluster_identifier,
        "GlobalClusterResourceId": global_cluster.global_cluster_resource_id,
        "GlobalClusterArn": global_cluster.global_cluster_arn,
        "Status": global_cluster.status,
        "Engine": global_cluster.engine,
        "EngineVersion": global_cluster.engine_version,
        "StorageEncrypted": bool(global_cluster.storage_encrypted),
        "DeletionProtection": bool(global_cluster.deletion_protection),
        "GlobalClusterMembers": global_cluster.global_cluster_members,
        "Endpoint": global_cluster.endpoint,
        "TagList": list(global_cluster.tags),
    }
    failover_state = getattr(global_cluster, "failover_state", None)
    if failover_state:
        described["FailoverState"] = dict(failover_state)
    return described


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def _id_of(arn: str) -> str:
    return arn.rsplit(":", maxsplit=1)[-1]


@dataclass
class Promotion:
    """One failover or switchover of a global cluster, from request to outcome."""

    global_cluster_id: str
    kind: str  # "failover" (AllowDataLoss) or "switchover"
    from_arn: str
    to_arn: str
    started_at: datetime
    duration: float
    pending_seconds: float
    cancel_seconds: float
    fail_reason: str | None
    lag_at_start_seconds: float
    completed_at: datetime | None = None
    outcome: str = "in-progress"  # in-progress | succeeded | failed
    detached_old_primary: bool = False

    @property
    def data_loss_allowed(self) -> bool:
        return self.kind == "failover"

    @property
    def ends_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.duration)

    @property
    def running_status(self) -> str:
        return "failing-over" if self.kind == "failover" else "switching-over"

    def phase(self, now: datetime) -> str:
        """``pending``, ``failing-over``/``switching-over``, ``cancelling`` (a failing one) or ``done``."""
        elapsed = (now - self.started_at).total_seconds()
        if elapsed >= self.duration:
            return "done"
        if elapsed < min(self.pending_seconds, self.duration / 2):
            return "pending"
        if self.fail_reason is not None and elapsed >= self.duration - min(self.cancel_seconds, self.duration / 2):
            return "cancelling"
        return self.running_status

    def event(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "from": self.from_arn,
            "to": self.to_arn,
            "data_loss_allowed": self.data_loss_allowed,
            "outcome": self.outcome,
            "reason": self.fail_reason,
            "lag_at_start_seconds": self.lag_at_start_seconds,
            "detached_old_primary": self.detached_old_primary,
        }


class AuroraGlobalSimulator:
    """Failover/switchover of moto's Aurora global clusters, progressing on the virtual clock."""

    def __init__(self, clock: VirtualClock, metrics: MetricsSimulator | None = None) -> None:
        self.clock = clock
        self.metrics = metrics
        self.failover_seconds = 90.0
        self.switchover_seconds = 150.0
        self.pending_seconds = 10.0
        self.cancel_seconds = 20.0
        self.switchover_lag_threshold_seconds = 1.0
        self.post_failover_lag_seconds = 0.5
        self.detach_old_primary_on_failover = False
        self._promotions: dict[str, list[Promotion]] = {}
        self._lag: dict[str, dict[str, float]] = {}  # global cluster id -> secondary ARN -> seconds
        self._fail_next: dict[str, str] = {}
        self._paused: dict[str, tuple[datetime, float]] = {}  # writer Region -> (since, lag growth per second)
        self._unreachable: set[str] = set()
        self._lock = threading.RLock()

    # -- knobs -------------------------------------------------------------------------------------
    def set_durations(
        self,
        failover_seconds: float | None = None,
        switchover_seconds: float | None = None,
        pending_seconds: float | None = None,
        cancel_seconds: float | None = None,
    ) -> None:
        """How long the next operations take (an operation already running keeps its duration)."""
        with self._lock:
            if failover_seconds is not None:
                self.failover_seconds = float(failover_seconds)
            if switchover_seconds is not None:
                self.switchover_seconds = float(switchover_seconds)
            if pending_seconds is not None:
                self.pending_seconds = float(pending_seconds)
            if cancel_seconds is not None:
                self.cancel_seconds = float(cancel_seconds)

    def set_replication_lag(self, global_cluster_id: str, seconds: float, cluster_id: str | None = None) -> None:
        """The replication lag of the secondary ``cluster_id`` (every secondary when None)."""
        if seconds < 0:
            raise ValueError(f"replication lag must be >= 0 seconds, got {seconds}")
        with self._lock:
            cluster = self._global_cluster(global_cluster_id)
            self._refresh(cluster)
            secondaries = [m for m in cluster.members if not m.is_writer]
            if cluster_id is not None:
                secondaries = [m for m in secondaries if cluster_id in (m.db_cluster_identifier, m.db_cluster_arn)]
                if not secondaries:
                    raise ValueError(
                        f"{cluster_id!r} is not a secondary of global cluster {global_cluster_id}; "
                        f"secondaries: {self._secondary_arns(cluster)}"
                    )
            lags = self._lag.setdefault(cluster.global_cluster_identifier, {})
            for member in secondaries:
                lags[member.db_cluster_arn] = float(seconds)

    def replication_lag(self, global_cluster_id: str, cluster_arn: str) -> float:
        """The secondary's lag now: the configured lag, plus what it grew while replication was paused."""
        with self._lock:
            cluster = self._global_clusters().get(global_cluster_id.lower())
            if cluster is None:
                return 0.0
            return self._effective_lag(cluster, cluster_arn)

    def _effective_lag(self, global_cluster: Any, cluster_arn: str) -> float:
        base = self._lag.get(global_cluster.global_cluster_identifier, {}).get(cluster_arn, 0.0)
        writer = self._writer(global_cluster)
        paused = self._paused.get(_region_of(str(writer.db_cluster_arn))) if writer is not None else None
        if paused is None or cluster_arn == str(writer.db_cluster_arn):
            return base
        since, rate = paused
        return base + rate * max(0.0, (self.clock.now() - since).total_seconds())

    def pause_replication(self, region: str, rate: float = 1.0) -> None:
        """Replication out of a writer in ``region`` stops (``rate`` 1.0) or slows: secondaries' lag grows."""
        if rate < 0:
            raise ValueError(f"lag growth rate must be >= 0 seconds per second, got {rate}")
        with self._lock:
            self._paused[region] = (self.clock.now(), float(rate))

    def resume_replication(self, region: str) -> None:
        with self._lock:
            self._paused.pop(region, None)

    def set_region_reachable(self, region: str, reachable: bool) -> None:
        """Whether the clusters in ``region`` can take part in a switchover (False in a Regional outage)."""
        with self._lock:
            (self._unreachable.discard if reachable else self._unreachable.add)(region)

    def fail_next_failover(self, global_cluster_id: str, reason: str) -> None:
        """The next failover/switchover of this global cluster ends with the writer not moved."""
        with self._lock:
            self._fail_next[global_cluster_id.lower()] = reason

    # -- views for tests and scenarios ---------------------------------------------------------------
    def writer_cluster_arn(self, global_cluster_id: str) -> str:
        with self._lock:
            cluster = self._global_cluster(global_cluster_id)
            self._refresh(cluster)
            writer = self._writer(cluster)
            if writer is None:
                raise LookupError(f"global cluster {global_cluster_id} has no writer (no primary cluster)")
            return str(writer.db_cluster_arn)

    def writer_region(self, global_cluster_id: str) -> str:
        return _region_of(self.writer_cluster_arn(global_cluster_id))

    def promotion_events(self, global_cluster_id: str) -> list[dict[str, Any]]:
        with self._lock:
            cluster = self._global_cluster(global_cluster_id)
            self._refresh(cluster)
            return [p.event() for p in self._promotions.get(cluster.global_cluster_identifier, [])]

    def last_failover_result(self, global_cluster_id: str) -> dict[str, Any] | None:
        events = self.promotion_events(global_cluster_id)
        return events[-1] if events else None

    def create_global_topology(
        self,
        global_cluster_id: str,
        primary: tuple[str, str],
        secondary: tuple[str, str],
        *,
        readers_in_primary: int = 2,
        engine: str = "aurora-postgresql",
    ) -> GlobalTopology:
        """``create_global_topology`` (module function), for scenarios holding only the simulator."""
        return create_global_topology(
            global_cluster_id, primary, secondary, readers_in_primary=readers_in_primary, engine=engine
        )

    # -- moto's objects ------------------------------------------------------------------------------
    @staticmethod
    def _global_clusters() -> Any:
        return rds_backends[DEFAULT_ACCOUNT_ID][GLOBAL_BACKEND_REGION].global_clusters

    def _global_cluster(self, global_cluster_id: str) -> Any:
        cluster = self._global_clusters().get(global_cluster_id)
        if cluster is None:
            raise AwsError("GlobalClusterNotFoundFault", f"Global cluster {global_cluster_id} not found.")
        return cluster

    @staticmethod
    def _writer(cluster: Any) -> Any:
        return next((m for m in cluster.members if m.is_writer), None)

    @staticmethod
    def _secondary_arns(cluster: Any) -> list[str]:
        return [str(m.db_cluster_arn) for m in cluster.members if not m.is_writer]

    @staticmethod
    def _find_db_cluster(identifier: str, caller_region: str) -> Any:
        """A DB cluster by ARN (in its Region) or by identifier (in the caller's Region)."""
        region = _region_of(identifier) if identifier.startswith("arn:") else caller_region
        cluster_id = _id_of(identifier) if identifier.startswith("arn:") else identifier
        try:
            cluster = rds_backends[DEFAULT_ACCOUNT_ID][region].clusters.get(cluster_id)
        except KeyError:
            cluster = None
        if cluster is None:
            hint = (
                ""
                if identifier.startswith("arn:")
                else " (an identifier is looked up in the caller's Region; pass the ARN)"
            )
            raise AwsError("DBClusterNotFoundFault", f"DBCluster {identifier} not found in {region}{hint}.")
        return cluster

    def _member(self, global_cluster: Any, identifier: str, caller_region: str) -> Any:
        db_cluster = self._find_db_cluster(identifier, caller_region)
        if db_cluster not in global_cluster.members:
            raise AwsError(
                "InvalidDBClusterStateFault",
                f"DB cluster {db_cluster.db_cluster_arn} is not a member of global cluster "
                f"{global_cluster.global_cluster_identifier}; its members are "
                f"{[str(m.db_cluster_arn) for m in global_cluster.members]}.",
            )
        return db_cluster

    # -- progress on the clock ---------------------------------------------------------------------
    def _running(self, global_cluster_id: str) -> Promotion | None:
        history = self._promotions.get(global_cluster_id, [])
        return history[-1] if history and history[-1].outcome == "in-progress" else None

    def _refresh(self, global_cluster: Any) -> None:
        """Bring moto's view of ``global_cluster`` to the clock: finish a due operation, show the phase."""
        gid = global_cluster.global_cluster_identifier
        if global_cluster.members and self._writer(global_cluster) is None:
            # moto's CreateGlobalCluster(SourceDBClusterIdentifier=...) adds the source without making
            # it the writer; in AWS the source cluster is the primary.
            global_cluster.members[0].is_writer = True
        promotion = self._running(gid)
        if promotion is None:
            return
        phase = promotion.phase(self.clock.now())
        if phase == "done":
            self._complete(global_cluster, promotion)
            global_cluster.status = "available"
            global_cluster.failover_state = None
            return
        global_cluster.status = promotion.running_status
        global_cluster.failover_state = {
            "Status": phase,
            "FromDbClusterArn": promotion.from_arn,
            "ToDbClusterArn": promotion.to_arn,
            "IsDataLossAllowed": promotion.data_loss_allowed,
        }

    def _refresh_all(self) -> None:
        with self._lock:
            for global_cluster in list(self._global_clusters().values()):
                self._refresh(global_cluster)

    def _complete(self, global_cluster: Any, promotion: Promotion) -> None:
        promotion.completed_at = promotion.ends_at
        if promotion.fail_reason is not None:
            promotion.outcome = "failed"
            return
        members = {str(m.db_cluster_arn): m for m in global_cluster.members}
        old, new = members.get(promotion.from_arn), members.get(promotion.to_arn)
        if new is None:  # the target was removed meanwhile (not possible through the API)
            promotion.outcome, promotion.fail_reason = "failed", "the target left the global cluster"
            return
        lags = self._lag.setdefault(global_cluster.global_cluster_identifier, {})
        lags.pop(promotion.to_arn, None)
        if old is not None:
            old.is_writer = False
        new.is_writer = True
        if promotion.kind == "switchover":
            for arn in self._secondary_arns(global_cluster):
                lags[arn] = 0.0
        elif old is not None and self.detach_old_primary_on_failover:
            global_cluster.members.remove(old)
            old.global_cluster_identifier = None
            promotion.detached_old_primary = True
        elif old is not None:
            lags[promotion.from_arn] = self.post_failover_lag_seconds
        promotion.outcome = "succeeded"

    # -- the API -----------------------------------------------------------------------------------
    def _start(self, call: Call, kind: str) -> dict[str, Any]:
        params = call.params
        global_cluster = self._global_cluster(params["GlobalClusterIdentifier"])
        gid = global_cluster.global_cluster_identifier
        self._refresh(global_cluster)
        running = self._running(gid)
        if running is not None:
            raise AwsError(
                "InvalidGlobalClusterStateFault",
                f"Global cluster {gid} is {running.running_status} (from {running.from_arn} to "
                f"{running.to_arn}, started {running.started_at.isoformat()}); expected status available.",
            )
        target = self._member(global_cluster, params["TargetDbClusterIdentifier"], call.region)
        writer = self._writer(global_cluster)
        if writer is None:
            raise AwsError("InvalidGlobalClusterStateFault", f"Global cluster {gid} has no primary cluster.")
        if target is writer:
            raise AwsError(
                "InvalidGlobalClusterStateFault",
                f"DB cluster {target.db_cluster_arn} is already the primary (writer) of global cluster "
                f"{gid}; the target must be a secondary: {self._secondary_arns(global_cluster)}.",
            )
        writer_region = _region_of(str(writer.db_cluster_arn))
        if kind == "switchover" and writer_region in self._unreachable:
            raise AwsError(
                "InvalidDBClusterStateFault",
                f"The primary DB cluster {writer.db_cluster_arn} of global cluster {gid} is not available "
                f"(its Region {writer_region} cannot be reached); a switchover needs the primary. To recover "
                "from an outage of the primary Region, call FailoverGlobalCluster with AllowDataLoss=true.",
            )
        lag = self._effective_lag(global_cluster, str(target.db_cluster_arn))
        duration = self.failover_seconds
        if kind == "switchover":
            duration = self.switchover_seconds
            if lag > self.switchover_lag_threshold_seconds:
                duration += lag  # the secondaries catch up before the roles change
        promotion = Promotion(
            global_cluster_id=gid,
            kind=kind,
            from_arn=str(writer.db_cluster_arn),
            to_arn=str(target.db_cluster_arn),
            started_at=self.clock.now(),
            duration=duration,
            pending_seconds=self.pending_seconds,
            cancel_seconds=self.cancel_seconds,
            fail_reason=self._fail_next.pop(gid, None),
            lag_at_start_seconds=lag,
        )
        self._promotions.setdefault(gid, []).append(promotion)
        self._refresh(global_cluster)
        return {"GlobalCluster": describe_global_cluster(global_cluster)}

    def _failover(self, call: Call) -> dict[str, Any]:
        params = call.params
        allow_data_loss, switchover = params.get("AllowDataLoss"), params.get("Switchover")
        if allow_data_loss is not None and switchover is not None:
            raise AwsError(
                "InvalidParameterCombination",
                "AllowDataLoss and Switchover can't be specified together: give AllowDataLoss=true to "
                "fail over, or Switchover=true (or neither) to switch over.",
            )
        return self._start(call, "failover" if allow_data_loss else "switchover")

    def _switchover(self, call: Call) -> dict[str, Any]:
        return self._start(call, "switchover")

    def _describe(self, call: Call) -> dict[str, Any]:
        params = call.params
        clusters = list(self._global_clusters().values())
        wanted = params.get("GlobalClusterIdentifier")
        if wanted is not None:
            clusters = [c for c in clusters if c.global_cluster_identifier == wanted.lower()]
            if not clusters:
                raise AwsError("GlobalClusterNotFoundFault", f"Global cluster {wanted} not found.")
        for flt in params.get("Filters") or []:
            if flt["Name"] != "region":
                raise AwsError(
                    "InvalidParameterValue",
                    f"Unrecognized filter name {flt['Name']!r}: the only supported filter is 'region'.",
                )
            regions = set(flt.get("Values") or [])
            clusters = [c for c in clusters if any(_region_of(m.db_cluster_arn) in regions for m in c.members)]
        return {"GlobalClusters": [describe_global_cluster(c) for c in clusters]}

    def _remove(self, call: Call) -> dict[str, Any]:
        params = call.params
        global_cluster = self._global_cluster(params["GlobalClusterIdentifier"])
        gid = global_cluster.global_cluster_identifier
        self._refresh(global_cluster)
        if self._running(gid) is not None:
            raise AwsError(
                "InvalidGlobalClusterStateFault",
                f"Global cluster {gid} is {global_cluster.status}; expected status available.",
            )
        member = self._member(global_cluster, params["DbClusterIdentifier"], call.region)
        if member.is_writer and len(global_cluster.members) > 1:
            raise AwsError(
                "InvalidGlobalClusterStateFault",
                f"DB cluster {member.db_cluster_arn} is the primary of global cluster {gid}; remove its "
                f"secondaries first: {self._secondary_arns(global_cluster)}.",
            )
        global_cluster.members.remove(member)
        member.global_cluster_identifier = None
        member.is_writer = False
        self._lag.get(gid, {}).pop(str(member.db_cluster_arn), None)
        return {"GlobalCluster": describe_global_cluster(global_cluster)}

    # -- metrics -------------------------------------------------------------------------------------
    def _lag_milliseconds(self, global_cluster_id: str, cluster_arn: str) -> float | None:
        with self._lock:
            global_cluster = self._global_clusters().get(global_cluster_id)
            if global_cluster is None:
                return None
            self._refresh(global_cluster)
            if cluster_arn not in self._secondary_arns(global_cluster):
                return None  # only secondaries report replication lag
            return self._effective_lag(global_cluster, cluster_arn) * 1000.0

    def _define_series(self) -> None:
        assert self.metrics is not None
        with self._lock:
            for global_cluster in list(self._global_clusters().values()):
                gid = global_cluster.global_cluster_identifier
                for member in list(global_cluster.members):
                    arn = str(member.db_cluster_arn)
                    for name in LAG_METRICS:
                        self.metrics.define(
                            _region_of(arn),
                            "AWS/RDS",
                            name,
                            {"DBClusterIdentifier": member.db_cluster_identifier},
                            partial(self._lag_milliseconds, gid, arn),
                            unit="Milliseconds",
                        )

    # -- wiring --------------------------------------------------------------------------------------
    def _handler(self, action: Callable[[Call], dict[str, Any]]) -> Callable[[Call], Response]:
        def handle(call: Call) -> Response:
            with self._lock:
                try:
                    return serialize_result(call, action(call))
                except AwsError as error:
                    if error.code == "InvalidParameterCombination":  # common RDS error, not in the op's model
                        return serialize_error(call, error.code, error.message, 400)
                    return serialize_service_error(call, error)

        return handle

    def _before_call(self, call: Call) -> None:
        if call.service == "rds":
            self._refresh_all()

    def register(self, interceptor: Interceptor) -> None:
        interceptor.hook(self._before_call)
        interceptor.route("rds", "FailoverGlobalCluster", self._handler(self._failover))
        interceptor.route("rds", "SwitchoverGlobalCluster", self._handler(self._switchover))
        interceptor.route("rds", "DescribeGlobalClusters", self._handler(self._describe))
        interceptor.route("rds", "RemoveFromGlobalCluster", self._handler(self._remove))
        if self.metrics is not None:
            self.metrics.before_publish(self._define_series)


@dataclass(frozen=True)
class GlobalTopology:
    """What ``create_global_topology`` built (ARNs as moto reports them)."""

    global_cluster_id: str
    global_cluster_arn: str
    primary_region: str
    primary_cluster_arn: str
    secondary_region: str
    secondary_cluster_arn: str
    instance_ids: tuple[str, ...]


def create_global_topology(
    global_cluster_id: str,
    primary: tuple[str, str],
    secondary: tuple[str, str],
    *,
    readers_in_primary: int = 2,
    engine: str = "aurora-postgresql",
    instances_in_secondary: int = 1,
    instance_class: str = "db.r6g.large",
) -> GlobalTopology:
    """Create an Aurora global database through the RDS API, so moto holds the real state.

    The global cluster, the primary cluster (a writer and ``readers_in_primary`` readers) in
    ``primary = (region, cluster_id)``, and the secondary cluster (``instances_in_secondary``
    instances) in ``secondary = (region, cluster_id)``; backups kept 35 days, storage encrypted.
    """
    (primary_region, primary_id), (secondary_region, secondary_id) = primary, secondary
    east = sdk.client("rds", primary_region)
    west = sdk.client("rds", secondary_region)
    created = east.create_global_cluster(
        GlobalClusterIdentifier=global_cluster_id, Engine=engine, StorageEncrypted=True
    )["GlobalCluster"]
    east.create_db_cluster(
        DBClusterIdentifier=primary_id,
        Engine=engine,
        GlobalClusterIdentifier=global_cluster_id,
        MasterUsername="dradmin",
        ManageMasterUserPassword=True,
        BackupRetentionPeriod=35,
        StorageEncrypted=True,
    )
    west.create_db_cluster(
        DBClusterIdentifier=secondary_id,
        Engine=engine,
        GlobalClusterIdentifier=global_cluster_id,
        BackupRetentionPeriod=35,
        StorageEncrypted=True,
    )
    instances = [f"{primary_id}-{n}" for n in range(1, readers_in_primary + 2)]
    for instance_id in instances:  # the first one created is the writer
        east.create_db_instance(
            DBInstanceIdentifier=instance_id,
            DBClusterIdentifier=primary_id,
            Engine=engine,
            DBInstanceClass=instance_class,
        )
    secondary_instances = [f"{secondary_id}-{n}" for n in range(1, instances_in_secondary + 1)]
    for instance_id in secondary_instances:
        west.create_db_instance(
            DBInstanceIdentifier=instance_id,
            DBClusterIdentifier=secondary_id,
            Engine=engine,
            DBInstanceClass=instance_class,
        )
    described = west.describe_global_clusters(GlobalClusterIdentifier=global_cluster_id)["GlobalClusters"][0]
    writers = [m["DBClusterArn"] for m in described["GlobalClusterMembers"] if m["IsWriter"]]
    members = [m["DBClusterArn"] for m in described["GlobalClusterMembers"]]
    if len(members) != 2 or len(writers) != 1 or _id_of(writers[0]) != primary_id.lower():
        raise RuntimeError(
            f"global cluster {global_cluster_id}: expected 2 members with {primary_id} the writer, "
            f"moto reports members {members} and writers {writers}"
        )
    secondary_arn = next(arn for arn in members if arn != writers[0])
    return GlobalTopology(
        global_cluster_id=global_cluster_id,
        global_cluster_arn=str(created["GlobalClusterArn"]),
        primary_region=primary_region,
        primary_cluster_arn=writers[0],
        secondary_region=secondary_region,
        secondary_cluster_arn=secondary_arn,
        instance_ids=tuple(instances + secondary_instances),
    )
