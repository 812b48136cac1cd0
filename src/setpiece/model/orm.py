"""SQLAlchemy tables of a production: one database holds one film.

Why one film a database: every unique rule the set needs ("shot 12A exists
once") is then a plain unique constraint, and a studio that hosts several films
on one PostgreSQL server gives each its own database or schema.

Design decisions kept here:
- Takes have a short random id (``TAKE_ID_ALPHABET``) that never changes and is
  printed everywhere; ``SHOT/NUMBER`` is the human alias.
- The recipe of a take lives in typed columns on the take, not a free-form blob:
  other capabilities (generation, provenance) read the same fields.
- Shots, scenes and takes carry a version column: an update that was based on a
  stale read fails instead of overwriting someone else's change.
- Media rows are keyed by sha256; the files live in the content-addressed store.
- Media rows are referenced by a foreign key to ``media.sha256``, or, inside JSON, by a
  column whose ``info[MEDIA_HASHES]`` reads the hashes out of its value: what ``fsck``
  counts as in use is read from these declarations, never from a list kept elsewhere.
- Findings of every check share one table; the kind-specific part is JSON, one dataclass
  per kind in ``setpiece.model.findings``.
- History is an append-only event table written by the services.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "MEDIA_HASHES",
    "TAKE_ID_ALPHABET",
    "ApiToken",
    "Appearance",
    "Base",
    "BibleEntry",
    "BibleLook",
    "BibleRef",
    "Comment",
    "Event",
    "Finding",
    "Likeness",
    "Line",
    "LineTake",
    "LoginFailure",
    "Media",
    "Project",
    "ReferenceFrame",
    "ReferenceWork",
    "RenderJob",
    "Scene",
    "Shot",
    "ShotSubject",
    "Take",
    "User",
    "new_take_id",
    "utcnow",
]

# Crockford's base32 without look-alikes (no i, l, o, u): safe to read aloud and type.
TAKE_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
TAKE_ID_LENGTH = 8

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_take_id() -> str:
    """A fresh 8-character take id (40 bits: collisions are checked by the primary key)."""
    return "".join(secrets.choice(TAKE_ID_ALPHABET) for _ in range(TAKE_ID_LENGTH))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")

MEDIA_HASHES = "media_hashes"  # Column.info key: a function reading media hashes from the value


def _listed_hashes(value: Any) -> list[str]:
    return [h for h in value or [] if isinstance(h, str)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Project(Base):
    """The film: there is one row."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    fps_num: Mapped[int] = mapped_column(Integer)
    fps_den: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    aspect_num: Mapped[int] = mapped_column(Integer)
    aspect_den: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def aspect(self) -> Fraction:
        return Fraction(self.aspect_num, self.aspect_den)


class User(Base):
    """A member of the production. Until the first user exists nobody's role is checked."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # ``model.names.fold_user_name(name)``: every lookup by name compares this, so ``VIC`` is
    # ``vic`` and two members cannot differ only in case or Unicode form.
    name_key: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Unused since 0008 (login failures are counted per name and address in
    # ``login_failures``); kept so older servers of a shared project still run.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sessions: a cookie names the generation it was made in; raising it ends them all.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A one-time password (``user add``, an admin's reset) logs in once, then must be changed.
    password_one_time: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    one_time_spent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LoginFailure(Base):
    """Failed logins for one name from one client address, and the lock they earned.

    Keyed by the folded name, not the user, so an unknown name is counted and locked
    exactly like a real one (the answers cannot tell them apart), and by address, so a
    stranger's failures never lock the member out where they really log in from.
    """

    __tablename__ = "login_failures"

    name_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    address: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApiToken(Base):
    """A Bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Scene(Base):
    __tablename__ = "scenes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    heading: Mapped[str] = mapped_column(Text)
    int_ext: Mapped[str | None] = mapped_column(String(10))
    location: Mapped[str | None] = mapped_column(String(200))
    time_of_day: Mapped[str | None] = mapped_column(String(50))
    synopsis: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, index=True)
    omitted: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # From the screenplay (``script import``); empty for scenes added by hand.
    eighths: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)

    shots: Mapped[list[Shot]] = relationship(back_populates="scene", order_by="Shot.position")
    appearances: Mapped[list[Appearance]] = relationship(
        back_populates="scene", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class Shot(Base):
    __tablename__ = "shots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[str | None] = mapped_column(String(10))
    angle: Mapped[str | None] = mapped_column(String(50))
    lens_mm: Mapped[float | None] = mapped_column(Float)
    camera_move: Mapped[str | None] = mapped_column(String(50))
    planned_frames: Mapped[int | None] = mapped_column(Integer)
    # Replaces the composed prompt, or extends it when it starts with "+".
    prompt_override: Mapped[str | None] = mapped_column(Text)
    # The ComfyUI workflow file its renders use (relative to the project folder), if any.
    workflow: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="todo", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100))

    scene: Mapped[Scene] = relationship(back_populates="shots")
    subjects: Mapped[list[ShotSubject]] = relationship(
        back_populates="shot", order_by="ShotSubject.position", cascade="all, delete-orphan"
    )
    takes: Mapped[list[Take]] = relationship(back_populates="shot", order_by="Take.number")

    __mapper_args__ = {"version_id_col": version}


