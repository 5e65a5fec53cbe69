"""SNS signs with one key per Region, as AWS does, instead of a new RSA-2048 key per subscription.

moto makes a private key for each subscription the first time it delivers to it (about 50 ms of CPU) and
keeps it for the life of the process (an ``lru_cache`` on the method, holding every subscription). AWS
signs every notification of a Region with the one key of that Region's signing certificate
(``SigningCertURL``), so a subscriber's check does not depend on the subscription. Each test subscribes
the on-call's queue and an inbox to the DR topic: a suite of whole-platform tests spent tens of seconds
making keys. This adapter hands every subscription of a Region the same key, made once per process.
"""

from __future__ import annotations

import threading
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from moto.sns.models import Subscription

from localcloud.adapters.patching import PatchSet

_KEYS: dict[str, rsa.RSAPrivateKey] = {}
_LOCK = threading.Lock()


def regional_key(subscription: Any) -> rsa.RSAPrivateKey:
    """The signing key of the subscription's Region (made at its first use)."""
    region = str(subscription.topic.sns_backend.region_name)
    with _LOCK:
        if region not in _KEYS:
            _KEYS[region] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return _KEYS[region]


class SnsSigningKeyAdapter:
    name = "sns-regional-signing-key"

    def __init__(self) -> None:
        self._patches = PatchSet()

    def install(self) -> None:
        self._patches.add(Subscription, "private_key", regional_key)

    def uninstall(self) -> None:
        self._patches.undo_all()
