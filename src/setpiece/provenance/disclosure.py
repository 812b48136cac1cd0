"""The AI-use disclosure of a film: where AI was used, with which models, and who decided.

Festivals, guilds and distributors ask for this; the answer must come from the
records, never from a guess. Everything here is read from the database:

- the cut is ``setpiece.production.cut.assemble`` (a delivery passes the very cut it
  delivered, ``setpiece.pipeline.deliver``), so the running-time share is the share of
  the cut's frames;
- a clip's picture is what its take's recipe records made it (its ``Origin``, which a
  derived take keeps from its source; for takes recorded before origins were, read
  from the generator's name): **AI-generated** when a trained model made it (diffusion,
  hosted models); **previs** when a procedure drew it with no AI model (the previs
  renderer), counted apart and never as AI; **captured** when a camera made it or
  nobody said (imported with no generator); **AI-assisted** when such a captured take
  was changed by an operation (a derived take); a slate is **none**;
- human decisions are the ``approve`` events of the history table (who circled
  which take, when); a provisional pick made by automation is counted unapproved;
- the credits block lists the project's members and their roles (users table),
  with the decisions each made;
- likenesses: every character recorded as a real person's likeness
  (``character likeness``), with the person, and the consent on record (its date, scope
  and the document's SHA-256), or "no consent on record";
- voices: each line the cut speaks (``model.dialogue.LineAudio``, the take production
  chose) is disclosed as **synthetic speech**, with its voice backend and voice, or as
  **recorded**; and per character, the voices that speak its lines. A backend that
  speaks by rule with no trained model (``RULE_BASED_VOICES``: espeak) is
  ``algorithm``; any other synthetic voice is ``trained``.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.model.enums import Origin, TakeStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from setpiece.model.dialogue import LineAudio
    from setpiece.model.orm import Take
    from setpiece.production.context import Production
    from setpiece.production.cut import Cut
    from setpiece.production.likeness import ConsentRecord

__all__ = [
    "RULE_BASED_VOICES",
    "Decision",
    "Disclosure",
    "LineDisclosure",
    "ShotDisclosure",
    "VoiceDisclosure",
    "beside",
    "disclosure",
    "write_beside",
    "write_html",
    "write_json",
]

GENERATED = "ai-generated"
PREVIS = "previs"
ASSISTED = "ai-assisted"
CAPTURED = "captured"
NONE = "none"
PREVIS_WORDS = "previs drawings (procedural, no AI model)"
SYNTHETIC = "synthetic"
RECORDED = "recorded"
RULE_BASED_VOICES = frozenset({"espeak", "espeak-ng"})
"""Voice backends that speak by rule (formant synthesis), with no trained model."""


@dataclass(frozen=True)
class Decision:
    """One person's approval of a take."""

    actor: str
    role: str | None
    take: str
    take_label: str
    at: datetime
    note: str | None


@dataclass(frozen=True)
class ShotDisclosure:
    """What the cut shows for one shot, and how it was made."""

    scene: str
    shot: str
    take: str | None
    take_label: str | None
    picture: str  # ai-generated | previs | ai-assisted | captured | none
    generator: str | None
    model: str | None
    origin: str | None  # trained | algorithm | captured, None: nothing recorded (or a slate)
    operations: list[str]
    frames: int
    approved: bool
    approved_by: str | None
    approved_at: datetime | None
    status: str | None  # circled, provisional, unapproved, None for slates


@dataclass(frozen=True)
class LineDisclosure:
    """How one line the cut speaks was voiced."""

    line: str  # "3/5"
    scene: str
    shot: str
    character: str
    speech: str  # synthetic | recorded
    backend: str | None  # "espeak"; None when recorded
    voice: str | None  # "espeak:en-us+m3"
    origin: str  # trained | algorithm | captured

    @property
    def made_by(self) -> str:
        """What made the speech, in words ("rule-based synthesis, no AI model")."""
        return _VOICE_WORDS[self.origin]


