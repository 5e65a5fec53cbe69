"""The platform's API endpoints, as real HTTP servers on loopback (127.0.0.1, a free port each).

The probe, the readiness checks and the verification step make real HTTP requests to these, exactly as
they would to the platform's health endpoints; a scenario turns an endpoint healthy or unhealthy, or
makes it flap (``flap(share, seed)``: each request answers 503 with probability ``share``, drawn
deterministically from the seed and the request's number, as a gray failure looks to a probe).
"""

from __future__ import annotations

import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localcloud.serving import Served


class HealthEndpoint:
    """``GET /health`` answers 200 when healthy and 503 when not; ``stop()`` closes the port."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.healthy = True
        self.requests = 0
        self.flapping: tuple[float, int] | None = None  # (share of requests failing, seed)
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok = endpoint.answers_ok()
                status, body = (200, b'{"status":"ok"}') if ok else (503, b'{"status":"down"}')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                return

        self._served = Served(ThreadingHTTPServer(("127.0.0.1", 0), Handler), f"endpoint-{name}").start()

    def flap(self, share: float, seed: int = 0) -> None:
        """From now, each request fails (503) with probability ``share``; ``set_healthy`` ends it."""
        self.flapping = (float(share), seed)
        self.healthy = True

    def set_healthy(self, healthy: bool) -> None:
        self.flapping = None
        self.healthy = healthy

    def answers_ok(self) -> bool:
        """Whether the next request is answered 200 (counts it)."""
        with self._lock:
            n = self.requests
            self.requests += 1
        if self.flapping is not None:
            share, seed = self.flapping
            return random.Random(f"{seed}:{self.name}:{n}").random() >= share  # noqa: S311 - simulation
        return self.healthy

    @property
    def url(self) -> str:
        host, port = self._served.address
        return f"http://{host}:{port}/health"

    def pause(self) -> None:
        """Stop answering until ``resume`` (the port stays open: a fork of the process answers on it)."""
        self._served.pause()

    def resume(self) -> None:
        self._served.resume()

    def stop(self) -> None:
        self._served.stop()
