"""JSONata adapter: evaluate the JSONata in ASL with jsonata-python, with variables *bound*, not spliced.

moto ships the JSONata evaluator empty (``_eval_jsonata`` is None) and passes variables by writing
``$x := "value";`` into the expression text, which breaks on a value with a quote, a backslash or a
newline. This adapter replaces the two evaluating components (``StringJSONata`` and
``StringVariableSample``) so that ``$states`` and every workflow variable are bound in a frame, and
registers the functions Step Functions adds to JSONata ($partition, $range, $hash, $random, $uuid, $parse).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import uuid
from typing import Any

import jsonata
from jsonata.utils import Utils
from moto.stepfunctions.parser.asl.component.common.string import string_expression as se
from moto.stepfunctions.parser.asl.jsonata import validations
from moto.stepfunctions.parser.asl.jsonata.jsonata import (
    JSONataException,
    extract_jsonata_variable_references,
)

from localcloud.adapters.patching import PatchSet

_HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
_local = threading.local()


def _sfn_partition(array: Any, size: Any) -> list[Any]:
    items = list(array or [])
    if not isinstance(size, int | float) or size <= 0:
        raise JSONataException("States.QueryEvaluationError", f"$partition: size must be > 0, got {size!r}")
    n = int(size)
    return [items[i : i + n] for i in range(0, len(items), n)]


def _sfn_range(start: Any, end: Any, step: Any) -> list[int]:
    if not step:
        raise JSONataException("States.QueryEvaluationError", "$range: step must not be 0")
    start, end, step = int(start), int(end), int(step)
    return list(range(start, end + (1 if step > 0 else -1), step))


def _sfn_hash(value: Any, algorithm: Any) -> str:
    name = _HASH_ALGORITHMS.get(str(algorithm))
    if name is None:
        raise JSONataException(
            "States.QueryEvaluationError",
            f"$hash: algorithm must be one of {sorted(_HASH_ALGORITHMS)}, got {algorithm!r}",
        )
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return hashlib.new(name, text.encode()).hexdigest()


def _sfn_random(*seed: Any) -> float:
    # Not for security: the workflow's own $random(), like the service's.
    return random.Random(seed[0]).random() if seed else random.random()  # noqa: S311


def _sfn_uuid() -> str:
    return str(uuid.uuid4())


def _sfn_parse(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as err:
        raise JSONataException("States.QueryEvaluationError", f"$parse: not JSON: {err}") from err


STEP_FUNCTIONS_FUNCTIONS = {
    "partition": _sfn_partition,
    "range": _sfn_range,
    "hash": _sfn_hash,
    "random": _sfn_random,
    "uuid": _sfn_uuid,
    "parse": _sfn_parse,
}


def _compiled(expression: str) -> jsonata.Jsonata:
    """A parsed expression, cached per thread (jsonata-python keeps per-evaluation state on the object)."""
    cache: dict[str, jsonata.Jsonata] = _local.__dict__.setdefault("cache", {})
    compiled = cache.get(expression)
    if compiled is None:
        try:
            compiled = jsonata.Jsonata(expression)
        except Exception as err:
            raise JSONataException("States.QueryEvaluationError", f"{expression!r}: {err}") from err
        for name, impl in STEP_FUNCTIONS_FUNCTIONS.items():
            compiled.register_lambda(name, impl)
        cache[expression] = compiled
    return compiled


def _json_nulls(value: Any) -> Any:
    """JSON null → jsonata-python's null (its ``None`` means *undefined*, as in JavaScript)."""
    if value is None:
        return Utils.NULL_VALUE
    if isinstance(value, dict):
        return {k: _json_nulls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_nulls(v) for v in value]
    return value


def evaluate(expression: str, bindings: dict[str, Any]) -> Any:
    """Evaluate one JSONata expression with ``bindings`` (names without the ``$``)."""
    try:
        return _compiled(expression).evaluate(None, {k: _json_nulls(v) for k, v in bindings.items()})
    except JSONataException:
        raise
    except Exception as err:
        raise JSONataException("States.QueryEvaluationError", f"{expression!r}: {err}") from err


def _bindings(env: Any, expression: str, with_states: bool) -> dict[str, Any]:
    store = env.variable_store
    bindings: dict[str, Any] = {}
    bindings.update(store._outer_scope)
    bindings.update(store._inner_scope)
    if with_states:
        extract_jsonata_variable_references(expression)  # raises on an illegal bare `$` / `$$`
        bindings["states"] = env.states._states_data
    return bindings


def _evaluate_with_current_bindings(expression: str) -> Any:
    """What moto's output validation calls (``$exists(expr)``, ``$type(expr)``): same bindings as expr."""
    return evaluate(expression, getattr(_local, "bindings", {}))


def _eval_string_jsonata(self: Any, env: Any) -> None:
    bindings = _bindings(env, self.expression, with_states=True)
    result = evaluate(self.expression, bindings)
    _local.bindings = bindings
    try:
        se.validate_jsonata_expression_output(env, self.expression, self.expression, result)
    finally:
        _local.bindings = {}
    env.stack.append(result)


def _eval_string_variable_sample(self: Any, env: Any) -> None:
    with_states = self.query_language_mode == se.QueryLanguageMode.JSONata
    env.stack.append(evaluate(self.expression, _bindings(env, self.expression, with_states)))


class JsonataAdapter:
    name = "jsonata-bound-variables"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        self._patches.add(se.StringJSONata, "_eval_body", _eval_string_jsonata)
        self._patches.add(se.StringVariableSample, "_eval_body", _eval_string_variable_sample)
        self._patches.add(validations, "eval_jsonata_expression", _evaluate_with_current_bindings)

    def uninstall(self) -> None:
        self._patches.undo_all()
