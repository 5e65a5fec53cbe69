"""Let a routed handler ask moto for its answer, then look at (or adjust) it.

``Interceptor.route`` replaces moto for a whole operation. A simulator that only needs to *observe*
an operation's outcome (the version id an S3 ``PutObject`` created) or to answer only some requests
of an operation (DynamoDB ``UpdateTable`` with ``ReplicaUpdates``) still wants moto to do the rest.
``moto_response(call)`` runs moto's own handler for the request, exactly as
``BotocoreStubber.process_request`` would (same URL table, same error conversion), without going
through the interceptor again (no hooks, no routes, no faults, not counted twice).
``parse_response`` reads such a response back with botocore's parser for the operation, so a
simulator sees the same dict the caller's SDK will see.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.compat import HTTPHeaders
from botocore.parsers import create_parser
from moto import backend_index, backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict
from moto.core.exceptions import HTTPException
from moto.core.utils import get_equivalent_url_in_aws_domain, get_service_model

from localcloud.interceptor import Call, Response


def _backend_for(service: str) -> Any:
    backend_dict = backends.get_backend(service)
    if isinstance(backend_dict, BackendDict):
        regions = backend_dict[DEFAULT_ACCOUNT_ID]
        return regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
    return backend_dict["global"]


def moto_response(call: Call) -> Response:
    """moto's answer to ``call`` (status, headers, body), errors included, as moto would send it."""
    request = call.request
    parsed_url, _ = get_equivalent_url_in_aws_domain(request.url)
    clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
    for service, pattern in backend_index.backend_url_patterns:
        if not pattern.match(clean_url):
            continue
        for url, method_to_execute in _backend_for(service).urls.items():
            if re.compile(url).match(clean_url):
                try:
                    status, headers, body = method_to_execute(request, request.raw_url, request.headers)
                except HTTPException as error:
                    return error.code, dict(error.get_headers()), error.get_body()
                return int(status), dict(headers), body
    raise LookupError(
        f"moto has no handler for {call.service}.{call.operation} at {clean_url}; "
        "expected a URL served by one of moto's backends"
    )


def parse_response(call: Call, response: Response) -> dict[str, Any]:
    """``response`` parsed with botocore's model for ``call``'s operation (what the SDK will return)."""
    status, headers, body = response
    model = get_service_model(call.service)
    operation = model.operation_model(call.operation)
    http_headers = HTTPHeaders()
    for name, value in headers.items():
        http_headers[name] = str(value)
    parser = create_parser(model.protocol)
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    parsed: dict[str, Any] = parser.parse(
        {"status_code": status, "headers": http_headers, "body": raw}, operation.output_shape
    )
    return parsed
