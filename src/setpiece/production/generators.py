"""What production knows of generators: what each declares, through the directory connected.

A take's recipe names its generator, and two rules read what that generator declares:
an imported take records the origin its generator declares (``Origin``, for its C2PA
manifest and the AI-use disclosure), and the continuity checks ask whether a generator
draws photographic faces. The generators are ``setpiece.generate``'s, above production
and beside continuity, which may import neither. So the ``generate`` registry is
connected here as a :class:`GeneratorDirectory` by the layer above
(``setpiece.pipeline.hooks.install``, which the CLI, the web app and ``make`` call), and
production and the capabilities read it through :func:`generator_directory`.

Reading it before it is connected is a programming error, said as one: a Python program
that uses the services directly calls ``setpiece.pipeline.hooks.install()`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from setpiece.model.enums import Origin

__all__ = [
    "Declared",
    "GeneratorDirectory",
    "connect_generators",
    "generator_directory",
]


@dataclass(frozen=True)
class Declared:
    """What a registered, loadable generator declares about the takes it makes.

    Attributes:
        photographic_faces: Its pictures show real faces (previs draws silhouettes).
        flicker_free: It draws every frame exactly, so its clips cannot flicker.
    """

    photographic_faces: bool = True
    flicker_free: bool = False


class GeneratorDirectory(Protocol):
    """The generators as production reads them (``setpiece.generate.registry`` behind it)."""

    def origin(self, name: str) -> Origin:
        """What the generator called ``name`` declares it is; a name no generator has is
        ``Origin.TRAINED``.

        Raises:
            InvalidInputError: The generator declares something that is not an ``Origin``.
        """
        ...

    def registered(self) -> Mapping[str, Declared]:
        """Every loadable generator by name, with what it declares."""
        ...


_DIRECTORY: list[GeneratorDirectory] = []


def connect_generators(directory: GeneratorDirectory) -> None:
    """Connects the generator directory (again: the last one connected is read)."""
    _DIRECTORY[:] = [directory]


def generator_directory() -> GeneratorDirectory:
    """The connected generator directory.

    Raises:
        RuntimeError: None is connected: ``setpiece.pipeline.hooks.install()`` was not called.
    """
    if not _DIRECTORY:
        raise RuntimeError(
            "no generator directory is connected to production: call "
            "setpiece.pipeline.hooks.install() before using the services "
            "(the CLI, the web app and make do)"
        )
    return _DIRECTORY[0]
