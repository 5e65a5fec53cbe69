"""CheckPrimaryHealth: is the old primary region healthy again? Read-only; the failback's first look.

Healthy means: its API endpoint answers healthy when checked directly; Route 53's checkers agree (the
primary health check's own verdict, read through a planned failover's inversion); and its data services
answer (RDS, DynamoDB and S3 in that region). The result names every problem in plain words; the state
machine refuses with PlatformNotHealthy when there is one, having changed nothing. It also reports where
the Aurora writer and the traffic are now (the baseline a failure report compares with), read from the
region the platform runs in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from dr import probes
from dr.aws import THROTTLING_CODES, aws_errors, client, error_code
from dr.errors import TransientAwsError
from dr.inventory import Inventory, load_inventory
from dr.models import OperationRequest, parse
from dr.settings import Settings, get_settings
from dr.steps._handler import lambda_step

NOT_THERE = {"DBClusterNotFoundFault", "ResourceNotFoundException", "NoSuchBucket"}


def _service(what: str, call: Callable[[], Any]) -> str | None:
    """None when the service answered (a missing resource is an answer: re-protection creates it)."""
    try:
        call()
    except ClientError as err:
        code = error_code(err)
        if code in THROTTLING_CODES:
            raise TransientAwsError(f"{what}: throttled, will retry: {err}") from err
        if code in NOT_THERE:
            return None
        return f"{what} did not answer as expected ({code}): {err}"
    except (ConnectionError, ReadTimeoutError) as err:
        return f"{what} is unreachable: {err}"
    return None


def _route53(inv: Inventory, region: str) -> tuple[dict[str, Any], str | None]:
    check_id = inv.health_check_id(region)
    if not check_id:
        return {"id": "", "endpoint_healthy": None, "detail": "no Route 53 health check in the inventory"}, None
    route53 = client("route53", "us-east-1")
    try:
        config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
        reported = probes.health_check_healthy(check_id)
    except ClientError as err:
        return {"id": check_id, "endpoint_healthy": None}, f"Route 53 health check {check_id} unreadable: {err}"
    inverted, disabled = bool(config.get("Inverted")), bool(config.get("Disabled"))
    if disabled:
        return {"id": check_id, "endpoint_healthy": None, "detail": "disabled: Route 53 does not check it"}, None
    healthy = reported != inverted  # a planned failover inverts it; the checkers' own verdict is the flip
    detail = f"Route 53 checkers see the endpoint {'healthy' if healthy else 'failing'}" + (
        " (the check is inverted by the failover; its status reads the other way)" if inverted else ""
    )
    problem = None if healthy else f"Route 53 health check {check_id} of {region} reports the endpoint failing"
    return {"id": check_id, "endpoint_healthy": healthy, "inverted": inverted, "detail": detail}, problem


def check(request: OperationRequest, inv: Inventory, settings: Settings) -> dict[str, Any]:
    region = request.target_region
    url = inv.endpoint_url(region)
    endpoint = probes.http_check(url, settings.endpoint_timeout_seconds)
    problems: list[str] = []
    if not endpoint.healthy:
        problems.append(f"the {region} endpoint {url} is not healthy: {endpoint.detail}")
    route53, problem = _route53(inv, region)
    if problem:
        problems.append(problem)
    services = {
        "aurora": _service(
            f"RDS in {region}",
            lambda: client("rds", region).describe_db_clusters(DBClusterIdentifier=inv.aurora_cluster_in(region)),
        ),
        "dynamodb": _service(
            f"DynamoDB in {region}", lambda: client("dynamodb", region).describe_table(TableName=inv.tables[0])
        ),
        "s3": _service(
            f"S3 in {region}",
            lambda: client("s3", region).get_bucket_versioning(Bucket=inv.bucket_in(inv.buckets[0], region)),
        ),
    }
    problems.extend(p for p in services.values() if p)
    with aws_errors("read where the writer is", TransientAwsError):
        writer = probes.writer_region(probes.global_cluster(inv, request.source_region))
    try:
        traffic = probes.traffic_region(inv)
    except probes.TrafficUnknown as err:
        traffic = "unknown"
        problems.append(f"where users go could not be read: {err}")
    return {
        "region": region,
        "healthy": not problems,
        "problems": problems,
        "endpoint": {"url": url, "healthy": endpoint.healthy, "status": endpoint.status, "detail": endpoint.detail},
        "health_check": route53,
        "services": {k: v or "answers" for k, v in services.items()},
        "writer_region": writer,
        "traffic_region": traffic,
        "already_home": writer == region and traffic == region,
    }


@lambda_step
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = parse(OperationRequest, event.get("request"), "request")
    settings = get_settings()
    return check(request, load_inventory(settings), settings)
