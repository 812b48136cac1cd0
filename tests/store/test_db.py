"""Opening databases: migrations on open, one schema history, refusing what is not ours."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from setpiece.errors import ConflictError, SchemaError, StorageError
from setpiece.production import shots
from setpiece.production.context import Production
from setpiece.store.db import SCHEMA_HEAD, Database, migration_heads, sqlite_url


def test_one_migration_head_and_it_is_the_known_one() -> None:

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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_derived_takes_operations_move_out_of_the_parameters(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """0007 moves the reserved ``operation``/``operations`` keys to ``takes.operations``, and back."""
    import sqlalchemy as sa
    from alembic import command
    from sqlalchemy.dialects import postgresql

    from setpiece.store.db import _alembic_config

    url = (
        sqlite_url(tmp_path / "old.db")
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    takes = sa.table(
        "takes",
        sa.column("id", sa.String()),
        sa.column("shot_id", sa.Integer()),
        sa.column("number", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("status", sa.String()),
        sa.column("provisional", sa.Boolean()),
        sa.column("version", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("parameters", json_type),
        sa.column("reference_hashes", json_type),
        sa.column("parent_take_id", sa.String()),
    )
    match = {"name": "colour_match", "version": 1, "to": "t0", "method": "histogram"}
    retime = {"name": "retime", "version": 1, "fps": "24/1"}
    old_parameters = {
        "t0": {"origin": "trained", "steps": 30},
        "t1": {"origin": "trained", "steps": 30, "operations": [], "operation": match},
        "t2": {"origin": "trained", "steps": 30, "operations": [match], "operation": retime},
    }
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0006")
        conn.execute(
            text(
                "INSERT INTO scenes (number, heading, position, omitted, version, created_at) "
                "VALUES ('1', 'INT. OLD - DAY', 1, false, 1, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO shots (code, scene_id, position, description, status, version, "
                "created_at, updated_at) SELECT '1A', id, 1, '', 'wip', 1, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP FROM scenes"
            )
        )
        shot_id = conn.execute(text("SELECT id FROM shots")).scalar()
        for number, (take_id, parameters) in enumerate(old_parameters.items(), start=1):
            conn.execute(
                takes.insert().values(
                    id=take_id,
                    shot_id=shot_id,
                    number=number,
                    kind="image",
                    status="ready",
                    provisional=False,
                    version=1,
                    created_at=sa.func.current_timestamp(),
                    parameters=parameters,
                    reference_hashes=[],
                    parent_take_id=None if take_id == "t0" else f"t{number - 2}",
                )
            )
    engine.dispose()

    moved = sa.table(
        "takes",
        sa.column("id", sa.String()),
        sa.column("parameters", json_type),
        sa.column("operations", json_type),
    )
    Database(url).close()  # opening upgrades to head
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(sa.select(moved))}
        kept = {"origin": "trained", "steps": 30}
        assert {k: (r.parameters, r.operations) for k, r in rows.items()} == {
            "t0": (kept, []),
            "t1": (kept, [match]),
            "t2": (kept, [match, retime]),
        }
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0006")
        with engine.connect() as conn:
            restored = {r.id: r.parameters for r in conn.execute(sa.select(takes))}
        assert restored == old_parameters
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://anna:s3cret@db.example:notaport/film",
            "postgresql://***@db.example:notaport/film",
        ),
        (
            "postgresql://anna:s3cret@db.example:x/film?password=s3cret",
            "postgresql://***@db.example:x/film",
        ),
        ("anna:s3cret@db.example", "<unparseable URL>"),
    ],
)
def test_an_unparseable_url_never_shows_its_password(
    url: str, shown: str, caplog: pytest.LogCaptureFixture
) -> None:
    from setpiece.store.db import safe_url

    with caplog.at_level("WARNING", logger="setpiece.store.db"):
        assert safe_url(url) == shown
    assert "could not be parsed" in caplog.text and "s3cret" not in caplog.text


def test_a_parseable_url_hides_its_password_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from setpiece.store.db import safe_url

    assert (
        safe_url("postgresql://anna:s3cret@db.example/film")
        == "postgresql://anna:***@db.example/film"
    )
    assert caplog.records == []


def _users_at_0007(url: str, names: list[str]) -> None:
    """A database at 0007 (opened at head, then downgraded) holding members ``names``."""
    from alembic import command

    from setpiece.store.db import _alembic_config

    Database(url).close()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0007")
            for name in names:
                conn.execute(
                    text(
                        "INSERT INTO users (name, role, failed_logins, created_at) "
                        "VALUES (:name, 'admin', 0, CURRENT_TIMESTAMP)"
                    ),
                    {"name": name},
                )
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0008_refuses_names_that_fold_together_and_names_them(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Issue 20: ``vic`` and ``VIC`` cannot both stay members once names fold; nothing changes."""
    import sqlalchemy as sa

    url = (
        sqlite_url(tmp_path / "a.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    )
    _users_at_0007(url, ["vic", "ana", "VIC"])
    with pytest.raises(SchemaError) as refused:
        Database(url).close()
    message = str(refused.value)
    assert "users 'vic' and 'VIC' are the same name" in message
    assert "\n" not in message
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0007"
            columns = {c["name"] for c in sa.inspect(conn).get_columns("users")}
            assert "name_key" not in columns
            assert "login_failures" not in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0008_keys_existing_names_by_their_folded_form(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        sqlite_url(tmp_path / "a.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    )
    _users_at_0007(url, ["Vic", "\uff41\uff4e\uff41"])  # fullwidth "ana"
    database = Database(url)
    try:
        with database.engine.connect() as conn:
            keys = dict(conn.execute(text("SELECT name, name_key FROM users")).all())
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert head == SCHEMA_HEAD
    finally:
        database.close()
    assert keys == {"Vic": "vic", "\uff41\uff4e\uff41": "ana"}


def test_0008_refusal_reaches_the_command_line_as_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from setpiece.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["init", "film"]) == 0
    capsys.readouterr()
    _users_at_0007(sqlite_url(tmp_path / "film" / ".setpiece" / "setpiece.db"), ["vic", "VIC"])
    assert main(["-C", "film", "--as", "vic", "user", "list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "users 'vic' and 'VIC' are the same name" in err[0]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0009_keeps_members_their_sessions_and_passwords(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Members from before session generations keep their cookies (generation 0) and their
    passwords, marked as chosen; downgrading drops only the new columns."""
    from alembic import command

    from setpiece.store.db import _alembic_config

    url = (
        sqlite_url(tmp_path / "old.db")
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "0008")
            conn.execute(
                text(
                    "INSERT INTO users (name, name_key, role, password_hash, failed_logins, "
                    "created_at) VALUES ('ana', 'ana', 'admin', 'h', 0, CURRENT_TIMESTAMP)"
                )
            )
        Database(url).close()  # opening upgrades to head
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT name, password_hash, session_generation, password_one_time, "
                    "one_time_spent FROM users"
                )
            ).all()
        assert [tuple(r) for r in rows] == [("ana", "h", 0, False, False)]
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0008")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name, password_hash FROM users")).all() == [
                ("ana", "h")
            ]
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0010_gives_every_entry_version_1_and_drops_cleanly(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Entries from before the living bible are at version 1 with no aliases or candidate;
    downgrading drops the new tables and columns and keeps the entries."""
    from alembic import command

    from setpiece.store.db import _alembic_config

    url = (
        sqlite_url(tmp_path / "old.db")
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "0009")
            conn.execute(
                text(
                    "INSERT INTO bible_entries (kind, name, description, candidate, created_at) "
                    "VALUES ('character', 'MARA', 'grey braid', false, CURRENT_TIMESTAMP)"
                )
            )
        Database(url).close()  # opening upgrades to head
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT name, version, aliases, candidate_description FROM bible_entries")
            ).one()
            assert conn.execute(text("SELECT count(*) FROM bible_looks")).scalar() == 0
        assert (row[0], row[1], row[3]) == ("MARA", 1, None)
        assert row[2] in ([], "[]")
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0009")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name, description FROM bible_entries")).all() == [
                ("MARA", "grey braid")
            ]
    finally:
        engine.dispose()
