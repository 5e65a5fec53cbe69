"""Reversible attribute patches, so every adapter can be installed and removed cleanly."""

from __future__ import annotations

from typing import Any


class Patch:
    """Replace ``owner.name`` with ``value``; ``undo`` puts the original back."""

    def __init__(self, owner: Any, name: str, value: Any) -> None:
        if not hasattr(owner, name):
            raise AttributeError(
                f"localcloud adapter: {owner!r} has no attribute {name!r}; "
                "moto changed under the adapter (check the pinned moto version)"
            )
        self.owner, self.name, self.value = owner, name, value
        self.original = getattr(owner, name)

    def apply(self) -> None:
        setattr(self.owner, self.name, self.value)

    def undo(self) -> None:
        setattr(self.owner, self.name, self.original)


class PatchSet:
    def __init__(self) -> None:
        self._patches: list[Patch] = []

    def add(self, owner: Any, name: str, value: Any) -> None:
        patch = Patch(owner, name, value)
        patch.apply()
        self._patches.append(patch)

    def undo_all(self) -> None:
        while self._patches:
            self._patches.pop().undo()
