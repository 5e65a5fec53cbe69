"""CloudWatch dimension-order adapter: a metric with several dimensions is found whatever their order.

moto's ``GetMetricData`` compares ``sorted(datapoint.dimensions) == sorted(query.dimensions)``, but
``moto.cloudwatch.models.Dimension.__lt__`` compares a name with a *value*
(``self.name < other.name and self.value < other.name``), so two dimensions sort inconsistently and a
query for ``{TableName, ReceivingRegion}`` misses the datapoints put as ``{ReceivingRegion, TableName}``.
This adapter gives ``Dimension`` the ordering CloudWatch means: by name, then value.
"""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.models import Dimension

from localcloud.adapters.patching import PatchSet


def _less_than(self: Any, other: Any) -> bool:
    return (str(self.name), str(self.value)) < (str(other.name), str(other.value))


class CloudWatchDimensionsAdapter:
    name = "cloudwatch-dimension-order"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        self._patches.add(Dimension, "__lt__", _less_than)

    def uninstall(self) -> None:
        self._patches.undo_all()
