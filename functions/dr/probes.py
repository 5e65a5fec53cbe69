"""Read-only looks at the platform that several steps share: an HTTP health check, the latest value of
a CloudWatch metric, where traffic goes, and where the Aurora writer is."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dr.aws import client
from dr.inventory import Inventory


@dataclass(frozen=True)
class HttpCheck:
    healthy: bool
    status: int | None
    detail: str


def http_check(url: str, timeout: float) -> HttpCheck:
    """GET ``url``: healthy on 2xx/3xx. Never raises; a failure is an unhealthy result with its reason."""
    if not url.startswith(("http://", "https://")):
        return HttpCheck(False, None, f"endpoint URL {url!r} is not http(s)")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            status = int(response.status)
            return HttpCheck(200 <= status < 400, status, f"HTTP {status}")
    except urllib.error.HTTPError as err:
        return HttpCheck(False, err.code, f"HTTP {err.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        return HttpCheck(False, None, f"unreachable: {reason}")


def latest_metric(
    region: str,
    namespace: str,
    name: str,
    dimensions: dict[str, str],
    minutes: int = 10,
    stat: str = "Maximum",
) -> float | None:
    """The most recent datapoint of a metric within ``minutes``, or None when there is none."""
    now = datetime.now(UTC)
    out = client("cloudwatch", region).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=now - timedelta(minutes=minutes),
        EndTime=now + timedelta(minutes=1),
        ScanBy="TimestampDescending",
    )
    results = out.get("MetricDataResults") or [{}]
    points = sorted(zip(results[0].get("Timestamps", []), results[0].get("Values", []), strict=False), reverse=True)
    return float(points[0][1]) if points else None


def health_check_healthy(health_check_id: str) -> bool:
    """Route 53's view of a health check (after Inverted): healthy when most checkers report success."""
    out = client("route53", "us-east-1").get_health_check_status(HealthCheckId=health_check_id)
    observations = out.get("HealthCheckObservations", [])
    ok = sum(1 for o in observations if str(o.get("StatusReport", {}).get("Status", "")).startswith("Success"))
    return bool(observations) and ok * 2 > len(observations)


def traffic_region(inventory: Inventory) -> str:
    """Where users are sent now: the routing control that is On, or the health-check failover answer."""
    routing = inventory.routing
    if routing.uses_arc:
        last_error: Exception | None = None
        for region, endpoint in routing.arc_cluster_endpoints.items():
            try:
                arc = client("route53-recovery-cluster", region, endpoint)
                primary = arc.get_routing_control_state(RoutingControlArn=routing.primary_routing_control_arn)
                if primary["RoutingControlState"] == "On":
                    return inventory.primary_region
                recovery = arc.get_routing_control_state(RoutingControlArn=routing.recovery_routing_control_arn)
                return inventory.recovery_region if recovery["RoutingControlState"] == "On" else "none"
            except Exception as err:  # try the next cluster endpoint, as ARC recommends
                last_error = err
        raise RuntimeError(f"no ARC cluster endpoint answered: {last_error}")
    healthy = health_check_healthy(routing.primary_health_check_id)
    return inventory.primary_region if healthy else inventory.recovery_region


def global_cluster(inventory: Inventory, region: str) -> dict[str, Any]:
    out = client("rds", region).describe_global_clusters(GlobalClusterIdentifier=inventory.aurora.global_cluster_id)
    clusters: list[dict[str, Any]] = out.get("GlobalClusters", [])
    if not clusters:
        raise RuntimeError(f"global cluster {inventory.aurora.global_cluster_id} not found from {region}")
    return clusters[0]


def writer_region(cluster: dict[str, Any]) -> str:
    for member in cluster.get("GlobalClusterMembers", []):
        if member.get("IsWriter"):
            return str(member["DBClusterArn"]).split(":")[3]
    return "none"
