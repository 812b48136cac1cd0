"""Finding generators by name: built-ins, then the ``setpiece.generators`` entry points.

Built-in backends live in ``setpiece.generate.backends.<name>`` and are imported
only when used, so listing generators never imports torch or an SDK. A backend
whose optional dependencies are missing is listed as unavailable with its
install hint; asking to render with it raises that hint as an error.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.generate.base import Generator

__all__ = ["BUILTINS", "GeneratorInfo", "get_generator", "list_generators"]

# name -> "module:Class", imported lazily.
BUILTINS: dict[str, str] = {
    "previs": "setpiece.generate.backends.previs:PrevisGenerator",
    "diffusers": "setpiece.generate.backends.diffusers:DiffusersGenerator",
    "comfyui": "setpiece.generate.backends.comfyui:ComfyUIGenerator",
    "runway": "setpiece.generate.backends.runway:RunwayGenerator",
}


@dataclass(frozen=True)
class GeneratorInfo:
    name: str
    available: bool
    install_hint: str | None
    capabilities: dict[str, Any] | None
    source: str  # builtin | entry point NAME

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "available": self.available,
            "install_hint": self.install_hint,
            "capabilities": self.capabilities,
            "source": self.source,
        }


def _load(target: str) -> type[Generator]:
    module, _, attribute = target.partition(":")
    loaded = getattr(importlib.import_module(module), attribute)
    if not (isinstance(loaded, type) and issubclass(loaded, Generator)):
        raise InvalidInputError(f"{target} is not a setpiece Generator subclass")
    return loaded


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group="setpiece.generators")}


def _classes() -> dict[str, tuple[str, type[Generator]]]:
    found: dict[str, tuple[str, type[Generator]]] = {}
    for name, target in BUILTINS.items():
        found[name] = ("builtin", _load(target))
    for name, entry in _entry_points().items():
        if name not in found:
            loaded = entry.load()
            if isinstance(loaded, type) and issubclass(loaded, Generator):
                found[name] = (f"entry point {entry.value}", loaded)
    return found


def list_generators() -> list[GeneratorInfo]:
    """Every generator, available or not, with its capabilities."""
    infos = []
    for name, (source, cls) in sorted(_classes().items()):
        missing = cls.missing()
        infos.append(
            GeneratorInfo(
                name=name,
                available=not missing,
                install_hint=(cls.install_hint or f"pip install {' '.join(missing)}")
                if missing
                else None,
                capabilities=cls.default_capabilities.to_json(),
                source=source,
            )
        )
    return infos


def get_generator(name: str, config: dict[str, Any] | None = None) -> Generator:
    """An instance of the generator called ``name``.

    Raises:
        NotFoundError: No generator has that name.
        InvalidInputError: Its optional dependencies are not installed (the message says how).
    """
    classes = _classes()
    if name not in classes:
        raise NotFoundError(f"no generator {name!r}: available are {', '.join(sorted(classes))}")
    cls = classes[name][1]
    missing = cls.missing()
    if missing:
        hint = cls.install_hint or f"pip install {' '.join(missing)}"
        raise InvalidInputError(f"generator {name} needs {', '.join(missing)}: {hint}")
    return cls(config)
