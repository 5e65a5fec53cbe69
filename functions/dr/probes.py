"""Read-only looks at the platform that several steps share: an HTTP health check, the latest value of a
CloudWatch metric (with its age), where traffic goes (read through data planes: ARC cluster endpoints or
DNS), and where the Aurora writer is."""

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


@dataclass(frozen=True)
class Datapoint:
    """A metric value and when it was taken: a value is only as good as its age."""

    value: float
    at: datetime

    def age(self, now: datetime | None = None) -> float:
        return max(0.0, ((now or datetime.now(UTC)) - self.at).total_seconds())


def latest_metric(
    region: str,
    namespace: str,
    name: str,
    dimensions: dict[str, str],
    minutes: int = 10,
    stat: str = "Maximum",
    reader: Any = None,
) -> Datapoint | None:
    """The most recent datapoint of a metric within ``minutes`` (with its timestamp), or None."""
    now = datetime.now(UTC)
    out = (reader or client("cloudwatch", region)).get_metric_data(
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
    if not points:
        return None
    at = points[0][0]
    return Datapoint(float(points[0][1]), at if at.tzinfo else at.replace(tzinfo=UTC))


def health_check_healthy(health_check_id: str) -> bool:
    """Route 53's view of a health check (after Inverted), through the Route 53 API. That API is a control
    plane served from us-east-1: only for a failback (the old primary must be up anyway), never on a
    failover's path."""
    out = client("route53", "us-east-1").get_health_check_status(HealthCheckId=health_check_id)
    observations = out.get("HealthCheckObservations", [])
    ok = sum(1 for o in observations if str(o.get("StatusReport", {}).get("Status", "")).startswith("Success"))
    return bool(observations) and ok * 2 > len(observations)


class NotFound(RuntimeError):
    """A resource the inventory names does not exist where it was looked for."""


class TrafficUnknown(RuntimeError):
    """Where users go could not be read (no ARC cluster endpoint answered, DNS did not resolve)."""


def _resolver(address: str) -> Any:
    import dns.resolver  # noqa: PLC0415 - only the steps that read DNS pay for it

    if not address:
        return dns.resolver.Resolver()
    host, _, port = address.rpartition(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port)
    return resolver


def resolve(name: str, resolver_address: str = "", timeout: float = 3.0) -> set[str]:
    """What DNS answers for ``name`` right now: its A records and every name in its CNAME chain."""
    import dns.exception  # noqa: PLC0415
    import dns.resolver  # noqa: PLC0415

    resolver = _resolver(resolver_address)
    resolver.lifetime = timeout
    try:
        answer = resolver.resolve(name, "A")
    except (dns.exception.DNSException, OSError) as err:
        raise TrafficUnknown(f"DNS did not resolve {name}: {type(err).__name__}: {err}") from err
    found = {str(record.address) for record in answer}
    found.update(str(rrset.name).rstrip(".") for rrset in answer.response.answer)
    return found


def dns_region(inventory: Inventory) -> str:
    """The region users are sent to, from the answer DNS gives for the failover record (Route 53's data
    plane: the answer follows the records' health checks). "none" when the answer matches no region."""
    routing = inventory.routing
    answer = resolve(routing.traffic_dns_name, routing.dns_resolver)
    for region, value in routing.traffic_dns_answers.items():
        expected = {value} if _is_address(value) else resolve(value, routing.dns_resolver) | {value}
        if answer & expected:
            return region
    return "none"


def _is_address(value: str) -> bool:
    parts = value.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


def arc_region(inventory: Inventory) -> str:
    """The region whose routing control is On, asked of each ARC cluster endpoint in turn (ARC's guidance:
    any one of them answers for the cluster)."""
    routing = inventory.routing
    errors: list[str] = []
    for region, endpoint in routing.arc_cluster_endpoints.items():
        try:
            arc = client("route53-recovery-cluster", region, endpoint)
            primary = arc.get_routing_control_state(RoutingControlArn=routing.primary_routing_control_arn)
            if primary["RoutingControlState"] == "On":
                return inventory.primary_region
            recovery = arc.get_routing_control_state(RoutingControlArn=routing.recovery_routing_control_arn)
            return inventory.recovery_region if recovery["RoutingControlState"] == "On" else "none"
        except Exception as err:
            errors.append(f"{region}: {type(err).__name__}: {err}")
    raise TrafficUnknown("no ARC cluster endpoint answered: " + "; ".join(errors))


def traffic_region(inventory: Inventory) -> str:
    """Where users are sent now, read through data planes only: the routing control that is On, or the
    DNS answer of the failover record. Raises TrafficUnknown when neither can be read."""
    return arc_region(inventory) if inventory.routing.uses_arc else dns_region(inventory)


def global_cluster(inventory: Inventory, region: str) -> dict[str, Any]:
    out = client("rds", region).describe_global_clusters(GlobalClusterIdentifier=inventory.aurora.global_cluster_id)
    clusters: list[dict[str, Any]] = out.get("GlobalClusters", [])
    if not clusters:
        raise NotFound(f"global cluster {inventory.aurora.global_cluster_id} not found from {region}")
    return clusters[0]


def writer_region(cluster: dict[str, Any]) -> str:
    for member in cluster.get("GlobalClusterMembers", []):
        if member.get("IsWriter"):
            return str(member["DBClusterArn"]).split(":")[3]
    return "none"
