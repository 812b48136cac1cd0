"""Where a project lives: finding it like git does, reading and writing ``setpiece.toml``.

A project is a folder with a ``setpiece.toml``. By default it keeps its
database in ``.setpiece/setpiece.db`` and its media in ``media/``; the toml
may point either elsewhere (PostgreSQL, an S3-compatible bucket) so a team
shares one production::

    [database]
    url = "postgresql://setpiece@db.studio.lan/myfilm"

    [media]
    url = "s3://films/myfilm"
    storage_options = { endpoint_url = "http://minio.studio.lan:9000" }

    [user]
    name = "ana"

Precedence, highest first: command-line option, environment variable
(``SETPIECE_PROJECT``, ``SETPIECE_DATABASE_URL``, ``SETPIECE_USER``), the toml,
the default.

Opening a project refuses a top-level table that no part of Setpiece reads
(:data:`SECTIONS`, the one list of them), so a misspelt ``[integrty]`` is an error
rather than a setting silently ignored. Each section's keys are checked by its owner
through :func:`setpiece.config.load_section`.
"""

from __future__ import annotations

import getpass
import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.config import check_sections, load_section
from setpiece.errors import ConflictError, InvalidInputError, ProjectError

__all__ = [
    "CONFIG_NAME",
    "SECTIONS",
    "ProjectConfig",
    "find_project_root",
    "load_config",
    "resolve_actor",
    "write_config",
]

CONFIG_NAME = "setpiece.toml"
STATE_DIR = ".setpiece"
DB_NAME = "setpiece.db"
MEDIA_DIR = "media"

#: Every top-level table of setpiece.toml, and the module that reads it.
SECTIONS: dict[str, str] = {
    "database": "setpiece.project",
    "media": "setpiece.project",
    "user": "setpiece.project",
    "prompts": "setpiece.generate.settings",
    "render": "setpiece.generate.settings",
    "ray": "setpiece.generate.settings",
    "generators": "setpiece.generate.registry",
    "continuity": "setpiece.continuity.settings",
    "integrity": "setpiece.integrity.settings",
    "motion": "setpiece.motion.config",
    "provenance": "setpiece.provenance.settings",
    "web": "setpiece.web.settings",
    "bible": "setpiece.production.likeness",
    "dialogue": "setpiece.production.dialogue",
}


@dataclass(frozen=True)
class DatabaseSettings:
    """``[database]``: where the production's database is (default: SQLite in the project)."""

    url: str | None = None


@dataclass(frozen=True)
class MediaSettings:
    """``[media]``: where the media are (default: ``media/`` in the project)."""

    url: str | None = None
    storage_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UserSettings:
    """``[user]``: who acts when neither ``--as`` nor ``SETPIECE_USER`` says."""

    name: str | None = None


@dataclass(frozen=True)
class ProjectConfig:
    """A project's resolved locations."""

    root: Path
    database_url: str
    media_url: str
    media_options: dict[str, Any] = field(default_factory=dict)
    user: str | None = None
    settings: dict[str, Any] = field(
        default_factory=dict
    )  # the whole toml: [prompts], [generators.*]

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME


def find_project_root(
    explicit: str | os.PathLike[str] | None = None, start: Path | None = None
) -> Path:
    """The project folder: ``explicit`` (or ``SETPIECE_PROJECT``), else the nearest ancestor with a toml.

    Raises:
        ProjectError: The named folder is no project, or none is found above ``start``.
    """
    named = explicit if explicit is not None else os.environ.get("SETPIECE_PROJECT") or None
    if named is not None:
        root = Path(named).expanduser().resolve()
        if not root.is_dir():
            raise ProjectError(f"project folder {root} does not exist")
        if not (root / CONFIG_NAME).is_file():
            raise ProjectError(
                f"{root} is not a Setpiece project (no {CONFIG_NAME}): run 'setpiece init {root}'"
            )
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ProjectError(
        f"no Setpiece project in {here} or above: run 'setpiece init' or pass --project DIR"
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror}") from exc


def load_config(root: Path, *, database_url: str | None = None) -> ProjectConfig:
    """Reads ``root/setpiece.toml`` and resolves every location.

    Args:
        root: The project folder.
        database_url: Overrides the database (``--db``); else ``SETPIECE_DATABASE_URL``, the toml.
    """
    data = _read_toml(root / CONFIG_NAME)
    check_sections(data, SECTIONS)
    database = load_section(DatabaseSettings, data.get("database"), section="database")
    media = load_section(MediaSettings, data.get("media"), section="media")
    user = load_section(UserSettings, data.get("user"), section="user")
    url = database_url or os.environ.get("SETPIECE_DATABASE_URL") or database.url
    if not url:
        from setpiece.store.db import sqlite_url

        url = sqlite_url(root / STATE_DIR / DB_NAME)
    media_url = media.url or str(root / MEDIA_DIR)
    if "://" not in media_url and not Path(media_url).is_absolute():
        media_url = str(root / media_url)
    return ProjectConfig(
        root=root,
        database_url=url,
        media_url=media_url,
        media_options=media.storage_options,
        user=user.name,
        settings=data,
    )


def write_config(
    root: Path,
    *,
    database_url: str | None = None,
    media_url: str | None = None,
    media_options: dict[str, Any] | None = None,
    user: str | None = None,
) -> Path:
    """Writes a new ``setpiece.toml`` atomically. Refuses to overwrite one."""
    import tomli_w

    path = root / CONFIG_NAME
    if path.exists():
        raise ConflictError(f"{root} is already a Setpiece project ({CONFIG_NAME} exists)")
    data: dict[str, Any] = {}
    if database_url:
        data["database"] = {"url": database_url}
    if media_url or media_options:
        data["media"] = {
            k: v for k, v in (("url", media_url), ("storage_options", media_options)) if v
        }
    if user:
        data["user"] = {"name": user}
    header = (
        "# Setpiece project. The database and media default to .setpiece/ and media/ here;\n"
        "# set [database] url and [media] url to share a production (see the README).\n"
    )
    temp = path.with_name(f".{CONFIG_NAME}.tmp")
    temp.write_text(header + tomli_w.dumps(data), encoding="utf-8")
    os.replace(temp, path)
    return path


def remove_partial_project(root: Path, *, created_root: bool) -> None:
    """Undoes a failed ``init`` so nothing half-written stays behind."""
    if created_root:
        shutil.rmtree(root, ignore_errors=True)
        return
    (root / CONFIG_NAME).unlink(missing_ok=True)
    shutil.rmtree(root / STATE_DIR, ignore_errors=True)
    media = root / MEDIA_DIR
    if media.is_dir() and not any(p for p in media.rglob("*") if p.is_file()):
        shutil.rmtree(media, ignore_errors=True)


def resolve_actor(explicit: str | None, config: ProjectConfig | None) -> str:
    """Who is acting: ``--as``, then ``SETPIECE_USER``, the toml's [user] name, the login name."""
    for candidate in (explicit, os.environ.get("SETPIECE_USER"), config.user if config else None):
        if candidate:
            name = candidate.strip()
            if not name or len(name) > 100 or any(ch.isspace() and ch != " " for ch in name):
                raise InvalidInputError(f"user name {candidate!r} is not usable: 1-100 characters")
            return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
