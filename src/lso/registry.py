"""One registry pattern for everything a config chooses by name.

A config says ``type: vae``, ``optimizer: {type: local}``, ``surrogate: {type: trees}``. Each
kind of choice has one :class:`Registry` (models, optimisers, surrogates, constraints,
weightings, objectives), declared in its package's ``registry`` module, which maps the name to
an :class:`Entry`: where the implementation lives, and what it offers or needs (its
*traits*). Three readers rely on that one table:

- the library builds the chosen implementation with :meth:`Registry.load`, importing its module
  only then, so a grid run never imports BoTorch;
- the workflow adds exactly the chosen module to a job's code inputs
  (:meth:`Registry.module`), so editing the GP surrogate reruns the GP runs only;
- the config checks ask the traits (``model.encoder``, ``optimizer.latents``) rather than
  comparing type names, so a new model that offers an encoder is accepted wherever one is
  needed without touching the checks.

Only the standard library is used here and in every ``registry`` module: the Snakefile reads
them while it parses the workflow, before any job (and torch) runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from lso.utils import InputError

Traits = TypeVar("Traits")


@dataclass(frozen=True)
class Entry(Generic[Traits]):
    """One choosable implementation: ``module.attribute`` (a dotted path inside the module,
    e.g. ``Class.from_settings``), and what it offers or needs."""

    module: str
    attribute: str
    traits: Traits


class Registry(Mapping[str, Entry[Traits]]):
    """Name -> :class:`Entry` for one kind of choice (``what`` names it in error messages)."""

    def __init__(self, what: str, entries: dict[str, Entry[Traits]]) -> None:
        self.what = what
        self._entries = dict(entries)

    def __getitem__(self, name: str) -> Entry[Traits]:
        try:
            return self._entries[name]
        except KeyError:
            raise InputError(
                f"{self.what} {name!r} is unknown; expected one of {sorted(self._entries)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def traits(self, name: str) -> Traits:
        """What implementation ``name`` offers or needs."""
        return self[name].traits

    def module(self, name: str) -> str:
        """The module implementing ``name``: a code input of exactly the jobs that use it."""
        return self[name].module

    def load(self, name: str) -> Any:
        """The implementation of ``name`` (a class or function), importing its module now."""
        entry = self[name]
        found: Any = importlib.import_module(entry.module)
        for part in entry.attribute.split("."):
            found = getattr(found, part)
        return found
