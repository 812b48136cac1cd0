"""An open production: its database, its media store and who is acting.

Every service takes a ``Production`` and works inside ``transaction()``; the
CLI and the web app only build one and call services. Role checks happen here,
in ``authorize``, on behalf of every edge.

One rule for who acts on the command line, kept in one place: ``Production.open``.
A project without members lets everyone do everything; from its first member on,
whoever opens it must be a member (reading needs viewer, the lowest role), so every
command that touches a project is refused for anyone else before it does anything,
and each service then checks the role its own action needs. The shot board is the
one opener that acts for nobody (``open_for_server``): it acts for each member who
logs in to it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    ProjectError,
    StorageError,
)
from setpiece.model.enums import Role
from setpiece.model.workflow import required_role
from setpiece.project import (
    CONFIG_NAME,
    STATE_DIR,
    ProjectConfig,
    find_project_root,
    load_config,
    remove_partial_project,
    resolve_actor,
    write_config,
)
from setpiece.timebase import FrameCount, frame_count

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from setpiece.model.orm import Project
    from setpiece.store.db import Database
    from setpiece.store.media import MediaStore

__all__ = ["Production", "act_as", "init_production"]


def act_as(name: str = "NAME") -> str:
    """How to act as ``name`` on the command line, for every message that has to say it."""
    quoted = json.dumps(name, ensure_ascii=False)
    return f"--as {name} (or SETPIECE_USER={name}, or [user] name = {quoted} in setpiece.toml)"


class Production:
    """An open project. Use ``Production.open(...)`` or ``init_production(...)``; close when done."""

    def __init__(
        self,
        config: ProjectConfig,
        database: Database,
        store: MediaStore,
        actor: str | Callable[[], str],
    ):
        self.config = config
        self.db = database
        self.store = store
        self._actor = actor if isinstance(actor, str) else ""
        self._who = None if isinstance(actor, str) else actor
        self._fps: Fraction | None = None

    @property
    def actor(self) -> str:
        """The member acting. Given as a callable (the shot board's caller, looked up in the
        database), it is asked on first use, at the latest when the first transaction opens,
        outside it; what it raises (not a member: 401) is raised there."""
        if self._who is not None:
            self._actor = self._who()
            self._who = None
        return self._actor

    @actor.setter
    def actor(self, name: str) -> None:
        self._actor, self._who = name, None

    @classmethod
    def open(
        cls,
        project: str | os.PathLike[str] | None = None,
        *,
        database_url: str | None = None,
        actor: str | None = None,
    ) -> Production:
        """Finds and opens a project (migrating its database if needed), acting as ``actor``.

        Once the project has members, the actor must be one: this is the role check every
        command goes through (reads need viewer), before it reads or writes anything.

        Args:
            project: The project folder (default: found upward from here, or SETPIECE_PROJECT).
            database_url: Overrides the project's database.
            actor: Who acts (``--as``); None or "": ``SETPIECE_USER``, then ``[user] name``
                of setpiece.toml, then the login name.

        Raises:
            ProjectError: No project is found, or the database holds no project.
            SchemaError: The database is from a newer Setpiece.
            StorageError: The database or the media store cannot be reached.
            PermissionDeniedError: The project has members and the actor is not one of them.
        """
        return cls._open(project, database_url, actor, member=True)

    @classmethod
    def open_for_server(
        cls, project: str | os.PathLike[str] | None = None, *, database_url: str | None = None
    ) -> Production:
        """Opens a project acting for nobody, for a server that acts for each of its callers.

        The shot board opens its project this way: who started it is not asked (it needs no
        ``--as``), and each request then acts as the member who logged in. Once the project has
        members, a service called on this production itself is refused (nobody is no member).

        Raises:
            ProjectError, SchemaError, StorageError: As ``open``.
        """
        return cls._open(project, database_url, "", member=False)

    @classmethod
    def _open(
        cls,
        project: str | os.PathLike[str] | None,
        database_url: str | None,
        actor: str | None,
        *,
        member: bool,
    ) -> Production:
        from setpiece.store.db import Database
        from setpiece.store.media import MediaStore

        root = find_project_root(project)
        config = load_config(root, database_url=database_url)
        who = resolve_actor(actor, config) if member else ""
        database = Database(config.database_url)
        production = cls(config, database, MediaStore(config.media_url, config.media_options), who)
        try:
            with production.transaction(read_only=True) as session:
                production._fps = production.project_row(session).fps
                if member:
                    production.authorize(session, "read")
        except BaseException:
            database.close()
            raise
        return production

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Production:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        A write based on a stale read (another user changed the row) becomes a ConflictError.

        Args:
            read_only: The transaction only reads: on SQLite it reads a snapshot without the
                write lock, so readers never wait for a writer (the readers of one process
                take turns, see ``Database.read_turn``); a write through its ORM session
                raises RuntimeError (a programming error).
        """
        _ = self.actor  # a caller still to look up is looked up before this transaction opens
        if read_only:
            with self.db.read_turn:
                yield from self._transaction(self.db.read_sessions())
        else:
            yield from self._transaction(self.db.sessions())

    def _transaction(self, session: Session) -> Iterator[Session]:
        from sqlalchemy.exc import IntegrityError, OperationalError
        from sqlalchemy.orm.exc import StaleDataError

        try:
            yield session
            session.commit()
        except StaleDataError as exc:
            session.rollback()
            raise ConflictError(
                "someone else changed this in the meantime: reload and try again"
            ) from exc
        except IntegrityError as exc:
            session.rollback()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConflictError(f"the change conflicts with what is stored: {reason}") from exc
        except OperationalError as exc:
            # A full disk, a lost connection, a database locked for too long: nothing of this
            # transaction was kept, and the message says what to look at.
            with contextlib.suppress(Exception):
                session.rollback()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            if self.db.read_only:
                raise StorageError(
                    f"the project folder {self.config.root} is read-only ({reason}): this "
                    "command changes the project; reading it works. Copy the project to a "
                    "writable disk, or make the folder writable"
                ) from exc
            raise StorageError(
                f"cannot use the database ({reason}): nothing of this change was kept; "
                "check free disk space and that the database server is reachable"
            ) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def project_row(self, session: Session | None = None) -> Project:
        from sqlalchemy import select

        from setpiece.model.orm import Project

        if session is None:
            with self.transaction() as own:
                return self.project_row(own)
        project = session.scalars(select(Project).limit(1)).first()
        if project is None:
            raise ProjectError(
                f"the database of {self.config.root} holds no project: run 'setpiece init' there"
            )
        return project

    @property
    def fps(self) -> Fraction:
        if self._fps is None:
            self._fps = self.project_row().fps
        return self._fps

    @property
    def frames(self) -> FrameCount:
        """How people count this film's frames (``[project] first_frame``, timecode at its rate)."""
        return frame_count(self.config.settings, self.fps)

    def authorize(self, session: Session, action: str) -> None:
        """Checks that the acting user may do ``action``; a no-op while the project has no users.

        Raises:
            PermissionDeniedError: The user is unknown to the project, or their role is too low.
        """
        from sqlalchemy import func, select

        from setpiece.model.names import fold_user_name
        from setpiece.model.orm import User

        # One query on every call (the member's role); counting the members only when the
        # actor is not one: a project without members lets everyone do everything.
        key = fold_user_name(self.actor)
        found = session.execute(select(User.role).where(User.name_key == key)).first()
        if found is None:
            if not session.scalar(select(func.count()).select_from(User)):
                return
            raise PermissionDeniedError(
                f"user {self.actor!r} is not a member of this project: act as one with "
                f"{act_as()}, or ask an admin to add you"
            )
        needed = required_role(action)
        role = Role(found[0])
        if role.rank < needed.rank:
            raise PermissionDeniedError(
                f"{self.actor} is {role.value}: {action.replace('_', ' ')} needs {needed.value} or above"
            )


