"""Step Functions adapter: a Map iteration or a Parallel branch that fails with a Step Functions error name
fails the Map or the Parallel with that name, which its Retry and Catch see, as in AWS.

moto's iteration worker (``...state_map.iteration.iteration_worker``) and its Parallel
(``...state_parallel.branches_decl``) wrap the failed iteration's or branch's error name in
``CustomErrorName``, which refuses a name
that begins with ``States.`` (``States.Timeout`` of a Task inside the iteration, ``States.TaskFailed``...)
by raising ValueError: the whole execution then fails with ``States.Runtime``, which no Catch can catch,
so its failure handling never runs. AWS fails the Map (the Parallel) with that error (``States.Timeout``)
and its Catch handles it. The adapter gives those modules a factory that names ``States.*`` errors with
moto's own ``StatesErrorName`` and every other name as before.
"""

from __future__ import annotations

from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

from localcloud.adapters.patching import PatchSet


def error_name(error_name: str) -> ErrorName:
    """``StatesErrorName`` for a Step Functions error name, ``CustomErrorName`` for any other."""
    if error_name.startswith("States."):
        try:
            return StatesErrorName.from_name(error_name)
        except ValueError:
            pass
    return CustomErrorName(error_name=error_name)


class MapErrorsAdapter:
    """Installs ``error_name`` where moto's Map and Parallel name a failed iteration or branch."""

    name = "map-errors"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        for module in (iteration_worker, branches_decl):
            if module.CustomErrorName is not CustomErrorName:  # moto changed under the adapter
                raise RuntimeError(f"{module.__name__} no longer names errors with CustomErrorName")
            self._patches.add(module, "CustomErrorName", error_name)

    def uninstall(self) -> None:
        self._patches.undo_all()
