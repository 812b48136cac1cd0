"""Dialogue across capabilities: the voice backends (``setpiece.voice``) speak the lines
that production keeps, through the render queue (``setpiece.generate.queue``).

This module joins what the layers below may not join themselves: it checks a voice
against its backend before the bible keeps it, reads and measures an actor's recording
before production records it, and hands the queue a speaker made of the voice registry.

- **A voice is checked where it can be, for free**: the backend must exist, be installed
  and be configured (a hosted backend without its key is refused), and take the rate,
  pitch and sample given. A local backend speaks one word to prove it has the voice id;
  a hosted one is not asked (that would spend money): an unknown id there fails its
  takes, with the backend's reason.
- **A character with no voice speaks with the default** (``setpiece.voice.espeak.
  default_voice``, derived from the name, in the register the script gives the character:
  ``cast_default_voices``); the render report names each such character once, and its
  takes record that they were made with the default.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from setpiece.generate.queue import (
    Speaker,
    SpeechJob,
    Spoken,
    enqueue_speech,
    run_queue,
    speech_next_wait,
)
from setpiece.production.context import Production
from setpiece.production.dialogue import (
    LineTakeView,
    VoiceView,
    add_line_take,
    check_line_takes_recording,
    dialogue_settings,
    set_voice,
)

__all__ = [
    "DialogueRenderReport",
    "cast_default_voices",
    "character_voice",
    "default_voice_of",
    "import_recording",
    "render_dialogue",
    "voice_speaker",
]


@dataclass(frozen=True)
class DialogueRenderReport:
    """What ``dialogue render`` did."""

    queued: list[str]
    fresh: list[str]
    default_voices: dict[str, str]
    done: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # lines not spoken as written, and why

    def to_json(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "fresh": self.fresh,
            "default_voices": self.default_voices,
            "done": self.done,
            "failed": self.failed,
            "failures": self.failures,
            "refused": self.refused,
        }


def default_voice_of(character: str, register: str | None = None) -> dict[str, Any]:
    """The default voice of a character with none, as a voice record."""
    from setpiece.voice.espeak import default_voice

    spec = default_voice(character, register=register)
    return {"backend": spec.backend, "voice": spec.voice, "rate": spec.rate, "pitch": spec.pitch}


def cast_default_voices(production: Production) -> Callable[[str], dict[str, Any]]:
    """The default voice of each speaker of the script, as ``enqueue_speech`` asks for it:
    in the register the script gives them (``script.register``: the action's pronouns,
    the cue's title, the bible's description), distinct across the cast
    (``voice.espeak.default_voices``); a name outside the cast gets its own derived one."""
    from sqlalchemy import select

    from setpiece.model.orm import Line, Scene
    from setpiece.script.register import voice_registers
    from setpiece.voice.espeak import default_voices

    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        bodies = list(
            session.scalars(
                select(Scene.body).where(Scene.omitted.is_(False)).order_by(Scene.position)
            )
        )
        descriptions: dict[str, str] = {}
        for line in session.scalars(select(Line).where(Line.omitted.is_(False))):
            name = line.character.upper()
            entry = line.entry
            text = (entry.description or entry.candidate_description or "") if entry else ""
            descriptions[name] = descriptions.get(name) or text
    registers = voice_registers((b for b in bodies if b), descriptions, descriptions)
    cast = default_voices(descriptions, registers=registers)

    def voice(character: str) -> dict[str, Any]:
        spec = cast.get(character.upper())
        if spec is None:
            return default_voice_of(character)
        return {
            "backend": spec.backend,
            "voice": spec.voice,
            "rate": spec.rate,
            "pitch": spec.pitch,
        }

    return voice


def character_voice(
    production: Production,
    character: str,
    *,
    backend: str,
    voice: str,
    rate: int | None = None,
    pitch: int | None = None,
    sample: str | os.PathLike[str] | None = None,
) -> VoiceView:
    """Checks a voice against its backend (see the module docstring), then gives it to
    the character; its lines' synthetic takes made with another voice turn stale.

    Raises:
        NotFoundError: An unknown backend, voice id or character.
        MissingExtraError: The backend's packages are not installed.
        InvalidInputError: A hosted backend without its key, a rate, pitch or sample the
            backend does not take, or a cloned voice without a consent record.
    """
    from setpiece.voice.base import SpeechRequest, VoiceSpec
    from setpiece.voice.registry import get_voice

    spec = VoiceSpec(backend, voice, rate, pitch, Path(sample) if sample else None)
    tables = production.config.settings.get("voices", {})
    table = tables.get(backend) if isinstance(tables, dict) else None
    engine = get_voice(backend, table, project_dir=production.config.root)
    try:
        request = SpeechRequest("Test.", spec)
        engine.check(request)
        if not engine.capabilities().hosted:
            with tempfile.TemporaryDirectory(prefix="setpiece-voice-") as folder:
                engine.speak(request, Path(folder))
    finally:
        engine.close()
    return set_voice(
        production, character, backend=backend, voice=voice, rate=rate, pitch=pitch, sample=sample
    )


def import_recording(
    production: Production,
    line: str,
    path: str | os.PathLike[str],
    *,
    allow_silence: bool = False,
) -> LineTakeView:
    """An actor's recording of a line, read and measured, as a new take of it.

    The line is checked first (an unknown line is named whatever the file is), then the
    file. A silent file (``WavInfo.silent``: nothing above -70 LUFS) is refused unless
    ``allow_silence``: a recorded take is preferred over synthesis, so a muted microphone
    or a wrong channel would silence the line in the cut.

    Raises:
        InvalidMediaError: Not a WAV, no audio in it, or silent (without ``allow_silence``).
        InvalidInputError: Longer than ``[dialogue] max_seconds``, or at another rate than
            ``[dialogue] sample_rate``; the line is omitted.
        NotFoundError: An unknown line.
    """
    from setpiece.errors import InvalidMediaError
    from setpiece.voice.audio import read_wav

    settings = dialogue_settings(production.config.settings)
    name = check_line_takes_recording(production, line)
    source = Path(path)
    info = read_wav(source, max_seconds=Fraction(settings.max_seconds))
    if info.silent and not allow_silence:
        raise InvalidMediaError(
            f"{source.name} is silent (nothing above -70 LUFS in {float(info.seconds):.2f} s): "
            f"as a recorded take it would silence line {name} in the cut; check the "
            "microphone and the channel, or pass --allow-silence for a deliberate silent beat"
        )
    return add_line_take(
        production,
        line,
        source,
        frames=info.samples,
        sample_rate=info.sample_rate,
        lufs=info.lufs,
    )


def voice_speaker(production: Production) -> Speaker:
    """A speaker for the render queue: each job said by the backend its voice names."""
    settings = production.config.settings
    limit = Fraction(dialogue_settings(settings).max_seconds)

    def speak(job: SpeechJob, folder: Path) -> Spoken:
        from setpiece.voice.base import SpeechRequest, VoiceSpec
        from setpiece.voice.registry import speak as say

        voice = job.voice
        spec = VoiceSpec(
            backend=str(voice["backend"]),
            voice=str(voice["voice"]),
            rate=voice.get("rate"),
            pitch=voice.get("pitch"),
            sample=job.sample,
        )
        speech = say(
            SpeechRequest(job.text, spec, seed=job.seed),
            folder,
            settings=settings,
            project_dir=production.config.root,
            max_seconds=limit,
        )
        frames = speech.seconds * speech.sample_rate
        return Spoken(
            path=speech.path,
            frames=int(frames),
            sample_rate=speech.sample_rate,
            lufs=speech.lufs,
            recipe=speech.recipe,
        )

    return speak


def render_dialogue(
    production: Production,
    *,
    scene: str | None = None,
    character: str | None = None,
    line: str | None = None,
    again: bool = False,
    seed: int | None = None,
) -> DialogueRenderReport:
    """Queues a synthetic take for each chosen line without a fresh one, and speaks them,
    and any speech job already waiting (one retried with 'jobs retry', one a crash left).

    The takes go through the render queue; a ``setpiece worker`` running meanwhile may
    speak some of them, and this call works until none of its kind is left.

    Raises:
        NotFoundError: An unknown scene, character or line.
        InvalidInputError: An empty line, or one too long to speak.
        PermissionDeniedError: The acting user may not render.
    """
    queued = enqueue_speech(
        production,
        default_voice=cast_default_voices(production),
        scene=scene,
        character=character,
        line=line,
        again=again,
        seed=seed,
    )
    if not queued.queued and speech_next_wait(production) is None:
        # Nothing new, and no speech job waiting (a retried one, one a crash left) either.
        return DialogueRenderReport(
            queued.queued, queued.fresh, queued.default_voices, refused=queued.refused
        )
    # Speech only: no picture generator is named "voice:", so no picture job is claimed.
    run = run_queue(production, speak=voice_speaker(production), generators=["voice:"])
    return DialogueRenderReport(
        queued.queued,
        queued.fresh,
        queued.default_voices,
        done=run.done,
        failed=run.failed,
        failures=run.failures,
        refused=queued.refused,
    )
