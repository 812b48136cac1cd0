"""The errors Setpiece raises on purpose, and how every edge reports them.

Each class knows its CLI exit code and its HTTP status, so the command line and
the web app map errors in one place. Messages say what was wrong and what to do.

    SetpieceError                  exit 2, HTTP 400
    ├── InvalidInputError          exit 2, HTTP 422  bad argument, value or file
    │   └── InvalidMediaError      exit 2, HTTP 422  a file that is not usable media
    ├── NotFoundError              exit 2, HTTP 404  unknown shot, take, scene, ...
    ├── ConflictError              exit 2, HTTP 409  exists already, or changed meanwhile
    ├── InvalidTransitionError     exit 2, HTTP 409  a status change the workflow forbids
    ├── PermissionDeniedError      exit 2, HTTP 403  the acting user's role is too low
    ├── ProjectError               exit 2, HTTP 400  no project here, or not a project
    ├── SchemaError                exit 2, HTTP 500  database from a newer Setpiece
    └── StorageError               exit 2, HTTP 503  the media store cannot be reached or written

Anything else that escapes is a genuine internal error: exit 1.
"""

from __future__ import annotations

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
]


class SetpieceError(Exception):
    """Root of every error Setpiece raises on purpose."""

    exit_code: int = 2
    http_status: int = 400
    code: str = "error"

    def __init__(self, message: str) -> None:
        # One line, always: edges print it as it is.
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


class InvalidInputError(SetpieceError):
    """An argument, value or file the user gave is not acceptable."""

    http_status = 422
    code = "invalid_input"


class InvalidMediaError(InvalidInputError):
    """A file that cannot be used as an image or a video (empty, corrupt, truncated...)."""

    code = "invalid_media"


class NotFoundError(SetpieceError):
    """A named shot, take, scene, bible entry or user does not exist."""

    http_status = 404
    code = "not_found"


class ConflictError(SetpieceError):
    """The thing exists already, or someone else changed it in the meantime."""

    http_status = 409
    code = "conflict"


class InvalidTransitionError(SetpieceError):
    """A status change that the workflow does not allow."""

    http_status = 409
    code = "invalid_transition"


class PermissionDeniedError(SetpieceError):
    """The acting user's role does not allow this action."""

    http_status = 403
    code = "forbidden"


class ProjectError(SetpieceError):
    """No Setpiece project was found, or the folder is not one."""

    code = "project"


class SchemaError(SetpieceError):
    """The database was written by a newer Setpiece, or its schema is unusable."""

    http_status = 500
    code = "schema"


class StorageError(SetpieceError):
    """The media store could not be read or written."""

    http_status = 503
    code = "storage"
