"""The platform's API endpoints, as real HTTP servers on loopback (127.0.0.1, a free port each).

The probe, the readiness checks and the verification step make real HTTP requests to these, exactly as
they would to the platform's health endpoints; a scenario turns an endpoint healthy or unhealthy.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HealthEndpoint:
    """``GET /health`` answers 200 when healthy and 503 when not; ``stop()`` closes the port."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.healthy = True
        self.requests = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.requests += 1
                status, body = (200, b'{"status":"ok"}') if endpoint.healthy else (503, b'{"status":"down"}')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"endpoint-{name}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/health"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
