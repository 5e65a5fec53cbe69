"""moto's responses find the action's method in the list of every function of the response class, and
build that list (``inspect.getmembers`` over the class and its bases) again at every request: 2.5 % of a
whole-workflow test's CPU. This adapter keeps the list per class while the cloud runs. The classes do not
change while it runs (localcloud's adapters patch them when it starts), and the lists are dropped when it
starts and when it stops.
"""

from __future__ import annotations

from typing import Any

import moto.core.responses

from localcloud.adapters.patching import PatchSet


class ResponseMethodsAdapter:
    name = "moto-response-methods"

    def __init__(self) -> None:
        self._patches = PatchSet()
        self._names: dict[type, list[str]] = {}

    def method_names(self, clazz: Any) -> list[str]:
        names = self._names.get(clazz)  # two threads may both list a class: the same list, one is kept
        return names if names is not None else self._names.setdefault(clazz, self._original(clazz))

    def install(self) -> None:
        self._names.clear()
        self._original = moto.core.responses.method_names_from_class
        self._patches.add(moto.core.responses, "method_names_from_class", self.method_names)

    def uninstall(self) -> None:
        self._patches.undo_all()
        self._names.clear()