class BibleEntry(Base):
    """A character, location, prop or style: what continuity is held against."""

    __tablename__ = "bible_entries"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_bible_entries_kind_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # A prop found in the script's action, not yet confirmed by a person.
    candidate: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What a take's picture depends on (name, description, references): raised by each edit
    # of them (``production.bible``), recorded on every take made from it (``Take.bible``).
    # Every UPDATE compares it, so of two people editing one entry at once one gets a conflict.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Former names (``set --rename``): shots, prompts and script imports still resolve them.
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The script's introduction ("MARA (60s, grey braid)"): offered, never written over a
    # person's description (``character accept``).
    candidate_description: Mapped[str | None] = mapped_column(Text)
    # A character's voice: ``{"backend", "voice", "rate", "pitch", "sample"}`` (``sample`` the
    # sha256 of a reference recording for a backend that clones). Not part of ``version``: a
    # voice changes what a line sounds like, not what a take shows; a dialogue take is stale
    # when the voice it recorded differs from this (``production.dialogue``).
    voice: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    refs: Mapped[list[BibleRef]] = relationship(
        back_populates="entry", order_by="BibleRef.position", cascade="all, delete-orphan"
    )
    looks: Mapped[list[BibleLook]] = relationship(
        back_populates="entry", order_by="BibleLook.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class BibleLook(Base):
    """A character's look over a run of scenes (wardrobe, hair): in force from ``from_scene``
    to ``to_scene`` (None: to the end), by the scenes' script order."""

    __tablename__ = "bible_looks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("bible_entries.id", ondelete="CASCADE"), index=True
    )
    from_scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id"))
    to_scene_id: Mapped[int | None] = mapped_column(ForeignKey("scenes.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[list[str]] = mapped_column(
        JSONType, default=list, info={MEDIA_HASHES: _listed_hashes}
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[BibleEntry] = relationship(back_populates="looks")
    from_scene: Mapped[Scene] = relationship(foreign_keys=[from_scene_id])
    to_scene: Mapped[Scene | None] = relationship(foreign_keys=[to_scene_id])

    __mapper_args__ = {"version_id_col": version}


class Likeness(Base):
    """A character that is the likeness of a real person, and the consent that allows it.

    The consent document is named by its content hash (and the file it was read from), not
    copied: it is the production's paperwork, kept where contracts are kept.
    """

    __tablename__ = "likenesses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("bible_entries.id", ondelete="CASCADE"), unique=True
    )
    person: Mapped[str] = mapped_column(String(300))
    consent_sha256: Mapped[str | None] = mapped_column(String(64))
    consent_file: Mapped[str | None] = mapped_column(Text)
    consent_size: Mapped[int | None] = mapped_column(BigInteger)
    consent_date: Mapped[str | None] = mapped_column(String(10))  # ISO 8601 date
    scope: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(100))

    entry: Mapped[BibleEntry] = relationship()


class Appearance(Base):
    """A character, prop or location in a scene, as the script has it (the breakdown)."""

    __tablename__ = "appearances"
    __table_args__ = (UniqueConstraint("scene_id", "entry_id", name="uq_appearances_scene_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bible_entries.id"), index=True)
    dialogue_lines: Mapped[int] = mapped_column(Integer, default=0)

    scene: Mapped[Scene] = relationship(back_populates="appearances")
    entry: Mapped[BibleEntry] = relationship()


