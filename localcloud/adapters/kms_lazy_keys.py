"""Lazy KMS key pairs: a key's private key is generated when something first uses it, not at CreateKey.

moto generates an RSA-2048 key pair for every KMS key it creates, symmetric ones included (about 50 ms of
CPU each), although only the asymmetric operations (Sign, Verify, GetPublicKey) ever read it. Every
deploy of this app creates five symmetric keys, so a test suite that deploys the template a few hundred
times spent most of a minute generating key pairs nobody read. This adapter hands moto a stand-in that
generates the same key, with the same function and arguments, at its first use: what any operation
sees is unchanged.
"""

from __future__ import annotations

import threading
from typing import Any

import moto.kms.models

from localcloud.adapters.patching import PatchSet


class LazyPrivateKey:
    """Stands in for moto's private key object; makes it, once, on the first attribute read."""

    def __init__(self, make: Any, key_spec: str) -> None:
        self._make, self._key_spec = make, key_spec
        self._made: Any = None
        self._lock = threading.Lock()

    @property
    def generated(self) -> bool:
        return self._made is not None

    def __getattr__(self, name: str) -> Any:  # only called for what this class does not have itself
        if name.startswith("__") or name in ("_make", "_key_spec", "_made", "_lock"):
            raise AttributeError(name)  # copy/pickle probes, or a half-built instance: never make a key for them
        with self._lock:
            if self._made is None:
                self._made = self._make(self._key_spec)
        return getattr(self._made, name)


class KmsLazyKeysAdapter:
    name = "kms-lazy-key-pairs"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        make = moto.kms.models.generate_private_key
        self._patches.add(moto.kms.models, "generate_private_key", lambda key_spec: LazyPrivateKey(make, key_spec))

    def uninstall(self) -> None:
        self._patches.undo_all()
