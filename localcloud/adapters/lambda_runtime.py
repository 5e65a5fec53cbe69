"""Lambda adapter: invoke the real Python handler in-process instead of in a Docker container.

moto runs a function by starting a container (``LambdaFunction._invoke_lambda``); there is no Docker
here. This adapter imports the handler from the function's CodeUri and calls it with a Lambda context,
as a warm Lambda would, with:

- the function's own environment (Globals + its Variables, AWS_REGION of its region), isolated per
  invocation thread: concurrent branches of a Parallel state each see their own function's variables;
- its execution role's credentials in that environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_SESSION_TOKEN``, a session named after the function, as Lambda sets them), from ``credentials``
  (``localcloud.iam``), so every call the handler makes is signed, and authorized, as its role;
- what it prints captured per invocation and written to its log group /aws/lambda/<name>, and every
  Embedded Metric Format line turned into CloudWatch metric data, as the Lambda service would;
- an exception surfacing the way Lambda reports it: FunctionError set and a payload whose ``errorType``
  is the exception's class name, which Step Functions uses as the error name for Retry and Catch.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.awslambda.models import LambdaFunction

from localcloud.adapters.log_keys import own_keys
from localcloud.adapters.patching import PatchSet
from localcloud.errors import TemplateError


class ThreadLocalEnviron(MutableMapping[str, str]):
    """``os.environ`` with a per-thread overlay: what a Lambda invocation sees as its environment."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self._base = base
        self._local = threading.local()

    @property
    def overlay(self) -> dict[str, str] | None:
        return getattr(self._local, "overlay", None)

    @overlay.setter
    def overlay(self, value: dict[str, str] | None) -> None:
        self._local.overlay = value

    def __getitem__(self, key: str) -> str:
        overlay = self.overlay
        if overlay is not None:
            return overlay[key]
        return self._base[key]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = self.overlay
        if overlay is not None:
            overlay[key] = value
        else:
            self._base[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = self.overlay
        if overlay is not None:
            del overlay[key]
        else:
            del self._base[key]

    def __iter__(self) -> Iterator[str]:
        overlay = self.overlay
        return iter(dict(overlay) if overlay is not None else dict(self._base))

    def __len__(self) -> int:
        overlay = self.overlay
        return len(overlay if overlay is not None else self._base)

    def copy(self) -> dict[str, str]:
        return dict(self)


class ThreadLocalStdout(io.TextIOBase):
    """``sys.stdout`` that an invocation thread can capture without touching other threads' output."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._local = threading.local()

    def capture(self, buffer: io.StringIO | None) -> None:
        self._local.buffer = buffer

    def write(self, text: str) -> int:
        buffer = getattr(self._local, "buffer", None)
        return (buffer if buffer is not None else self._real).write(text)

    def flush(self) -> None:
        if getattr(self._local, "buffer", None) is None:
            with contextlib.suppress(ValueError):  # the real stream was closed (a test runner's capture ended)
                self._real.flush()


@dataclass
class LambdaContext:
    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _started: float = field(default_factory=lambda: datetime.now(UTC).timestamp())

    def get_remaining_time_in_millis(self) -> int:
        elapsed = datetime.now(UTC).timestamp() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


@dataclass
class Invocation:
    function_name: str
    event: Any
    result: Any
    error_type: str | None
    logs: str


class InProcessLambdaRuntime:
    """Runs the handlers the deployer registered; keeps every invocation for tests to inspect."""

    name = "lambda-in-process"

    def __init__(
        self, on_output: Callable[[str, str, str], None] | None = None, busy: Callable[[], Any] | None = None
    ) -> None:
        self._busy = busy
        self._code_paths: dict[str, tuple[str, ...]] = {}  # function -> its code folder, then its layers'
        self._handlers: dict[tuple[tuple[str, ...], str], Callable[..., Any]] = {}
        self._lock = threading.Lock()
        self._patches = PatchSet()
        self.invocations: list[Invocation] = []
        self.extra_environment: dict[str, str] = {}
        # (role ARN, session name) -> the session's credentials as environment variables (None: the
        # process's own credentials, i.e. no IAM identity of its own)
        self.credentials: Callable[[str, str], dict[str, str]] | None = None
        self.on_output = on_output  # (function_name, region, captured stdout) -> None
        self._environ: ThreadLocalEnviron | None = None
        self._stdout: ThreadLocalStdout | None = None
        self._current = threading.local()

    def current_function(self) -> str | None:
        """The function whose handler is running in this thread (None outside any invocation)."""
        return getattr(self._current, "name", None)

    # -- set-up --------------------------------------------------------------------------------------
    def register(
        self,
        function_name: str,
        code_path: str | tuple[str, ...],
        handler: str,
        source: str,
        environment: dict[str, str],
        region: str,
    ) -> None:
        """Record where a function's code is (its own folder, then its layers' folders, as Lambda's Python
        path is /var/task then /opt/python), and prove now that its handler imports — under the function's
        own environment, as Lambda imports it (Powertools reads its settings at import time)."""
        code_path = (code_path,) if isinstance(code_path, str) else tuple(code_path)
        self._code_paths[function_name] = code_path
        env = self._base_environment()
        env.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_LAMBDA_FUNCTION_NAME": function_name})
        env.update(environment)
        env.update(self.extra_environment)
        previous = self._environ.overlay if self._environ else None
        if self._environ is not None:
            self._environ.overlay = env
        try:
            self.load_handler(code_path, handler, source=source)
        finally:
            if self._environ is not None:
                self._environ.overlay = previous

    def load_handler(self, code_path: tuple[str, ...], handler: str, source: str = "template") -> Callable[..., Any]:
        key = (code_path, handler)
        with self._lock:
            if key in self._handlers:
                return self._handlers[key]
            module_name, _, attr = handler.rpartition(".")
            if not module_name:
                raise TemplateError(source, f"Handler {handler!r} is not of the form 'package.module.function'")
            for folder in reversed(code_path):
                if folder not in sys.path:
                    sys.path.insert(0, folder)
            try:
                module = importlib.import_module(module_name)
            except Exception as err:
                raise TemplateError(
                    source,
                    f"Handler {handler!r} cannot be imported from {', '.join(code_path)}: {type(err).__name__}: {err}",
                ) from err
            fn = getattr(module, attr, None)
            if not callable(fn):
                raise TemplateError(source, f"Handler {handler!r}: module {module_name} has no function {attr!r}")
            self._handlers[key] = fn
            return fn

    def install(self) -> None:
        runtime = self

        def invoke(fn: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            return runtime.invoke(fn, event)

        self._environ = ThreadLocalEnviron(os.environ)
        self._stdout = ThreadLocalStdout(sys.stdout)
        self._patches.add(os, "environ", self._environ)
        self._patches.add(sys, "stdout", self._stdout)
        self._patches.add(LambdaFunction, "_invoke_lambda", invoke)

    def uninstall(self) -> None:
        self._patches.undo_all()

    def _current_stdout(self) -> ThreadLocalStdout:
        """The capturing stdout, re-wrapped if someone (a test runner's capture) replaced ``sys.stdout``
        since: what a handler prints (Powertools' EMF metrics) must reach this invocation's buffer."""
        with self._lock:
            current = sys.stdout
            if not isinstance(current, ThreadLocalStdout):
                self._stdout = ThreadLocalStdout(current)
                sys.stdout = self._stdout
            else:
                self._stdout = current
            return self._stdout

    # -- invocation ----------------------------------------------------------------------------------
    def _base_environment(self) -> dict[str, str]:
        """The process environment a function starts from (without the test runner's Powertools settings)."""
        base = self._environ._base if self._environ else os.environ
        return {k: v for k, v in base.items() if not k.startswith("POWERTOOLS_")}

    def environment_for(self, fn: LambdaFunction) -> dict[str, str]:
        env = self._base_environment()
        env.update(
            {
                "AWS_REGION": fn.region,
                "AWS_DEFAULT_REGION": fn.region,
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
                "_HANDLER": fn.handler,
            }
        )
        env.update({k: str(v) for k, v in (fn.environment_vars or {}).items()})
        if self.credentials is not None and fn.role:
            env.update(self.credentials(str(fn.role), fn.function_name))
        env.update(self.extra_environment)
        return env

    def invoke(self, fn: LambdaFunction, event: Any) -> tuple[str, bool, str]:
        if self._busy is None:
            return self._invoke(fn, event)
        with self._busy():
            return self._invoke(fn, event)

    def _invoke(self, fn: LambdaFunction, event: Any) -> tuple[str, bool, str]:
        code_path = self._code_paths.get(fn.function_name)
        if code_path is None:
            payload = {
                "errorType": "ResourceNotFoundException",
                "errorMessage": f"{fn.function_name}: no code",
            }
            return json.dumps(payload), True, ""
        handler = self.load_handler(code_path, fn.handler)
        if isinstance(event, str | bytes):
            event = json.loads(event or "{}")
        context = LambdaContext(
            function_name=fn.function_name,
            function_version=str(fn.version),
            invoked_function_arn=fn.function_arn,
            memory_limit_in_mb=int(fn.memory_size),
            timeout_seconds=int(fn.timeout),
            log_group_name=f"/aws/lambda/{fn.function_name}",
        )
        buffer = io.StringIO()
        assert self._environ is not None
        stdout = self._current_stdout()
        self._environ.overlay = self.environment_for(fn)
        previous_function = self.current_function()
        self._current.name = fn.function_name
        stdout.capture(buffer)
        error_type: str | None = None
        try:
            with own_keys():  # Powertools' log keys: this invocation's, not the process's (log_keys.py)
                result = handler(event, context)
            body = json.dumps(result, default=str)
        except Exception as err:
            error_type = type(err).__name__
            result = {
                "errorType": error_type,
                "errorMessage": str(err),
                "requestId": context.aws_request_id,
                "stackTrace": traceback.format_tb(err.__traceback__),
            }
            body = json.dumps(result)
        finally:
            stdout.capture(None)
            self._current.name = previous_function
            self._environ.overlay = None
        logs = buffer.getvalue()
        with self._lock:
            self.invocations.append(Invocation(fn.function_name, event, result, error_type, logs))
        if self.on_output:
            self.on_output(fn.function_name, fn.region, logs)
        return body, error_type is not None, logs
