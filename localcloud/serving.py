"""A socket server answered by a thread of its own (the DNS server, the health endpoints, the localcloud
server), which can stop answering for a while and answer again: ``pause`` ends the thread and keeps the
socket, ``resume`` answers on it with a new thread. A fork of a paused process answers on the same socket
(the test suite's fork server, tests/forkserver.py)."""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
from typing import Any


class Served:
    def __init__(self, server: socketserver.TCPServer, name: str) -> None:
        server.daemon_threads = True  # type: ignore[attr-defined]  # the threading servers' request threads
        server.handle_error = self._handle_error  # type: ignore[method-assign]
        self.server, self.name = server, name
        self._report = type(server).handle_error
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
        """Stop answering (the thread ends); the socket stays open, with nothing queued on it: a request
        that arrived as the thread ended (its client long gone) is dropped, not answered by a fork."""
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
            self._drop_queued()

    def _handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up before its answer (a probe that timed out on the virtual clock) is not an
        error of the server; anything else is printed, as socketserver does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        self._report(self.server, request, client_address)

    def _drop_queued(self) -> None:
        listening = self.server.socket
        listening.setblocking(False)
        try:
            while True:
                if listening.type == socket.SOCK_STREAM:
                    connection, _ = listening.accept()
                    connection.close()
                else:
                    listening.recv(65535)
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            listening.setblocking(True)

    def stop(self) -> None:
        self.pause()
        self.server.server_close()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)