@dataclass(frozen=True)
class VoiceDisclosure:
    """A character's lines and the voices that speak them."""

    character: str
    lines: int
    synthetic: int
    voices: list[str]  # "espeak:en-us+m3"; "recorded" for recorded lines


def voice_origin(line: LineAudio) -> Origin:
    """What made a line's speech: a person (recorded), a rule, or a trained model."""
    if line.source != SYNTHETIC:
        return Origin.CAPTURED
    backend = (line.voice or "").split(":", 1)[0]
    return Origin.ALGORITHM if backend in RULE_BASED_VOICES else Origin.TRAINED


def _line_disclosures(lines: Sequence[LineAudio]) -> list[LineDisclosure]:
    out = []
    for line in sorted(lines, key=lambda item: (_scene_key(item.scene), item.order)):
        synthetic = line.source == SYNTHETIC
        out.append(
            LineDisclosure(
                line=line.line,
                scene=line.scene,
                shot=line.shot,
                character=line.character,
                speech=SYNTHETIC if synthetic else RECORDED,
                backend=(line.voice or "?").split(":", 1)[0] if synthetic else None,
                voice=line.voice if synthetic else None,
                origin=voice_origin(line).value,
            )
        )
    return out


def _scene_key(scene: str) -> tuple[int, str]:
    digits = "".join(c for c in scene if c.isdigit())
    return (int(digits) if digits else 0, scene)


def _voice_disclosures(lines: list[LineDisclosure]) -> list[VoiceDisclosure]:
    by_character: dict[str, list[LineDisclosure]] = {}
    for line in lines:
        by_character.setdefault(line.character, []).append(line)
    return [
        VoiceDisclosure(
            character=name,
            lines=len(spoken),
            synthetic=sum(1 for line in spoken if line.speech == SYNTHETIC),
            voices=sorted({line.voice or RECORDED for line in spoken}),
        )
        for name, spoken in sorted(by_character.items())
    ]


