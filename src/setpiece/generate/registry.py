"""Finding generators by name: built-ins, then the ``setpiece.generators`` entry points.

Built-in backends live in ``setpiece.generate.backends.<name>`` and are imported
only when used, so listing generators never imports torch or an SDK. A backend
whose optional dependencies are missing is listed as unavailable with its
install hint; asking to render with it raises that hint as an error.

Each generator declares what it is (``Generator.origin``: a trained model, an algorithm
that draws, a camera), which every take it makes records. One that does not declare it,
built in, registered or from an entry point, counts as a trained model, and so does a
generator name no class has (``take import --generator midjourney``): ``declared_origin``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.generate.base import Generator
from setpiece.model.enums import Origin

__all__ = [
    "BUILTINS",
    "GeneratorInfo",
    "declared_origin",
    "get_generator",
    "list_generators",
    "register",
]

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
    origin: Origin | None = None  # what it declares it is (None: it cannot be loaded)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "available": self.available,
            "install_hint": self.install_hint,
            "capabilities": self.capabilities,
            "source": self.source,
            "origin": self.origin.value if self.origin else None,
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


_REGISTERED: dict[str, type[Generator]] = {}
_BROKEN: dict[str, str] = {}


def register(generator: type[Generator]) -> type[Generator]:
    """Registers a generator class in this process by its ``name`` (usable as a decorator)."""
    _REGISTERED[generator.name] = generator
    return generator


def _classes() -> dict[str, tuple[str, type[Generator]]]:
    """Every loadable generator; entry points whose module fails to import are noted in
    ``_BROKEN``."""
    found: dict[str, tuple[str, type[Generator]]] = {
        name: ("registered", cls) for name, cls in _REGISTERED.items()
    }
    for name, target in BUILTINS.items():
        if name not in found:
            # Our own modules: they import their optional packages only when rendering
            # (``requires`` is checked without importing), so a failure here is a bug.
            found[name] = ("builtin", _load(target))
    for name, entry in _entry_points().items():
        if name not in found:
            try:
                loaded = entry.load()
            except Exception as exc:  # a third party's broken plugin is listed, not fatal
                _BROKEN[name] = f"{type(exc).__name__}: {exc}"
                continue
            if isinstance(loaded, type) and issubclass(loaded, Generator):
                found[name] = (f"entry point {entry.value}", loaded)
    return found


def list_generators() -> list[GeneratorInfo]:
    """Every generator, available or not, with its capabilities."""
    infos = []
    classes = _classes()
    for name, problem in sorted(_BROKEN.items()):
        if name not in classes:
            infos.append(GeneratorInfo(name, False, f"cannot load: {problem}", None, "broken"))
    for name, (source, cls) in sorted(classes.items()):
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
                origin=cls.origin,
            )
        )
    return infos


def declared_origin(name: str) -> Origin:
    """What the generator called ``name`` declares it is, without making one.

    A name no loadable generator has (a take imported from a service Setpiece does not
    drive, such as ``--generator midjourney``) is ``Origin.TRAINED``, the rule for any
    generator that does not say (see ``Generator``).

    Raises:
        InvalidInputError: The generator declares something that is not an ``Origin``.
    """
    found = _classes().get(name)
    if found is None:
        return Origin.TRAINED
    try:
        return Origin(found[1].origin)
    except ValueError:
        choices = ", ".join(o.value for o in Origin)
        raise InvalidInputError(
            f"generator {name} declares origin {found[1].origin!r}: it must be one of {choices}"
        ) from None


def get_generator(name: str, config: dict[str, Any] | None = None) -> Generator:
    """An instance of the generator called ``name``.

    Raises:
        NotFoundError: No generator has that name.
        InvalidInputError: Its optional dependencies are not installed (the message says how).
    """
    classes = _classes()
    if name not in classes and name in _BROKEN:
        raise InvalidInputError(f"generator {name} cannot be loaded: {_BROKEN[name]}")
    if name not in classes:
        raise NotFoundError(f"no generator {name!r}: available are {', '.join(sorted(classes))}")
    cls = classes[name][1]
    missing = cls.missing()
    if missing:
        hint = cls.install_hint or f"pip install {' '.join(missing)}"
        raise InvalidInputError(f"generator {name} needs {', '.join(missing)}: {hint}")
    return cls(config)
