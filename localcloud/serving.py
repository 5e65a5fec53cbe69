"""A socket server answered by a thread of its own (the DNS server, the health endpoints, the localcloud
server), which can stop answering for a while and answer again: ``pause`` ends the thread and keeps the
socket, ``resume`` answers on it with a new thread. A fork of a paused process answers on the same socket
(the test suite's fork server, tests/forkserver.py)."""

from __future__ import annotations

import socketserver
import threading


class Served:
    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        server.daemon_threads = True  # type: ignore[attr-defined]  # the threading servers' request threads
        self.server, self.name = server, name
        self._thread: threading.Thread | None = None

    def start(self) -> Served:
        if self._thread is None:
            # shutdown() waits for serve_forever's next poll: 0.5 s by default, paid at every close
            self._thread = threading.Thread(
                target=self.server.serve_forever, name=self.name, daemon=True, kwargs={"poll_interval": 0.05}
            )
            self._thread.start()
        return self

    resume = start

    def pause(self) -> None:
        """Stop answering (the thread ends); the socket stays open."""
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None

    def stop(self) -> None:
        self.pause()
        self.server.server_close()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)
