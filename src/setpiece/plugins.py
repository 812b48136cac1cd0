"""Backends found by name: registered in this process, built in, then an entry-point group.

Generators (``setpiece.generators``), voices (``setpiece.voices``) and shot planners
(``setpiece.planners``) are found the same way, in OpenTimelineIO's plugin-manifest order,
and this module is that one way (the three registries had three copies of it, which had
begun to differ in what they said of a broken plugin):

- ``register`` adds a class in this process (tests, embedding applications); it wins.
- Built-ins are ``"module:Class"`` strings, imported only when asked for, so listing never
  imports torch, eSpeak NG or an SDK. Our own modules import their optional packages only
  when used, so a built-in that fails to import is a bug and is not caught here.
- An entry point is loaded only when its name is asked for (or when everything is listed),
  and kept once loaded: finding one reads every installed package's metadata (about 20 ms),
  and the queue asks for a backend's class on each pass. A broken one is not kept.
- A third party's entry point that raises on import, or names something that is not a
  subclass of the kind's base class, is refused with its name and the reason, and listed as
  broken (never fatal to a listing).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from setpiece.errors import InvalidInputError

__all__ = ["BrokenPlugin", "Plugins"]

T = TypeVar("T")


class BrokenPlugin(Exception):
    """An entry point that cannot give a backend class; the message says why."""


class Plugins(Generic[T]):
    """The backends of one kind.

    Args:
        group: The entry-point group (``setpiece.voices``).
        base: The class every backend of this kind subclasses.
        builtins: Name to ``"module:Class"``, imported lazily. A package may also declare its
            built-ins in the group (ours do, for voices): those entry points are skipped.
        kind: What a filmmaker calls one, for messages ("generator", "voice", "shot planner").
    """

    def __init__(self, group: str, base: type[Any], builtins: Mapping[str, str], kind: str) -> None:
        self.group = group
        self.base = base
        self.builtins = dict(builtins)
        self.kind = kind
        self.registered: dict[str, type[T]] = {}
        self.loaded: dict[str, tuple[str, type[T]]] = {}

    def register(self, cls: type[T]) -> type[T]:
        """Registers a class in this process by its ``name`` attribute (a decorator too)."""
        self.registered[getattr(cls, "name")] = cls  # noqa: B009 - T has no declared name
        return cls

    def entry_points(self, name: str | None = None) -> dict[str, Any]:
        """The group's entry points (only the one called ``name`` when given), built-ins aside."""
        from importlib.metadata import entry_points

        group = self.group
        found = entry_points(group=group) if name is None else entry_points(group=group, name=name)
        return {entry.name: entry for entry in found if entry.name not in self.builtins}

    def builtin(self, name: str) -> type[T]:
        """The built-in class called ``name`` (imports its module)."""
        module, _, attribute = self.builtins[name].partition(":")
        loaded = getattr(importlib.import_module(module), attribute)
        if not (isinstance(loaded, type) and issubclass(loaded, self.base)):
            raise InvalidInputError(
                f"{self.builtins[name]} is not a setpiece {self.base.__name__} subclass"
            )
        return loaded

    def from_entry_point(self, entry: Any) -> type[T]:
        """The class an entry point names.

        Raises:
            BrokenPlugin: Importing it raised, or it is not a subclass of the base.
        """
        try:
            loaded = entry.load()
        except Exception as exc:  # a third party's broken plugin: named, never fatal to listing
            raise BrokenPlugin(
                f"importing {entry.value} raised {type(exc).__name__}: {exc}"
            ) from exc
        if not (isinstance(loaded, type) and issubclass(loaded, self.base)):
            what = (
                f"the class {loaded.__name__}"
                if isinstance(loaded, type)
                else f"a {type(loaded).__name__}"
            )
            raise BrokenPlugin(
                f"{entry.value} is {what}, not a setpiece {self.base.__name__} subclass"
            )
        return loaded

    def find(self, name: str) -> tuple[str, type[T]] | None:
        """Where the backend called ``name`` comes from and its class; None if none has it.

        Looked up in order: registered, built in, then the one entry point of that name
        (only that plugin is imported).

        Raises:
            InvalidInputError: Its entry point raises on import or names something else.
        """
        if name in self.registered:
            return "registered", self.registered[name]
        if name in self.builtins:
            return "builtin", self.builtin(name)
        if name in self.loaded:
            return self.loaded[name]
        entry = self.entry_points(name).get(name)
        if entry is None:
            return None
        try:
            found = f"entry point {entry.value}", self.from_entry_point(entry)
        except BrokenPlugin as exc:
            raise InvalidInputError(
                f"{self.kind} plugin {name!r} cannot be loaded: {exc}"
            ) from None
        self.loaded[name] = found
        return found

    def names(self) -> list[str]:
        """Every name, sorted, without importing any plugin."""
        return sorted({*self.registered, *self.builtins, *self.entry_points()})

    def classes(self) -> tuple[dict[str, tuple[str, type[T]]], dict[str, str]]:
        """Every loadable backend (its source and class), and the broken entry points' reasons."""
        found: dict[str, tuple[str, type[T]]] = {
            name: ("registered", cls) for name, cls in self.registered.items()
        }
        broken: dict[str, str] = {}
        for name in self.builtins:
            if name not in found:
                found[name] = ("builtin", self.builtin(name))
        for name, entry in self.entry_points().items():
            if name not in found:
                try:
                    found[name] = (f"entry point {entry.value}", self.from_entry_point(entry))
                except BrokenPlugin as exc:
                    broken[name] = str(exc)
        return found, broken
