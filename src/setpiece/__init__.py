"""Setpiece: the film set around any AI generator.

The package is laid out in layers, and imports go down: ``errors``, ``timebase``,
``config``, ``lettering``, ``drawing`` and ``model`` at the bottom, then ``store``,
then ``production`` (scenes, shots, takes, the cut, the bible) and ``project``, then
the capabilities (``script``, ``generate``, ``continuity``, ``integrity``, ``motion``,
``edit``, ``provenance``), which never import each other, then ``pipeline``, and
``cli`` and ``web`` at the top. ``lint-imports`` keeps the layers (pyproject.toml's
``[tool.importlinter]``). Heavy libraries are imported where they are used.
"""

from setpiece.errors import (
    ConflictError,
    InvalidInputError,
    InvalidMediaError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ProjectError,
    SchemaError,
    SetpieceError,
    StorageError,
)

__version__ = "0.1.0"

__all__ = [
    "ConflictError",
    "InvalidInputError",
    "InvalidMediaError",
    "InvalidTransitionError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProjectError",
    "SchemaError",
    "SetpieceError",
    "StorageError",
    "__version__",
]
