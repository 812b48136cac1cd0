"""Finding generators by name: registered, built-ins, then the ``setpiece.generators`` entry points.

Built-in backends live in ``setpiece.generate.backends.<name>`` and are imported
only when used, so listing generators never imports torch or an SDK. Asking for one
generator by name imports that one only: a plugin's entry point is loaded when its
name is asked for, never because another generator was. An entry point that raises on
import, or names something that is not a ``Generator`` subclass, is refused with its
name and the reason when asked for, and listed as broken (never fatal to the listing). A backend
whose optional dependencies are missing is listed as unavailable with its
install hint; asking to render with it raises that hint as an error.

What ``setpiece generators`` says of each, honestly: ``installed`` (its packages import),
``configured`` (``missing_settings`` is empty: the key, the workflow, read from the
project's ``[generators.NAME]`` and the environment), ``reachable`` (only with ``check``:
its server answered and accepted its key, nothing spent; None when not asked or it has no
server) and ``available``, installed and configured.

Each generator declares what it is (``Generator.origin``: a trained model, an algorithm
that draws, a camera), which every take it makes records. One that does not declare it,
built in, registered or from an entry point, counts as a trained model, and so does a
generator name no class has (``take import --generator midjourney``): ``declared_origin``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.errors import InvalidInputError, NotFoundError, SetpieceError
from setpiece.generate.base import Generator, GeneratorSettings
from setpiece.model.enums import Origin
from setpiece.plugins import Plugins

__all__ = [
    "BUILTINS",
    "GROUP",
    "GeneratorInfo",
    "check_generator_tables",
    "declared_origin",
    "generator_class",
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
    "replicate": "setpiece.generate.backends.replicate:ReplicateGenerator",
}


@dataclass(frozen=True)
class GeneratorInfo:
    """One generator as ``setpiece generators`` lists it (see the module docstring).

    ``problem`` says why it is not configured or not reachable, in a sentence.
    """

    name: str
    available: bool
    install_hint: str | None
    capabilities: dict[str, Any] | None
    source: str  # builtin | entry point NAME
    origin: Origin | None = None  # what it declares it is (None: it cannot be loaded)
    installed: bool = False
    configured: bool = False
    missing_settings: list[str] = field(default_factory=list)
    reachable: bool | None = None
    problem: str | None = None


GROUP = "setpiece.generators"

# One discovery rule for every kind of backend (setpiece.plugins); the dictionaries are kept
# by name for tests and embedders that register or forget a class.
_PLUGINS: Plugins[Generator] = Plugins(GROUP, Generator, BUILTINS, "generator")
_REGISTERED = _PLUGINS.registered
_LOADED = _PLUGINS.loaded


def register(generator: type[Generator]) -> type[Generator]:
    """Registers a generator class in this process by its ``name`` (usable as a decorator)."""
    return _PLUGINS.register(generator)


def generator_class(name: str) -> tuple[str, type[Generator]] | None:
    """Where the generator called ``name`` comes from and its class, or None if none has it.

    Looked up in order: registered in this process, built in, then the one
    ``setpiece.generators`` entry point of that name (only that plugin is imported).

    Raises:
        InvalidInputError: The entry point of that name raises on import or is not a
            Generator subclass (the message names it and why).
    """
    return _PLUGINS.find(name)


def list_generators(
    settings: Mapping[str, Any] | None = None,
    *,
    check: bool = False,
    project_dir: Path | None = None,
) -> list[GeneratorInfo]:
    """Every generator, available or not, with its capabilities.

    Args:
        settings: The project's setpiece.toml (its ``[generators.NAME]`` tables); None
            outside a project, where each is judged on its defaults.
        check: Ask each installed, configured backend's server whether it answers
            (``Generator.reachable``): costs a request each, spends nothing.
        project_dir: The project folder, for settings with relative paths.
    """
    tables = (settings or {}).get("generators", {})
    tables = tables if isinstance(tables, Mapping) else {}
    infos = []
    classes, broken = _PLUGINS.classes()
    for name, problem in sorted(broken.items()):
        infos.append(
            GeneratorInfo(name, False, f"cannot load: {problem}", None, "broken", problem=problem)
        )
    for name, (source, cls) in sorted(classes.items()):
        missing = cls.missing()
        table = tables.get(name)
        info = GeneratorInfo(
            name=name,
            available=False,
            install_hint=(cls.install_hint or f"pip install {' '.join(missing)}")
            if missing
            else None,
            capabilities=cls.default_capabilities.to_json(),
            source=source,
            origin=cls.origin,
            installed=not missing,
        )
        infos.append(
            _judged(info, cls, table if isinstance(table, Mapping) else {}, check, project_dir)
        )
    return infos


def _judged(
    info: GeneratorInfo,
    cls: type[Generator],
    table: Mapping[str, Any],
    check: bool,
    project_dir: Path | None,
) -> GeneratorInfo:
    """``info`` with whether the backend is configured and (``check``) reachable."""
    from dataclasses import replace

    try:
        read = cls.load_settings(table)
    except InvalidInputError as exc:
        return replace(info, problem=str(exc))
    missing = list(cls.missing_settings(read))
    configured = not missing
    info = replace(
        info,
        configured=configured,
        missing_settings=missing,
        available=info.installed and configured,
        problem=f"set {', '.join(missing)}" if missing else None,
    )
    if not (check and info.available):
        return info
    backend = None
    try:
        backend = cls(read, project_dir=project_dir)
        reachable = backend.reachable()
    except SetpieceError as exc:
        return replace(info, reachable=False, problem=str(exc))
    except Exception as exc:  # a third party's check that breaks: named, never fatal to listing
        return replace(info, reachable=False, problem=f"{type(exc).__name__}: {exc}")
    finally:
        if backend is not None:
            backend.close()
    return replace(info, reachable=reachable)


def declared_origin(name: str) -> Origin:
    """What the generator called ``name`` declares it is, without making one.

    A name no loadable generator has (a take imported from a service Setpiece does not
    drive, such as ``--generator midjourney``) is ``Origin.TRAINED``, the rule for any
    generator that does not say (see ``Generator``).

    Raises:
        InvalidInputError: The generator declares something that is not an ``Origin``, or
            its entry point is broken.
    """
    found = generator_class(name)
    if found is None:
        return Origin.TRAINED
    try:
        return Origin(found[1].origin)
    except ValueError:
        choices = ", ".join(o.value for o in Origin)
        raise InvalidInputError(
            f"generator {name} declares origin {found[1].origin!r}: it must be one of {choices}"
        ) from None


def check_generator_tables(settings: Mapping[str, Any]) -> None:
    """Refuses a ``[generators.NAME]`` table that no generator has (a typo, a plugin gone).

    Names are compared without importing any plugin.

    Raises:
        InvalidInputError: ``[generators]`` is not a table of tables, or names a generator
            that neither is registered, built in, nor has an entry point.
    """
    generators = settings.get("generators", {})
    if not isinstance(generators, Mapping):
        raise InvalidInputError("setpiece.toml [generators]: expected a table of generators")
    known = _PLUGINS.names()
    for name in generators:
        if name not in known:
            raise InvalidInputError(
                f"setpiece.toml: unknown section [generators.{name}]; "
                f"known generators: {', '.join(known)}"
            )


def get_generator(
    name: str,
    settings: GeneratorSettings | Mapping[str, Any] | None = None,
    *,
    project_dir: Path | None = None,
) -> Generator:
    """An instance of the generator called ``name``, made with its settings.

    Args:
        name: The generator's name.
        settings: Its ``[generators.NAME]`` table (or its ``Settings`` already read).
        project_dir: The project folder, which relative paths in its settings start from.

    Raises:
        NotFoundError: No generator has that name.
        InvalidInputError: Its entry point is broken, its optional dependencies are not
            installed (the message says how), or its settings are refused.
    """
    found = generator_class(name)
    if found is None:
        names = ", ".join(_PLUGINS.names())
        raise NotFoundError(f"no generator {name!r}: available are {names}")
    cls = found[1]
    missing = cls.missing()
    if missing:
        hint = cls.install_hint or f"pip install {' '.join(missing)}"
        raise InvalidInputError(f"generator {name} needs {', '.join(missing)}: {hint}")
    return cls(settings, project_dir=project_dir)
