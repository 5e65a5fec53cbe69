"""An execution is RUNNING from the moment StartExecution accepted it, as in AWS.

moto's parser backend adds a new execution to its state machine's list, then starts it; only ``start`` sets
its status. A ListExecutions or DescribeExecution answered from another thread in between read a status of
None and failed inside moto (``'NoneType' object has no attribute 'value'``): a 500 AWS never answers. A
failover test met it when the alarm's duplicate check listed executions while another was starting. This
adapter sets the status to RUNNING when the execution is made; ``start`` sets the same, and the engine
sets the end.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.backend.execution import Execution

from localcloud.adapters.patching import PatchSet


class ExecutionStatusAdapter:
    name = "execution-status-from-acceptance"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        made = Execution.__init__

        def accepted(execution: Execution, *args: Any, **kwargs: Any) -> None:
            made(execution, *args, **kwargs)
            if execution.exec_status is None:
                execution.exec_status = ExecutionStatus.RUNNING

        self._patches.add(Execution, "__init__", accepted)

    def uninstall(self) -> None:
        self._patches.undo_all()
