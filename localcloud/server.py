"""localcloud as a loopback server: the same in-process AWS, reachable on 127.0.0.1 at a free port.

Any SDK or CLI pointed at ``http://127.0.0.1:PORT`` (``endpoint_url``) talks to it. Each request is
turned back into the AWS request it stands for (service and region from its SigV4 credential scope) and
answered through exactly the path an in-process call takes (interceptor, faults, simulated APIs, moto),
so the server and the tests see one and the same embedded AWS. ``GET /_localcloud/stacks`` lists the
deployed stacks (outputs and physical ids) for drctl.

With ``application=True`` (``drctl serve --outage``) every request is the application's, so the active
outage profile applies to it: a 5xx is answered as usual; a connection error or a timeout the profile
raises becomes a connection closed without an answer (the client sees botocore's
``ConnectionClosedError``, which its retries handle like the others). The server never holds a
connection for a client's read timeout in real time; the virtual clock is charged as for an in-process
call (botocore's 60 s defaults: a request carries no client configuration over the wire).
"""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import HTTPClientError
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.utils import get_service_model

from localcloud.cloud import LocalCloud
from localcloud.serving import Served

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "states": "stepfunctions"}
_GLOBAL_HOSTS = {"route53": "route53.amazonaws.com", "iam": "iam.amazonaws.com", "sts": "sts.amazonaws.com"}


def aws_url(signing_name: str, region: str, path: str) -> str:
    """The AWS URL a request for ``signing_name`` in ``region`` would have been sent to."""
    if signing_name in _GLOBAL_HOSTS:
        return f"https://{_GLOBAL_HOSTS[signing_name]}{path}"
    if signing_name == "s3":
        return f"https://s3.{region}.amazonaws.com{path}"
    service = _SIGNING_TO_SERVICE.get(signing_name, signing_name)
    prefix = get_service_model(service).metadata.get("endpointPrefix", signing_name)
    return f"https://{prefix}.{region}.amazonaws.com{path}"


class LocalCloudServer:
    def __init__(self, cloud: LocalCloud, port: int = 0, application: bool = False) -> None:
        self.cloud = cloud
        self.application = application
        stubber = BotocoreStubber()
        stubber.enabled = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path.startswith("/_localcloud/"):
                    self._send(200, {"Content-Type": "application/json"}, json.dumps(server.manifest()).encode())
                    return
                match = _SCOPE.search(self.headers.get("Authorization", ""))
                if not match:
                    self._send(
                        400,
                        {"Content-Type": "text/plain"},
                        b"localcloud: expected a SigV4-signed AWS request",
                    )
                    return
                region, signing = match.group(1), match.group(2)
                url = aws_url(signing, region, self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = url.split("/")[2]  # moto rebuilds the URL from Host (simulated pass-throughs)
                request = AWSPreparedRequest(
                    method=self.command,
                    url=url,
                    headers=headers,
                    body=body,
                    stream_output=False,
                )
                try:
                    if server.application:
                        with server.cloud.outage.as_application():
                            response = stubber.process_request(request)
                    else:
                        response = stubber.process_request(request)
                except (BotocoreConnectionError, HTTPClientError):
                    self.close_connection = True  # the outage: no answer at all
                    return
                if response is None:
                    self._send(404, {"Content-Type": "text/plain"}, f"localcloud: no backend for {signing}".encode())
                    return
                status, headers, out = response
                data = out.encode() if isinstance(out, str) else (out or b"")
                self._send(
                    int(status),
                    {str(k): str(v) for k, v in headers.items() if k.lower() != "content-length"},
                    data,
                )

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

            def log_message(self, *_: Any) -> None:
                return

        self._served = Served(ThreadingHTTPServer(("127.0.0.1", port), Handler), "localcloud-server")

    @property
    def endpoint_url(self) -> str:
        host, port = self._served.address
        return f"http://{host}:{port}"

    def manifest(self) -> dict[str, Any]:
        return {
            "stacks": [
                {
                    "name": s.name,
                    "region": s.region,
                    "outputs": s.outputs,
                    "resources": {
                        lid: {"type": r.type, "physical": r.ref, "arn": r.attributes.get("Arn")}
                        for lid, r in s.resources.items()
                    },
                }
                for s in self.cloud.stacks.values()
            ]
        }

    def start(self) -> LocalCloudServer:
        self._served.start()
        return self

    def stop(self) -> None:
        self._served.stop()
