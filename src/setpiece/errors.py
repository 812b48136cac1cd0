"""The errors Setpiece raises on purpose, and the exit-code contract every command keeps.

Every command exits with one of these codes (``ExitCode``), and nothing else:

      0  done
      1  a bug: an error Setpiece did not raise on purpose, anywhere, a ``make`` step included
      2  bad input or a refused request (usage errors, every SetpieceError below but Storage)
      3  checks found something (``--strict``, ``fsck``, an invalid signature in ``verify``,
         ``db heads`` with other than one head)
      4  done in part (takes failed to render, a ``make`` step failed with a SetpieceError,
         a take ``check integrity`` could not read)
      5  the environment failed (disk full, database or media store unreachable, read-only
         project folder)
    130  interrupted (Ctrl-C), as shells expect; an interrupted render resumes next time

Each class knows its CLI exit code and its HTTP status, so the command line and
the web app map errors in one place (``cli/main.py`` and ``web/app.py``, both through
``as_setpiece_error``). Messages say what was wrong and what to do.

    SetpieceError                  exit 2, HTTP 400
    ├── InvalidInputError          exit 2, HTTP 422  bad argument, value or file
    │   ├── InvalidMediaError      exit 2, HTTP 422  a file that is not usable media
    │   ├── MissingExtraError      exit 2, HTTP 422  an optional package is not installed
    │   └── ConfirmationRequiredError  exit 2, HTTP 422  a render quoted over
    │                                                [render] confirm_over, not confirmed
    ├── NotFoundError              exit 2, HTTP 404  unknown shot, take, scene, ...
    ├── ConflictError              exit 2, HTTP 409  exists already, or changed meanwhile
    ├── InvalidTransitionError     exit 2, HTTP 409  a status change the workflow forbids
    ├── PermissionDeniedError      exit 2, HTTP 403  the acting user's role is too low
    ├── ProjectError               exit 2, HTTP 400  no project here, or not a project
    ├── SchemaError                exit 2, HTTP 500  database from a newer Setpiece
    └── StorageError               exit 5, HTTP 503  database or media store unreachable,
                                                     disk full, read-only project folder

An OSError that escapes for want of disk space or a writable disk (ENOSPC, EDQUOT,
EFBIG, EROFS, EACCES, EPERM) is the environment too: ``as_setpiece_error`` makes it a
StorageError naming the file. Anything else that escapes is a genuine internal error: exit 1.

Messages are written for the command line, and their advice names commands ("run
'setpiece fsck'"); the board's pages show them through ``web_message``, which leaves that
advice out, or says the board's own where it has one.

``except ImportError`` is for optional third-party packages only, through
``needs_extra``: a missing package becomes a MissingExtraError naming the extra, and
a failure to import one of Setpiece's own modules stays what it is, a bug.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

__all__ = [
    "ConfirmationRequiredError",
    "ConflictError",
    "ExitCode",
    "InvalidInputError",
    "InvalidMediaError",
    "InvalidTransitionError",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProjectError",
    "SchemaError",
    "SetpieceError",
    "StorageError",
    "as_setpiece_error",
    "needs_extra",
    "web_message",
]


class ExitCode(IntEnum):
    """The exit codes of every ``setpiece`` command (the table above)."""

    DONE = 0
    BUG = 1
    REFUSED = 2
    FOUND = 3
    PARTIAL = 4
    ENVIRONMENT = 5
    INTERRUPTED = 130


class SetpieceError(Exception):
    """Root of every error Setpiece raises on purpose."""

    exit_code: int = ExitCode.REFUSED
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


class MissingExtraError(InvalidInputError):
    """A feature whose optional third-party package is not installed; names the extra."""

    code = "missing_extra"

    def __init__(self, feature: str, extra: str, missing: str | None = None) -> None:
        self.extra = extra
        what = f" ({missing} is not installed)" if missing else ""
        super().__init__(
            f"{feature} needs the {extra} extra{what}: pip install 'setpiece[{extra}]'"
        )


class ConfirmationRequiredError(InvalidInputError):
    """A render quoted over ``[render] confirm_over`` that its caller did not confirm.

    ``quote_lines`` are the quote in words (``Quote.lines``), for a page that asks.
    """

    code = "confirmation_required"

    def __init__(self, message: str, quote_lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.quote_lines = list(quote_lines or [])


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
    """The environment failed: the database or the media store cannot be reached or
    written (a server down, a full disk, a read-only project folder)."""

    exit_code = ExitCode.ENVIRONMENT
    http_status = 503
    code = "storage"


# Why an OSError is the environment's fault rather than a bug.
_ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is larger than this system allows",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def as_setpiece_error(exc: BaseException) -> SetpieceError | None:
    """The SetpieceError an escaped exception stands for, or None for a bug.

    The one translation both edges (the CLI and the web app) make: a SetpieceError is
    itself; an OSError for want of disk space or a writable disk is a StorageError that
    names the file and its folder.
    """
    if isinstance(exc, SetpieceError):
        return exc
    if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS:
        where = f" ({exc.filename})" if exc.filename else ""
        return StorageError(
            f"{_ENVIRONMENT_ERRNOS[exc.errno]}{where}: free some space or make the "
            "folder writable, then run the command again"
        )
    return None


@contextmanager
def needs_extra(extra: str, feature: str) -> Iterator[None]:
    """Imports inside this block are an optional extra's: a missing one is bad input.

    Args:
        extra: The extra that brings the packages, e.g. ``web`` (``setpiece[web]``).
        feature: What needs them, for the message, e.g. ``the shot board``.

    Raises:
        MissingExtraError: A third-party module failed to import (exit 2, naming the extra).
        ImportError: One of Setpiece's own modules failed to import: a bug, left as it is.
    """
    try:
        yield
    except ImportError as exc:
        if exc.name is not None and exc.name.partition(".")[0] == "setpiece":
            raise
        raise MissingExtraError(feature, extra, exc.name) from exc


# A command to type, quoted in a message's advice.
_COMMAND = re.compile(r"'setpiece [^']*'")
# What the board offers in place of a command, where it has the same.
_ON_THE_BOARD = {
    "setpiece shot list": "the board lists the shots",
    "setpiece scene list": "the script page lists the scenes",
    "setpiece user list": "the members page lists them",
}


def web_message(message: str) -> str:
    """The message as a web page says it: advice to type a command left out, or the board's
    own where it has the same (``_ON_THE_BOARD``); the rest as it was.

    A clause (after ``: `` or ``; ``) or a parenthesis that names a command goes, and so
    does an alternative ("or run 'setpiece fsck'"); a message that is nothing but a command's
    advice stays whole, since it is all there is to say.
    """
    text = re.sub(r" or (?:run )?'setpiece [^']*'", "", message)
    text = re.sub(r" ?\([^()]*'setpiece [^']*'[^()]*\)", "", text)
    text = text.replace("then run the command again", "then try again")
    parts = re.split(r"(: |; )", text)
    kept = parts[0]
    for separator, clause in zip(parts[1::2], parts[2::2], strict=True):
        command = _COMMAND.search(clause)
        if command is None:
            kept += separator + clause
        elif command.group(0).strip("'") in _ON_THE_BOARD:
            kept += separator + _ON_THE_BOARD[command.group(0).strip("'")]
    return kept if kept.strip() else message