@dataclass(frozen=True)
class Disclosure:
    """The whole film's report."""

    film: str
    fps: Fraction
    total_frames: int
    generated_frames: int
    previs_frames: int
    assisted_frames: int
    captured_frames: int
    shots: list[ShotDisclosure]
    generators: list[dict[str, Any]]
    decisions: list[Decision]
    credits: list[dict[str, Any]]
    unapproved: int
    warnings: list[str] = field(default_factory=list)
    likenesses: list[ConsentRecord] = field(default_factory=list)
    # ``--with-cost``: what every take of the production cost, generator -> unit -> amount
    # (decimal text, each backend's own unit, never converted); None when not asked for.
    spend: dict[str, dict[str, str]] | None = None
    lines: list[LineDisclosure] = field(default_factory=list)
    voices: list[VoiceDisclosure] = field(default_factory=list)

    @property
    def synthetic_lines(self) -> int:
        return sum(1 for line in self.lines if line.speech == SYNTHETIC)

    @property
    def generated_share(self) -> float:
        """The share of the running time a trained model made (previs is not counted)."""
        return self.generated_frames / self.total_frames if self.total_frames else 0.0

    @property
    def previs_share(self) -> float:
        """The share of the running time drawn by previs: procedural, no AI model."""
        return self.previs_frames / self.total_frames if self.total_frames else 0.0

    @property
    def headline(self) -> str:
        """The disclosure in one plain sentence, e.g. "0% AI-generated; 100% previs drawings
        (procedural, no AI model)"."""
        parts = [f"{_percent(self.generated_frames, self.total_frames)} AI-generated"]
        for frames, words in (
            (self.previs_frames, PREVIS_WORDS),
            (self.assisted_frames, "AI-assisted"),
            (self.captured_frames, "captured"),
        ):
            if frames:
                parts.append(f"{_percent(frames, self.total_frames)} {words}")
        if self.lines:
            backends = sorted({line.backend for line in self.lines if line.backend})
            parts.append(
                f"{self.synthetic_lines} of {len(self.lines)} lines synthetic speech"
                + (f" ({', '.join(backends)})" if backends else "")
            )
        return "; ".join(parts)

    def likeness_lines(self) -> list[str]:
        """Each likeness in words: "MARA: the likeness of Ann Lee, consent of ..."."""
        return [
            f"{like.character}: the likeness of {like.person}, {_consent_words(like)}"
            for like in self.likenesses
        ]

    def to_json(self) -> dict[str, Any]:
        from setpiece.production.views import jsonable

        return {
            "film": self.film,
            "fps": f"{self.fps.numerator}/{self.fps.denominator}",
            "total_frames": self.total_frames,
            "headline": self.headline,
            "generated_frames": self.generated_frames,
            "previs_frames": self.previs_frames,
            "assisted_frames": self.assisted_frames,
            "captured_frames": self.captured_frames,
            "generated_share": round(self.generated_share, 6),
            "previs_share": round(self.previs_share, 6),
            "scenes": self._scenes(),
            "generators": self.generators,
            "decisions": jsonable(self.decisions),
            "credits": self.credits,
            "unapproved_shots": self.unapproved,
            "likenesses": jsonable(self.likenesses),
            **({"spend": self.spend} if self.spend is not None else {}),
            "dialogue": {
                "lines": jsonable(self.lines),
                "synthetic_lines": self.synthetic_lines,
                "characters": jsonable(self.voices),
            },
        }

    def _scenes(self) -> list[dict[str, Any]]:
        from setpiece.production.views import jsonable

        scenes: dict[str, list[Any]] = {}
        for shot in self.shots:
            scenes.setdefault(shot.scene, []).append(jsonable(shot))
        return [{"scene": number, "shots": shots} for number, shots in scenes.items()]

    def summary_lines(self) -> list[str]:
        lines = [
            f"{self.film}: {len(self.shots)} shots in the cut, {self.headline}",
            f"  AI-generated {self.generated_frames} frames, previs {self.previs_frames}, "
            f"AI-assisted {self.assisted_frames}, captured {self.captured_frames}, "
            f"of {self.total_frames}",
        ]
        for gen in self.generators:
            lines.append(
                f"  generator {gen['generator']} model {gen['model'] or '?'} "
                f"({_ORIGIN_WORDS.get(gen['origin'], gen['origin'])}): {gen['shots']} shot(s)"
            )
        for shot in self.shots:
            who = f"approved by {shot.approved_by}" if shot.approved else "NOT approved"
            lines.append(
                f"  {shot.scene} {shot.shot} {shot.take_label or '-'}: {shot.picture}"
                + (f" ({shot.generator}/{shot.model})" if shot.generator else "")
                + f", {who}"
            )
        for credit in self.credits:
            lines.append(f"  credit: {credit['name']} ({credit['role']})")
        for like in self.likeness_lines():
            lines.append(f"  likeness: {like}")
        for generator, units in (self.spend or {}).items():
            lines.append(f"  spend: {generator} {_spent(units)}")
        for voice in self.voices:
            lines.append(
                f"  voice: {voice.character}: {voice.synthetic} of {voice.lines} line(s) "
                f"synthetic speech, {', '.join(voice.voices)}"
            )
        for line in self.lines:
            lines.append(
                f"  line {line.line} {line.character} (shot {line.shot}): {line.speech} speech"
                + (f", {line.voice} ({line.made_by})" if line.voice else "")
            )
        return lines


