"""Parsed-ASL cache: a state machine definition is parsed once, not at its creation and again at every start.

moto builds the evaluation program of a definition with ANTLR (``AmazonStateLanguageParser.parse``, about
0.6 s for this app's workflows) when the state machine is created and again when each execution starts.
This adapter keeps the parsed program per definition text (a bounded LRU, shared by every LocalCloud of
the process: a test suite deploys the same template many times), so every execution of one definition
shares one program. That is safe because the program is a read-only tree: what an execution
changes lives in its own ``Environment`` (stack, heap, variables, frames), and the per-run objects
(branch and iteration workers, map-run records) are created by each evaluation. The one lazily written
attribute, ``EvalComponent.heap_key`` (a random key set on first use, which two threads can race to set),
is replaced by a key derived from the component's identity, the same for every reader.
A definition that does not parse is never cached: it fails again, with the same error, every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from localcloud.adapters.patching import PatchSet

MAX_DEFINITIONS = 64
_PROGRAMS: OrderedDict[str, tuple[Any, Any]] = OrderedDict()  # definition text -> (program, parse tree)
_LOCK = threading.Lock()


class ProgramCacheAdapter:
    name = "parsed-asl-cache"

    def __init__(self, max_definitions: int = MAX_DEFINITIONS) -> None:
        self._patches = PatchSet()
        self._max = max_definitions
        self.parses = 0  # how many times this cloud ran ANTLR (tests and benchmarks read it)
        self.hits = 0

    def parse(self, definition: str) -> tuple[Any, Any]:
        with _LOCK:
            cached = _PROGRAMS.get(definition)
            if cached is not None:
                _PROGRAMS.move_to_end(definition)
                self.hits += 1
                return cached
        parsed = self._original(definition)
        with _LOCK:
            self.parses += 1
            _PROGRAMS[definition] = parsed
            while len(_PROGRAMS) > self._max:
                _PROGRAMS.popitem(last=False)
        return parsed

    def install(self) -> None:
        self._original = AmazonStateLanguageParser.parse
        self._patches.add(AmazonStateLanguageParser, "parse", staticmethod(self.parse))
        self._patches.add(EvalComponent, "heap_key", property(lambda component: f"heap-{id(component):x}"))

    def uninstall(self) -> None:
        self._patches.undo_all()