def init_production(
    directory: str | os.PathLike[str],
    *,
    name: str | None = None,
    fps: Fraction = Fraction(24),
    resolution: tuple[int, int] = (1920, 1080),
    aspect: Fraction | None = None,
    database_url: str | None = None,
    media_url: str | None = None,
    media_options: dict[str, Any] | None = None,
    actor: str | None = None,
) -> Production:
    """Creates a project folder with its toml, database and media store.

    Nothing half-written stays behind when any step fails.

    Raises:
        ConflictError: The folder is a project already, or the database holds one.
        InvalidInputError: The folder is a file, or a value is out of range.
    """
    from setpiece.model.orm import Project
    from setpiece.store.db import Database
    from setpiece.store.media import MediaStore

    root = Path(directory).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise InvalidInputError(f"{root} exists and is not a folder")
    title = (name or root.name).strip()
    if not title or len(title) > 200:
        raise InvalidInputError("project name must be 1-200 characters")
    width, height = resolution
    ratio = aspect or Fraction(width, height)
    if (root / CONFIG_NAME).exists():
        raise ConflictError(f"{root} is already a Setpiece project ({CONFIG_NAME} exists)")
    created_root = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    database = None
    try:
        write_config(
            root, database_url=database_url, media_url=media_url, media_options=media_options
        )
        config = load_config(root)
        if config.database_url.startswith("sqlite"):
            (root / STATE_DIR).mkdir(exist_ok=True)
        if "://" not in config.media_url:
            Path(config.media_url).mkdir(parents=True, exist_ok=True)
        database = Database(config.database_url)
        store = MediaStore(config.media_url, config.media_options)
        with database.sessions.begin() as session:
            if session.query(Project).count():
                raise ConflictError(
                    "that database already holds a project: give each film its own database"
                )
            session.add(
                Project(
                    name=title,
                    fps_num=fps.numerator,
                    fps_den=fps.denominator,
                    width=width,
                    height=height,
                    aspect_num=ratio.numerator,
                    aspect_den=ratio.denominator,
                )
            )
        production = Production(config, database, store, resolve_actor(actor, config))
        production._fps = fps
        return production
    except BaseException:
        if database is not None:
            database.close()
        remove_partial_project(root, created_root=created_root)
        raise