def disclosure(
    production: Production,
    *,
    include_unapproved: bool = False,
    scene: str | None = None,
    cut: Cut | None = None,
    with_cost: bool = False,
    lines: Sequence[LineAudio] | None = None,
) -> Disclosure:
    """Builds the report from the cut (of the film, or one scene) and the records.

    Args:
        production: The open project.
        include_unapproved: The cut takes the newest take where none is circled.
        scene: One scene's cut (None: the film).
        cut: The cut already assembled with the same ``scene`` and
            ``include_unapproved`` (a delivery discloses what it delivered); None
            assembles it.
        with_cost: Add what the production's takes cost per generator, in each one's
            own unit (``production.cost``): every take made, not only those in the cut.
        lines: The lines the cut speaks, with the takes chosen for them; None reads them
            (``production.dialogue.cut_lines``, the same ``scene``).

    Raises:
        NotFoundError: An unknown scene.
    """
    from sqlalchemy import select

    from setpiece.model.orm import Event, Take, User
    from setpiece.production.cost import spend_by_generator
    from setpiece.production.cut import assemble
    from setpiece.production.likeness import likenesses

    if cut is None:
        cut = assemble(production, scene=scene, include_unapproved=include_unapproved)
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        roles = {u.name: u.role for u in session.scalars(select(User).order_by(User.name))}
        approvals = list(
            session.scalars(
                select(Event)
                .where(Event.entity == "take", Event.action == "approve")
                .order_by(Event.at, Event.id)
            )
        )
        takes: dict[str, Take] = {t.id: t for t in session.scalars(select(Take))}

        def label(take_id: str) -> str:
            take = takes.get(take_id)
            return f"{take.shot.code}/{take.number}" if take else take_id

        decisions = [
            Decision(e.actor, roles.get(e.actor), e.entity_id, label(e.entity_id), e.at, e.note)
            for e in approvals
        ]
        tally = _tally(cut, takes, {d.take: d for d in decisions})
        people = likenesses(session)
        if lines is None:
            from setpiece.production.dialogue import cut_lines

            lines = cut_lines(production, session, scene=scene)
    return Disclosure(
        film=cut.name,
        fps=cut.fps,
        total_frames=cut.duration,
        generated_frames=tally.frames[GENERATED],
        previs_frames=tally.frames[PREVIS],
        assisted_frames=tally.frames[ASSISTED],
        captured_frames=tally.frames[CAPTURED],
        shots=tally.shots,
        generators=[
            {"generator": g, "model": m, "origin": o, "shots": n}
            for (g, m, o), n in sorted(
                tally.generators.items(), key=lambda x: (x[0][0], x[0][1] or "")
            )
        ],
        decisions=decisions,
        credits=_credits(roles, decisions),
        unapproved=sum(1 for s in tally.shots if not s.approved),
        warnings=list(cut.warnings),
        likenesses=people,
        spend=spend_by_generator(production) if with_cost else None,
        lines=(spoken := _line_disclosures(lines)),
        voices=_voice_disclosures(spoken),
    )


@dataclass
class _Tally:
    """The cut's shots as disclosed, frames per picture category, shots per generator."""

    shots: list[ShotDisclosure] = field(default_factory=list)
    frames: dict[str, int] = field(
        default_factory=lambda: {GENERATED: 0, PREVIS: 0, ASSISTED: 0, CAPTURED: 0, NONE: 0}
    )
    generators: Counter[tuple[str, str | None, str | None]] = field(default_factory=Counter)


def _tally(cut: Cut, takes: Mapping[str, Take], last: Mapping[str, Decision]) -> _Tally:
    """Each clip of the cut: what made its picture and who approved it (``last``: the
    latest approval of each take)."""
    from setpiece.model.operations import Operation
    from setpiece.provenance.deliver import made_by

    tally = _Tally()
    makers = made_by(takes, {c.take for c in cut.clips if c.take and c.take in takes})
    for clip in cut.clips:
        take = takes.get(clip.take) if clip.take else None
        origin: Origin | None = None
        if take is None:
            picture, generator, model, operations = NONE, None, None, []
        else:
            what = makers[take.id]
            generator, model, origin = what.generator, what.model, what.origin
            operations = [
                op.name for op in map(Operation.from_record, take.operations or []) if op.name
            ]
            picture = _picture(origin, derived=bool(take.parent_take_id))
            if generator:
                tally.generators[(generator, model, origin.value if origin else None)] += 1
        tally.frames[picture] += clip.duration
        approved = clip.status == TakeStatus.CIRCLED and clip.take in last
        chosen = last.get(clip.take) if approved and clip.take else None
        tally.shots.append(
            ShotDisclosure(
                scene=clip.scene,
                shot=clip.shot,
                take=clip.take,
                take_label=clip.take_label,
                picture=picture,
                generator=generator,
                model=model,
                origin=origin.value if origin else None,
                operations=operations,
                frames=clip.duration,
                approved=approved,
                approved_by=chosen.actor if chosen else None,
                approved_at=chosen.at if chosen else None,
                status=clip.status,
            )
        )
    return tally