class BibleRef(Base):
    """A reference image of a bible entry."""

    __tablename__ = "bible_refs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bible_entries.id"), index=True)
    media_sha256: Mapped[str] = mapped_column(ForeignKey("media.sha256"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    entry: Mapped[BibleEntry] = relationship(back_populates="refs")
    media: Mapped[Media] = relationship()


class ShotSubject(Base):
    """A character or prop in a shot, with its blocking."""

    __tablename__ = "shot_subjects"
    __table_args__ = (UniqueConstraint("shot_id", "entry_id", name="uq_shot_subjects_shot_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bible_entries.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    side: Mapped[str | None] = mapped_column(String(10))
    depth: Mapped[str | None] = mapped_column(String(12))
    prompt_override: Mapped[str | None] = mapped_column(Text)

    shot: Mapped[Shot] = relationship(back_populates="subjects")
    entry: Mapped[BibleEntry] = relationship()


class Media(Base):
    """A file in the content-addressed store, as probed at import."""

    __tablename__ = "media"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(10))
    ext: Mapped[str] = mapped_column(String(10))
    container: Mapped[str] = mapped_column(String(50))
    codec: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    fps_num: Mapped[int | None] = mapped_column(Integer)
    fps_den: Mapped[int | None] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    audio_streams: Mapped[int] = mapped_column(Integer, default=0)
    original_name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def key(self) -> str:
        return f"{self.sha256[:2]}/{self.sha256}{self.ext}"

    @property
    def fps(self) -> Fraction | None:
        if self.fps_num is None or self.fps_den is None:
            return None
        return Fraction(self.fps_num, self.fps_den)


def _request_hashes(value: Any) -> list[str]:
    """A stored render request's media: its first frame and its reference images."""
    if not isinstance(value, dict):
        return []
    return _listed_hashes([value.get("init_image"), *(value.get("references") or [])])


class Take(Base):
    """One generation (or import) for a shot, with the full recipe to make it again."""

    __tablename__ = "takes"
    __table_args__ = (UniqueConstraint("shot_id", "number", name="uq_takes_shot_number"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_take_id)
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    media_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
    # The recipe.
    backend: Mapped[str | None] = mapped_column(String(100))
    model_name: Mapped[str | None] = mapped_column(String(200))
    model_hash: Mapped[str | None] = mapped_column(String(128))
    prompt: Mapped[str | None] = mapped_column(Text)
    negative_prompt: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reference_hashes: Mapped[list[str]] = mapped_column(
        JSONType, default=list, info={MEDIA_HASHES: _listed_hashes}
    )
    parent_take_id: Mapped[str | None] = mapped_column(ForeignKey("takes.id"))
    # A derived take's operations from its first ancestor, oldest first, its own last, as
    # ``setpiece.model.operations.Operation`` records; empty for a take made from nothing.
    operations: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    failure: Mapped[str | None] = mapped_column(Text)  # why a failed take failed
    # The exact graph the generator was sent (a ComfyUI workflow after substitution).
    workflow_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"))
    # What measuring the take found (motion: warping error, flicker, frozen runs...).
    measures: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=dict)
    # The bible that went into it: one record per entry (and look) with its version then,
    # ``{"entry_id", "entry", "version", "look_id", "look", "look_version"}``; a take is
    # stale when one of them has moved since (``production.stale``).
    bible: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    shot: Mapped[Shot] = relationship(back_populates="takes")
    media: Mapped[Media | None] = relationship(foreign_keys="Take.media_sha256")

    __mapper_args__ = {"version_id_col": version}


class RenderJob(Base):
    """One take to make: the durable render queue.

    A worker leases a job (``lease_owner``, ``lease_expires_at``) and keeps the lease alive
    with heartbeats; a job whose lease ran out is picked up again. ``done`` is final, so a
    finished take is never made twice; retries wait until ``next_attempt_at``.
    """

    __tablename__ = "render_jobs"
    __table_args__ = (Index("ix_render_jobs_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # A picture job's take; NULL for a speech job (``line_take_id``), which the picture
    # claim never leases (``generate/queue/_speech.py`` works those).
    take_id: Mapped[str] = mapped_column(ForeignKey("takes.id"), index=True, nullable=True)
    line_take_id: Mapped[str | None] = mapped_column(ForeignKey("line_takes.id"), index=True)
    generator: Mapped[str] = mapped_column(String(100))
    request: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, info={MEDIA_HASHES: _request_hashes}
    )
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The render request that queued it (``generate/queue/_enqueue.py``): the same request
    # again resumes its pending jobs instead of queueing more.
    request_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # When its generator was first found unreachable; cleared by the next answer.
    outage_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    take: Mapped[Take] = relationship()


class Line(Base):
    """A line of dialogue: one dialogue block of the script, named ``SCENE/NUMBER`` ("3/5").

    ``number`` names it and never changes; ``position`` is its place in the scene as the
    script has it now. A revision that drops a line marks it omitted, never deletes it.
    """

    __tablename__ = "lines"
    __table_args__ = (UniqueConstraint("scene_id", "number", name="uq_lines_scene_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    character: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("bible_entries.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    parenthetical: Mapped[str | None] = mapped_column(Text)
    extension: Mapped[str | None] = mapped_column(String(50))  # V.O., O.S., CONT'D
    dual: Mapped[bool] = mapped_column(Boolean, default=False)
    omitted: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    scene: Mapped[Scene] = relationship()
    entry: Mapped[BibleEntry | None] = relationship()
    takes: Mapped[list[LineTake]] = relationship(back_populates="line", order_by="LineTake.number")


class LineTake(Base):
    """An audio take of a line: synthetic speech (queued, with its recipe) or a recording."""

    __tablename__ = "line_takes"
    __table_args__ = (UniqueConstraint("line_id", "number", name="uq_line_takes_line_number"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_take_id)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10))  # synthetic | recorded
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    circled: Mapped[bool] = mapped_column(Boolean, default=False)
    media_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"), index=True)
    # Exact length: ``frames`` samples at ``sample_rate``.
    frames: Mapped[int | None] = mapped_column(BigInteger)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    lufs: Mapped[float | None] = mapped_column(Float)  # integrated loudness, ITU-R BS.1770
    # The recipe: the voice as it was (``BibleEntry.voice``), the text spoken, the seed and
    # what the backend reports it did.
    voice: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    text: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[int | None] = mapped_column(BigInteger)
    recipe: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))

    line: Mapped[Line] = relationship(back_populates="takes")
    media: Mapped[Media | None] = relationship()


class Finding(Base):
    """What a check found: continuity, integrity, motion and later ones all write here."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_kind_shot", "kind", "shot_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    shot_id: Mapped[int | None] = mapped_column(ForeignKey("shots.id"), index=True)
    take_id: Mapped[str | None] = mapped_column(ForeignKey("takes.id"), index=True)
    frame: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")
    evidence_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    shot: Mapped[Shot | None] = relationship()
    take: Mapped[Take | None] = relationship()


class Comment(Base):
    """A note on a shot, optionally on one take and one frame of it."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shot_id: Mapped[int] = mapped_column(ForeignKey("shots.id"), index=True)
    take_id: Mapped[str | None] = mapped_column(ForeignKey("takes.id"), index=True)
    frame: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(Base):
    """One change, with who and when: the production's history. Never updated."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(50))
    before: Mapped[str | None] = mapped_column(String(50))
    after: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Revision(Base):
    """A counter the database itself moves on every change to what a view shows.

    ``shot_list``: shots, scenes, shot subjects, bible names and the number of takes a shot
    has. Triggers (migration 0006) move it, whoever writes (the shot board, the CLI, a render
    worker, plain SQL), so a page cached under a revision is exactly the page while the
    counter stays (``production.board.shots_page``).
    """

    __tablename__ = "revisions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class ReferenceWork(Base):
    """An existing work (film, photograph, artwork) the production must not copy."""

    __tablename__ = "reference_works"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # of the source file
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(1000))  # where it was added from
    kind: Mapped[str] = mapped_column(String(10))  # image | video
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    frames: Mapped[int] = mapped_column(Integer, default=0)  # frames indexed
    media_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by: Mapped[str | None] = mapped_column(String(100))


class ReferenceFrame(Base):
    """One indexed frame of a reference work: its perceptual codes."""

    __tablename__ = "reference_frames"
    __table_args__ = (UniqueConstraint("work_id", "frame", name="uq_reference_frames_work_frame"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_id: Mapped[int] = mapped_column(
        ForeignKey("reference_works.id", ondelete="CASCADE"), index=True
    )
    frame: Mapped[int] = mapped_column(Integer)
    time: Mapped[float] = mapped_column(Float, default=0.0)
    phash: Mapped[int] = mapped_column(BigInteger, index=True)  # 64-bit DCT hash, signed
    codes: Mapped[bytes] = mapped_column(LargeBinary)  # every code of the frame, packed
    thumb_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
