"""Opening databases: migrations on open, one schema history, refusing what is not ours."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from setpiece.errors import ConflictError, SchemaError, StorageError
from setpiece.production import shots
from setpiece.production.context import Production
from setpiece.store.db import Database, migration_heads, sqlite_url


def test_one_migration_head_and_it_is_the_known_one() -> None:
    from setpiece.store.db import SCHEMA_HEAD

    assert migration_heads() == [SCHEMA_HEAD]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrated_schema_matches_the_models(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from setpiece.model.orm import Base

    url = (
        sqlite_url(tmp_path / "a.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    )
    database = Database(url)
    try:
        with database.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []
    finally:
        database.close()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(sqlite_url(tmp_path / "a.db"))
    try:
        with database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        database.close()


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Database(sqlite_url(path)).close()
    engine = create_engine(sqlite_url(path))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff9999'"))
    with pytest.raises(SchemaError, match="newer than this Setpiece knows"):
        Database(sqlite_url(path))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "ffff9999"
    engine.dispose()


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    engine = create_engine(sqlite_url(path))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER)"))
    engine.dispose()
    with pytest.raises(SchemaError, match="no Setpiece database"):
        Database(sqlite_url(path))


def test_garbage_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SchemaError, match="cannot be read"):
        Database(sqlite_url(path))


def test_unreachable_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot open database"):
        Database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_concurrent_status_changes_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """Two transactions read the same shot; the second to commit is refused, not applied."""
    from setpiece.model.orm import Shot
    from setpiece.production.context import init_production

    with init_production(tmp_path / "film", database_url=pg_url, actor="ana") as prod:
        from setpiece.production.scenes import add_scene

        add_scene(prod, "INT. A - DAY", number="1")
        shots.add_shot(prod, "1", "1A")
        both_read = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def change(name: str, status: str, delay_commit: bool) -> None:
            try:
                with prod.transaction() as session:
                    shot = session.query(Shot).filter_by(code="1A").one()
                    both_read.wait(timeout=10)
                    shot.status = status
                    if delay_commit:
                        first_done.wait(timeout=10)
                    session.flush()
                outcomes[name] = "ok"
            except ConflictError as exc:
                outcomes[name] = str(exc)
            finally:
                if not delay_commit:
                    first_done.set()

        first_done = threading.Event()
        one = threading.Thread(target=change, args=("first", "wip", False))
        two = threading.Thread(target=change, args=("second", "review", True))
        one.start(), two.start()
        one.join(20), two.join(20)
        assert outcomes["first"] == "ok"
        assert "changed this in the meantime" in outcomes["second"]
        assert shots.get_shot(prod, "1A").status == "wip"


def test_project_reopens_on_postgresql_from_toml(tmp_path: Path, pg_url: str) -> None:
    from setpiece.production.context import init_production

    init_production(tmp_path / "film", database_url=pg_url).close()
    assert "postgresql" in (tmp_path / "film" / "setpiece.toml").read_text()
    with Production.open(tmp_path / "film") as prod:
        assert prod.db.dialect == "postgresql"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_project_with_rows_upgrades_in_place(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Every migration applies to a database that already holds a film, written by the oldest schema."""
    from alembic import command

    from setpiece.store.db import _alembic_config

    url = (
        sqlite_url(tmp_path / "old.db")
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO projects (name, fps_num, fps_den, width, height, aspect_num, aspect_den, created_at) "
                "VALUES ('Old', 24, 1, 1920, 1080, 16, 9, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO scenes (number, heading, position, omitted, version, created_at) "
                "VALUES ('1', 'INT. OLD - DAY', 1, false, 1, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO bible_entries (kind, name, description, created_at) "
                "VALUES ('character', 'ANNA', '', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    database = Database(url)
    try:
        with database.engine.connect() as conn:
            assert (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                == migration_heads()[0]
            )
            row = conn.execute(text("SELECT heading, needs_review, eighths FROM scenes")).one()
            assert (row[0], bool(row[1]), row[2]) == ("INT. OLD - DAY", False, None)
            assert not conn.execute(text("SELECT candidate FROM bible_entries")).scalar()
    finally:
        database.close()