def _credits(roles: Mapping[str, str | None], decisions: list[Decision]) -> list[dict[str, Any]]:
    """The members with their roles and approvals, then former members who approved."""
    made: Counter[str] = Counter(d.actor for d in decisions)
    credits: list[dict[str, Any]] = [
        {"name": name, "role": role, "approvals": made.get(name, 0)} for name, role in roles.items()
    ]
    for name in sorted(set(made) - set(roles)):
        credits.append({"name": name, "role": None, "approvals": made[name]})
    return credits


_ORIGIN_WORDS = {
    Origin.TRAINED.value: "trained AI model",
    Origin.ALGORITHM.value: "procedural drawing, no AI model",
    Origin.CAPTURED.value: "camera",
    None: "origin not recorded",
}
_VOICE_WORDS = {
    Origin.TRAINED.value: "trained AI model",
    Origin.ALGORITHM.value: "rule-based synthesis, no AI model",
    Origin.CAPTURED.value: "recorded by a person",
}


def _picture(origin: Origin | None, *, derived: bool) -> str:
    """The disclosure's category of a take's picture, from what made it."""
    if origin is Origin.TRAINED:
        return GENERATED
    if origin is Origin.ALGORITHM:
        return PREVIS
    # Captured, or nobody said it was generated: an operation on it makes it AI-assisted.
    return ASSISTED if derived else CAPTURED


def _consent_words(like: ConsentRecord) -> str:
    """A likeness's consent in words: date, scope and document, or that there is none."""
    if not like.consent:
        return "no consent on record"
    return (
        f"consent of {like.consent_date} for {like.scope} (document sha256 {like.consent_sha256})"
    )


def _spent(units: Mapping[str, str]) -> str:
    return ", ".join(f"{amount} {unit}" for unit, amount in units.items())


def _percent(part: int, whole: int) -> str:
    """A share as people write it: "100%", "60%", "33.3%", and "0%" only when it is none."""
    if not whole or not part:
        return "0%"
    share = 100 * part / whole
    text = f"{share:.1f}".removesuffix(".0")
    if text in ("0", "100") and 0 < part < whole:  # never round a real share to none or all
        text = "<0.1" if text == "0" else ">99.9"
    return f"{text}%"


