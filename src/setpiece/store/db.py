"""Opening a production database: SQLite in the project folder, or PostgreSQL by URL.

Opening always brings the schema to this Setpiece's Alembic head, so a user
never runs migrations by hand. A database stamped with a revision this
Setpiece does not know was written by a newer version and is refused before
anything is touched. Concurrent first opens are serialised (a file lock for
SQLite, an advisory lock for PostgreSQL), so two commands started together
cannot both try to create the tables.

SQLite runs in WAL mode with foreign keys on and ``synchronous=FULL``: a
committed take survives a crash of the process or the machine.

A SQLite database in a folder this process cannot write (a read-only disk, a project
shared read-only) is opened immutable (``Database.read_only``): WAL needs its ``-shm``
file beside the database even to read, so without this nothing at all could be read.
Reads work; the first write fails, and ``Production`` says which folder is read-only.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.errors import InvalidInputError, SchemaError, StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import sessionmaker

__all__ = [
    "MIGRATIONS_DIR",
    "Database",
    "RevisionCache",
    "migration_heads",
    "safe_url",
    "sqlite_url",
]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest migration. Opening a database already at this revision needs no Alembic at all
# (loading the migration scripts costs about 0.15 s a command); tests/store/test_db.py checks
# that this equals the real head, so a new migration must update it.
SCHEMA_HEAD = "0013"
# The execution option that marks a read-only transaction (``Database.read_sessions``).
READ_ONLY = "setpiece_read_only"
_PG_LOCK_KEY = 0x5E791ECE  # "setpiece" as a 32-bit advisory lock key


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages.

    A URL SQLAlchemy cannot parse is shown as ``scheme://***@host/...`` (everything before
    the last ``@``, user and password, masked; the query, which may hold a password, left
    out), or as ``<unparseable URL>`` when it has no ``scheme://``. What happened is logged
    with the error's type only: its message may quote the URL.
    """
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception as exc:
        log.warning(
            "a database URL could not be parsed (%s); it is shown with its credentials masked",
            type(exc).__name__,
        )
        return _masked_url(url)


def _masked_url(url: str) -> str:
    scheme, separator, rest = url.partition("://")
    if not separator or not scheme:
        return "<unparseable URL>"
    rest = rest.split("?", 1)[0]
    if "@" in rest:
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return f"{scheme}://{rest}"


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migration_heads() -> list[str]:
    """Every head of the migration history; exactly one when the history is sound."""
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(_alembic_config()).get_heads())


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, None for an in-memory database."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    return Path(database).absolute() if database and database != ":memory:" else None


def _normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class RevisionCache:
    """Views computed under a revision of the database (``model.orm.Revision``), least
    recently used out first. Thread-safe; a key carries the revision it was computed under,
    so a changed database simply stops finding the old entries.
    """

    def __init__(self, size: int = 256) -> None:
        from collections import OrderedDict

        self.size = size
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


