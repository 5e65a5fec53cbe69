"""Every boto3 session made while the cloud runs reads the SDK's data files (service models, endpoint rules,
paginators) through one loader per process, so each file is parsed once, not once per session.

Two sessions make the clients in a localcloud process: localcloud's own (``localcloud.sdk``) and the
functions' (``dr.aws``, one per process, as in a Lambda execution environment). Each had its own botocore
loader, so the functions' first client of a service parsed that service's model again; in a test that runs
in a fork of a built platform, that was every service of every function, in every fork (the RDS model alone
is 1.3 MB of JSON). The loader only reads botocore's packaged, read-only data; sharing it changes no
answer. A session made with another ``AWS_DATA_PATH`` gets a loader of its own.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.loaders import Loader

from localcloud.adapters.patching import PatchSet

_LOADERS: dict[str | None, Loader] = {}  # per search path, kept for the process (the data does not change)
_LOCK = threading.Lock()


class SdkModelsAdapter:
    name = "shared-sdk-models"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def loader(self, search_path_string: str | None = None) -> Any:
        with _LOCK:
            if search_path_string not in _LOADERS:
                _LOADERS[search_path_string] = self._original(search_path_string)
            return _LOADERS[search_path_string]

    def install(self) -> None:
        self._original = botocore.session.create_loader
        self._patches.add(botocore.session, "create_loader", self.loader)

    def uninstall(self) -> None:
        self._patches.undo_all()