def write_html(report: Disclosure, path: Path) -> Path:
    """Writes the report as one self-contained HTML page (atomically)."""
    from setpiece.store.frames import check_target, temporary_file

    target = check_target(path, (".html", ".htm"), "disclosure report")
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(s.scene)}</td><td>{e(s.shot)}</td><td>{e(s.take_label or '-')}</td>"
        f"<td>{e(s.picture)}</td><td>{e(s.generator or '')}</td><td>{e(s.model or '')}</td>"
        f"<td>{e(', '.join(s.operations))}</td><td>{s.frames}</td>"
        f"<td>{e(s.approved_by or 'not approved')}</td>"
        f"<td>{e(s.approved_at.isoformat() if s.approved_at else '')}</td></tr>"
        for s in report.shots
    )
    gens = "".join(
        f"<li>{e(g['generator'])} / {e(g['model'] or '?')} "
        f"({e(_ORIGIN_WORDS.get(g['origin'], str(g['origin'])))}): {g['shots']} shot(s)</li>"
        for g in report.generators
    )
    likes = "".join(f"<li>{e(like)}</li>" for like in report.likeness_lines())
    voices = "".join(
        f"<li>{e(v.character)}: {v.synthetic} of {v.lines} line(s) synthetic speech; "
        f"{e(', '.join(v.voices))}</li>"
        for v in report.voices
    )
    spoken = "".join(
        f"<tr><td>{e(line.line)}</td><td>{e(line.shot)}</td><td>{e(line.character)}</td>"
        f"<td>{e(line.speech)}</td><td>{e(line.voice or '')}</td>"
        f"<td>{e(line.made_by)}</td></tr>"
        for line in report.lines
    )
    credits = "".join(
        f"<li>{e(c['name'])}: {e(c['role'] or 'former member')} ({c['approvals']} approval(s))</li>"
        for c in report.credits
    )
    spend = (
        "<h2>Spend per generator</h2><ul>"
        + "".join(
            f"<li>{e(g)}: {e(_spent(units))}</li>" for g, units in (report.spend or {}).items()
        )
        + "</ul>"
        if report.spend is not None
        else ""
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AI-use disclosure: {e(report.film)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}</style>
</head><body>
<h1>AI-use disclosure: {e(report.film)}</h1>
<p><strong>{e(report.headline)}</strong>.</p>
<p>Of the cut's {report.total_frames} frames: AI-generated {report.generated_frames};
{e(PREVIS_WORDS)} {report.previs_frames}; AI-assisted {report.assisted_frames};
captured {report.captured_frames}. {report.unapproved} shot(s) not approved by a person.</p>
<h2>Generators and models</h2><ul>{gens or "<li>none</li>"}</ul>
<h2>Shots</h2>
<table><tr><th>Scene</th><th>Shot</th><th>Take</th><th>Picture</th><th>Generator</th><th>Model</th>
<th>Operations</th><th>Frames</th><th>Approved by</th><th>When</th></tr>{rows}</table>
{spend}<h2>Voices</h2><ul>{voices or "<li>no dialogue in the cut</li>"}</ul>
<table><tr><th>Line</th><th>Shot</th><th>Character</th><th>Speech</th><th>Voice</th>
<th>Made by</th></tr>{spoken}</table>
<h2>Likenesses of real people</h2><ul>{likes or "<li>none recorded</li>"}</ul>
<h2>Credits</h2><ul>{credits or "<li>no members recorded</li>"}</ul>
<p>Generated by Setpiece from the production's records.</p>
</body></html>
"""
    with temporary_file(target) as temp:
        Path(temp).write_text(page, encoding="utf-8")
    return target


def write_json(report: Disclosure, path: Path) -> Path:
    """Writes the report's JSON (the shape ``disclose --json`` prints), atomically."""
    import orjson

    from setpiece.production.views import jsonable
    from setpiece.store.frames import check_target, temporary_file

    target = check_target(path, (".json",), "disclosure report")
    data = orjson.dumps(
        report, default=jsonable, option=orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATACLASS
    )
    with temporary_file(target) as temp:
        Path(temp).write_bytes(data)
    return target


def beside(cut_file: Path) -> tuple[Path, Path]:
    """Where a cut's disclosure goes: ``NAME.disclosure.json`` and ``.html`` beside it."""
    folder = cut_file.expanduser().absolute().parent
    stem = cut_file.name.split(".")[0] or "cut"
    return folder / f"{stem}.disclosure.json", folder / f"{stem}.disclosure.html"


def write_beside(report: Disclosure, cut_file: Path) -> list[Path]:
    """Writes ``NAME.disclosure.json`` and ``NAME.disclosure.html`` beside a cut's file."""
    json_path, html_path = beside(cut_file)
    return [write_json(report, json_path), write_html(report, html_path)]
