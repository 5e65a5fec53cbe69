"""Step Functions adapter: a Map iteration that fails with a Step Functions error name fails the Map with
that name, which the Map's Retry and Catch see, as in AWS.

moto's iteration worker (``moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.
iteration_worker``) wraps the failed iteration's error name in ``CustomErrorName``, which refuses a name
that begins with ``States.`` (``States.Timeout`` of a Task inside the iteration, ``States.TaskFailed``...)
by raising ValueError: the whole execution then fails with ``States.Runtime``, which no Catch can catch,
so its failure handling never runs. AWS fails the Map with the iteration's error (``States.Timeout``) and
the Map's Catch handles it. The adapter gives that module a factory that names ``States.*`` errors with
moto's own ``StatesErrorName`` and every other name as before.
"""

from __future__ import annotations

from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker

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
    name = "map-errors"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        if iteration_worker.CustomErrorName is not CustomErrorName:  # moto changed under the adapter
            raise RuntimeError("moto's iteration_worker no longer names errors with CustomErrorName")
        self._patches.add(iteration_worker, "CustomErrorName", error_name)

    def uninstall(self) -> None:
        self._patches.undo_all()
