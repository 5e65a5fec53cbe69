"""Virtual-time adapter: Wait states, Retry back-off, task timeouts and callback timeouts use the clock.

moto's engine sleeps in real time (``Event.wait`` in WaitFunction, ``time.sleep`` in the retrier,
``threading.Event().wait(timeout)`` for TimeoutSeconds and for waitForTaskToken). Here a Wait of one hour
moves the clock by an hour and returns at once; a timeout expires when the *virtual* deadline passes.
The SDK's own retry back-off inside the handlers (botocore's ``time.sleep``) is ``clock.skip``: a wait
inside busy work, during which the waiting thread does not count as busy. See ``localcloud.clock`` for
when the clock jumps.
"""

from __future__ import annotations

import types
from datetime import timedelta
from typing import Any

import botocore.endpoint
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.asl.eval.callback import callback

from localcloud.adapters.patching import PatchSet
from localcloud.clock import VirtualClock, VirtualTimeoutEvent


class VirtualTimeAdapter:
    name = "virtual-time"

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._patches = PatchSet()

    def install(self) -> None:
        clock = self.clock
        VirtualTimeoutEvent.clock = clock

        def wait_interval(_self: Any, env: Any, wait_seconds: int) -> None:
            if wait_seconds > 0 and env.is_running():
                clock.sleep_until(clock.now() + timedelta(seconds=wait_seconds), still=env.is_running)

        engine_time = types.SimpleNamespace(sleep=clock.sleep, time=lambda: clock.now().timestamp())
        sdk_time = types.SimpleNamespace(sleep=clock.skip, time=lambda: clock.now().timestamp())
        threading_shim = types.SimpleNamespace(Event=VirtualTimeoutEvent)
        self._patches.add(wait_function.WaitFunction, "_wait_interval", wait_interval)
        self._patches.add(retrier_decl, "time", engine_time)
        self._patches.add(execute_state, "threading", threading_shim)
        self._patches.add(callback, "Event", VirtualTimeoutEvent)
        self._patches.add(botocore.endpoint, "time", sdk_time)

    def uninstall(self) -> None:
        self._patches.undo_all()
        VirtualTimeoutEvent.clock = None