class Database:
    """An open production database with its schema at head.

    Args:
        url: An SQLAlchemy URL: ``sqlite+pysqlite:///path`` or ``postgresql://...``
            (psycopg 3 is used for PostgreSQL).
        migrate: Bring the schema to head (default). ``False`` only checks it.

    Raises:
        StorageError: The database cannot be reached.
        SchemaError: The database is from a newer Setpiece, or is no Setpiece database.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = _normalise_url(url)
        self.read_only = False  # a SQLite file in a folder we cannot write: reads only
        self.engine = self._create_engine()
        try:
            self._check_and_migrate(migrate)
        except BaseException:
            self.engine.dispose()
            raise
        from sqlalchemy import event
        from sqlalchemy.orm import sessionmaker

        self.sessions: sessionmaker[Any] = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions: sessionmaker[Any] = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

        # SQLite readers of one process take turns. Several threads reading at once contend for
        # the WAL's shared-memory locks, and SQLite backs off by sleeping: 8 threads reading
        # shot-list pages took 5.5 ms a page, taking turns 2.6 ms (one thread alone: 1.9 ms).
        # Reentrant: a read may nest inside another on the same thread.
        self.read_turn: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self.dialect == "sqlite" else contextlib.nullcontext()
        )

        self.views = RevisionCache()

        @event.listens_for(self.read_sessions, "before_flush")
        def _refuse_writes(*_: Any) -> None:
            raise RuntimeError("a read-only transaction tried to write: use a write transaction")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def _create_engine(self) -> Engine:
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import ArgumentError

        try:
            if self.url.startswith("sqlite"):
                url = self.url
                path = _sqlite_file(url)
                if path is not None and path.is_file() and not os.access(path.parent, os.W_OK):
                    self.read_only = True
                    url = f"sqlite+pysqlite:///file:{path}?mode=ro&immutable=1&uri=true"
                engine = create_engine(url, connect_args={"timeout": 30})

                @event.listens_for(engine, "connect")
                def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                    # Take transaction control from pysqlite so BEGIN is ours (SQLAlchemy docs).
                    dbapi_connection.isolation_level = None
                    cursor = dbapi_connection.cursor()
                    cursor.execute("PRAGMA journal_mode=WAL")
                    cursor.execute("PRAGMA foreign_keys=ON")
                    cursor.execute("PRAGMA synchronous=FULL")
                    cursor.execute("PRAGMA busy_timeout=30000")
                    cursor.close()

                @event.listens_for(engine, "begin")
                def _begin(conn: Any) -> None:
                    # IMMEDIATE: writers queue up at BEGIN instead of failing at COMMIT. Readers
                    # (``Production.transaction(read_only=True)``) begin DEFERRED: under WAL they
                    # read a snapshot without taking the write lock, so they never wait for a
                    # writer nor for each other (taking it cost the shot board p99 over 1 s at
                    # 50 clients: SQLite's busy handler sleeps up to 100 ms between tries).
                    reading = conn.get_execution_options().get(READ_ONLY, False)
                    conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

                return engine
            return create_engine(self.url, pool_pre_ping=True)
        except (ArgumentError, ImportError, ValueError) as exc:
            raise InvalidInputError(f"cannot use database URL {safe_url(self.url)}: {exc}") from exc

    @contextlib.contextmanager
    def _migration_lock(self, connection: Connection) -> Iterator[None]:
        if self.dialect == "postgresql":
            from sqlalchemy import text

            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            yield
        elif self.dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            lock_path = Path(str(self.engine.url.database) + ".lock")
            with open(lock_path, "a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        else:
            yield

    def _at_head(self) -> bool:
        """The fast path: one query, no Alembic, when the schema is already current."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        try:
            with self.engine.connect() as connection:
                current = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar()
        except DBAPIError:
            return False  # no table yet, or not a database we can read: the full check says which
        return current == SCHEMA_HEAD

    def _check_and_migrate(self, migrate: bool) -> None:
        if self._at_head():
            return
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from sqlalchemy import inspect
        from sqlalchemy.exc import DatabaseError, OperationalError

        script = ScriptDirectory.from_config(_alembic_config())
        known = {rev.revision for rev in script.walk_revisions()}
        head = script.get_current_head()
        try:
            with self.engine.begin() as connection, self._migration_lock(connection):
                current = MigrationContext.configure(connection).get_current_revision()
                if current is None:
                    tables = set(inspect(connection).get_table_names())
                    if tables - {"alembic_version"}:
                        raise SchemaError(
                            f"database {safe_url(self.url)} holds tables but is no Setpiece "
                            "database: point --db at an empty database or a Setpiece one"
                        )
                elif current not in known:
                    raise SchemaError(
                        f"database schema {current} is newer than this Setpiece knows "
                        f"(latest {head}): upgrade Setpiece to open it"
                    )
                if current == head:
                    return
                if not migrate:
                    raise SchemaError(f"database schema is at {current}, not {head}")
                from alembic import command

                command.upgrade(_alembic_config(connection), "head")
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StorageError(f"cannot open database {safe_url(self.url)}: {reason}") from exc
        except DatabaseError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise SchemaError(
                f"database {safe_url(self.url)} cannot be read as a Setpiece database: {reason}"
            ) from exc
