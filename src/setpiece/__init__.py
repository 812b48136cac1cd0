"""Setpiece: the film set around any AI generator.

The package is laid out by capability: ``model`` and ``store`` at the bottom,
``production`` (scenes, shots, takes, the bible) above them, further
capabilities (``script``, ``generate``, ``continuity``, ...) beside it, and
``cli`` at the top. Heavy libraries are imported where they are used.
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
