"""moto finds the handler of every request by building its backend's table of URL patterns again
(``BaseBackend.urls``: every pattern formatted with every URL base, each with its China and ISO variants),
and for S3 by *reloading* ``moto.s3.urls`` first (``S3Backend._url_module``), so that a change of
``MOTO_S3_CUSTOM_ENDPOINTS`` is seen. That reload re-executes a module at each S3 request (import machinery,
a file read and its compilation): 2 % of a failback game day's samples, the table-building more.

This adapter keeps each backend class's table while the cloud runs, keyed by the settings the table is
built from (``MOTO_S3_CUSTOM_ENDPOINTS``, ``MOTO_ENABLE_ISO_REGIONS``), so a change of either still gives
the table moto would build. The tables are dropped when the cloud starts and when it stops.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from moto.core.base_backend import BaseBackend

from localcloud.adapters.patching import PatchSet

SETTINGS = ("MOTO_S3_CUSTOM_ENDPOINTS", "MOTO_ENABLE_ISO_REGIONS")  # what moto builds a table from


class UrlRoutesAdapter:
    name = "moto-url-routes"

    def __init__(self) -> None:
        self._patches = PatchSet()
        self._tables: dict[tuple[Any, ...], dict[str, Callable[..., Any]]] = {}
        self.builds = 0  # how many tables moto built while installed (the test reads it)

    def urls(self, backend: Any) -> dict[str, Callable[..., Any]]:
        key = (type(backend), *(os.environ.get(name) for name in SETTINGS))
        table = self._tables.get(key)  # two threads may both build one: the same table, one is kept
        if table is None:
            self.builds += 1
            table = self._tables.setdefault(key, self._original.fget(backend))
        return table

    def install(self) -> None:
        self._tables.clear()
        self._original = BaseBackend.__dict__["urls"]
        self._patches.add(BaseBackend, "urls", property(self.urls))

    def uninstall(self) -> None:
        self._patches.undo_all()
        self._tables.clear()
