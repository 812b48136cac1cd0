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
"""

from __future__ import annotations

import getpass
import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.errors import ConflictError, InvalidInputError, ProjectError

__all__ = [
    "CONFIG_NAME",
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
    database = data.get("database", {})
    media = data.get("media", {})
    user = data.get("user", {})
    if not all(isinstance(section, dict) for section in (database, media, user)):
        raise ProjectError(f"{root / CONFIG_NAME}: [database], [media] and [user] must be tables")
    url = database_url or os.environ.get("SETPIECE_DATABASE_URL") or database.get("url")
    if not url:
        from setpiece.store.db import sqlite_url

        url = sqlite_url(root / STATE_DIR / DB_NAME)
    media_url = media.get("url") or str(root / MEDIA_DIR)
    if "://" not in media_url and not Path(media_url).is_absolute():
        media_url = str(root / media_url)
    options = media.get("storage_options", {})
    if not isinstance(options, dict):
        raise ProjectError(f"{root / CONFIG_NAME}: media.storage_options must be a table")
    return ProjectConfig(
        root=root,
        database_url=url,
        media_url=media_url,
        media_options=options,
        user=user.get("name"),
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
