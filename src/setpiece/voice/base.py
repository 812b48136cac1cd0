"""The voice interface: what every speech backend (eSpeak NG, Piper, a hosted service) implements.

A voice backend mirrors a generator (``setpiece.generate.base``): a ``VoiceBackend``
subclass with a ``name``, its ``capabilities`` as data (languages, cloning, whether it
takes a rate and a pitch, the longest text it accepts), its ``Settings`` as a frozen
dataclass (the keys of ``[voices.NAME]`` in ``setpiece.toml``, read by
:func:`setpiece.config.load_section`, unknown keys refused), ``missing_settings`` and
``reachable`` to ask whether it is ready without spending anything, and one call a backend
implements, ``synthesize``: text and a ``VoiceSpec`` to a WAV file in a folder the caller
owns. It never touches the database or the media store.

``VoiceBackend.speak`` is the one way to a dialogue take, the same for every backend: it
refuses bad input before anything is synthesised (an empty line, text longer than the
backend takes, a rate, pitch or sample the backend cannot use, a spec for another
backend), picks the language from the text's script when the voice's does not fit
(``script_language``), has the backend write the WAV in a scratch folder, reads it back
(:mod:`setpiece.voice.audio`: not audio, too long, wrong rate refused), and only then moves
it to its final name. Nothing half-written is ever left in ``out_dir``.

A line longer than ``max_characters`` (4,096 by default: OpenAI's speech limit, and about
four and a half minutes of eSpeak NG, already past ``[dialogue] max_seconds``) is refused
with the limit and the advice to split it; a line is something a character says in one go.

Errors, all ``SetpieceError``s (exit 2)::

    InvalidInputError   empty line, text too long, a setting the backend cannot take,
                        a hosted backend without its key, speech longer than max_seconds
    InvalidMediaError   what the backend wrote is not a WAV, or not at its promised rate
    MissingExtraError   the backend's package is not installed (names the extra)
    NotFoundError       a voice id the backend does not have, or no voice for the language
    SpeechError         the backend failed (``transient`` for what a retry may cure)
    └── VoiceUnavailable  its server cannot be reached at all
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, is_dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

from setpiece.config import load_section
from setpiece.errors import InvalidInputError, SetpieceError
from setpiece.voice.audio import DEFAULT_MAX_SECONDS, read_wav

__all__ = [
    "DEFAULT_MAX_SECONDS",
    "Speech",
    "SpeechError",
    "SpeechRequest",
    "Synthesis",
    "VoiceBackend",
    "VoiceCapabilities",
    "VoiceSettings",
    "VoiceSpec",
    "VoiceUnavailable",
    "script_language",
]


@dataclass(frozen=True)
class VoiceSpec:
    """A character's voice, as the bible keeps it.

    Args:
        backend: The voice backend's name (``espeak``, ``piper``, ``openai``...).
        voice: The backend's own voice id (``en-us+m3``, a Piper model file, ``alloy``).
        rate: Speaking rate in words per minute; 175 is eSpeak NG's normal and the
            reference the other backends scale from (Piper's length scale is 175 / rate,
            OpenAI's speed rate / 175). None: the backend's normal.
        pitch: Base pitch, 0 to 100, 50 normal (eSpeak NG's scale). None: the voice's own.
        sample: A reference recording, for backends that clone a voice from it. A voice
            cloned from a real person makes the character a likeness: consent first.
    """

    backend: str
    voice: str
    rate: int | None = None
    pitch: int | None = None
    sample: Path | None = None

    def __str__(self) -> str:
        return f"{self.backend}:{self.voice}"

    @property
    def clones(self) -> bool:
        """Whether this voice is cloned from a recording (a likeness: needs consent)."""
        return self.sample is not None


@dataclass(frozen=True)
class SpeechRequest:
    """One line to speak.

    Args:
        text: What the character says, as the screenplay has it (no parentheticals).
        spec: The character's voice.
        language: A BCP 47-style tag (``en-us``, ``ru``, ``ja``) when the caller knows it;
            None: the voice's own, unless the text's script says otherwise.
        seed: For backends whose speech varies from run to run; recorded. None: the
            backend's default (deterministic backends ignore it).
    """

    text: str
    spec: VoiceSpec
    language: str | None = None
    seed: int | None = None


@dataclass(frozen=True)
class Speech:
    """A finished dialogue take: a complete WAV file in the folder the caller gave."""

    path: Path
    seconds: Fraction  # decoded samples / sample_rate
    sample_rate: int
    lufs: float  # integrated loudness, ITU-R BS.1770 (audio.SILENCE_LUFS for silence)
    recipe: dict[str, Any] = field(default_factory=dict)  # enough to make it again; no secrets


@dataclass(frozen=True)
class Synthesis:
    """What a backend's ``synthesize`` returns: its WAV and what it used.

    ``recipe`` holds the backend's own record (the voice as resolved, the language, the
    model and its hash, parameters as sent); ``sample_rate`` the rate the backend promises
    the file has (checked when read), None when it cannot know beforehand.
    """

    path: Path
    recipe: dict[str, Any] = field(default_factory=dict)
    sample_rate: int | None = None


@dataclass(frozen=True)
class VoiceCapabilities:
    """What a voice backend can do, as data ``speak`` enforces before synthesising.

    ``languages`` are the languages it has voices for (empty: it cannot list them; asked
    per voice). ``cloning``: it takes a reference sample. ``rate`` and ``pitch``: it honours
    those settings of the spec. ``deterministic``: the same request makes the same bytes.
    ``hosted``: the text leaves the machine.
    """

    languages: frozenset[str] = frozenset()
    cloning: bool = False
    rate: bool = True
    pitch: bool = False
    deterministic: bool = False
    hosted: bool = False
    max_characters: int = 4096

    def to_json(self) -> dict[str, Any]:
        return {
            "languages": sorted(self.languages),
            "cloning": self.cloning,
            "rate": self.rate,
            "pitch": self.pitch,
            "deterministic": self.deterministic,
            "hosted": self.hosted,
            "max_characters": self.max_characters,
        }


@dataclass(frozen=True)
class VoiceSettings:
    """The keys every ``[voices.NAME]`` table has (none yet); a backend's ``Settings``
    extends it (a frozen dataclass, a default for each key, ``setting(...)`` for ranges)."""


class SpeechError(SetpieceError):
    """A backend failed to speak a line. ``transient`` ones may succeed if tried again."""

    code = "speech_failed"

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class VoiceUnavailable(SpeechError):
    """The backend's server cannot be reached at all: an outage, not a bad line."""

    code = "voice_unavailable"

    def __init__(self, message: str, *, waiting_for: str | None = None) -> None:
        super().__init__(message, transient=True)
        self.waiting_for = waiting_for


# Scripts whose letters name a language on their own, in the order they are checked;
# Latin (and anything unlisted) leaves the voice's language as it is. Cyrillic is read as
# Russian and Han without kana as Mandarin: a request's ``language`` says otherwise.
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("HANGUL", "ko"),
    ("CJK", "cmn"),
    ("CYRILLIC", "ru"),
    ("GREEK", "el"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("DEVANAGARI", "hi"),
    ("THAI", "th"),
    ("ARMENIAN", "hy"),
    ("GEORGIAN", "ka"),
    ("ETHIOPIC", "am"),
    ("KHMER", "km"),
    ("LAO", "lo"),
    ("TIBETAN", "bo"),
)


def script_language(text: str) -> str | None:
    """The language a text's script names, or None for Latin script (or no letters).

    The script with most letters wins, except that any kana makes Han text Japanese.
    """
    counts: dict[str, int] = {}
    for char in text:
        if not char.isalpha():
            continue
        name = unicodedata.name(char, "")
        for prefix, language in _SCRIPTS:
            if name.startswith(prefix):
                counts[language] = counts.get(language, 0) + 1
                break
        else:
            counts["latin"] = counts.get("latin", 0) + 1
    if "ja" in counts and "cmn" in counts:
        counts["ja"] += counts.pop("cmn")
    if not counts:
        return None
    best = max(sorted(counts), key=lambda language: counts[language])
    return None if best == "latin" else best


class VoiceBackend(ABC):
    """A backend that speaks lines. Subclasses set ``name`` and ``default_capabilities``
    and implement ``synthesize``.

    Optional: ``Settings`` (a frozen dataclass extending ``VoiceSettings``: the keys of
    ``[voices.NAME]``), ``requires`` (modules that must import, checked without importing
    them), ``extra`` and ``install_hint``, ``capabilities`` (when they depend on what is
    installed), ``missing_settings``, ``reachable``, ``resolve_language`` and ``close``.
    """

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None  # the setpiece extra that installs ``requires``
    install_hint: ClassVar[str | None] = None
    default_capabilities: ClassVar[VoiceCapabilities] = VoiceCapabilities()
    Settings: ClassVar[type[VoiceSettings]] = VoiceSettings

    def __init__(
        self,
        settings: VoiceSettings | Mapping[str, Any] | None = None,
        *,
        project_dir: Path | None = None,
    ) -> None:
        if settings is None or isinstance(settings, Mapping):
            settings = self.load_settings(settings)
        elif not isinstance(settings, self.Settings):
            raise InvalidInputError(
                f"voice backend {self.name} takes {self.Settings.__name__}, "
                f"not {type(settings).__name__}"
            )
        self.settings = settings
        self.project_dir = project_dir

    @classmethod
    def load_settings(cls, table: Mapping[str, Any] | None) -> VoiceSettings:
        """Reads ``[voices.NAME]`` into ``Settings`` with the one configuration loader.

        Raises:
            InvalidInputError: Not a dataclass extending ``VoiceSettings``, an unknown key,
                a value of the wrong type or out of range.
        """
        settings_class = cls.Settings
        if not (
            isinstance(settings_class, type)
            and is_dataclass(settings_class)
            and issubclass(settings_class, VoiceSettings)
        ):
            raise InvalidInputError(
                f"voice backend {cls.name}: its Settings must be a dataclass extending "
                "VoiceSettings"
            )
        return load_section(settings_class, table, section=f"voices.{cls.name}")

    @classmethod
    def missing(cls) -> list[str]:
        """Modules this backend needs that are not installed (found without importing them)."""
        from importlib.util import find_spec

        return [module for module in cls.requires if find_spec(module) is None]

    @classmethod
    def missing_settings(cls, settings: VoiceSettings) -> list[str]:
        """What must still be set (``[voices.NAME] key``, environment variables by name)
        before this backend can speak; empty when configured. Never touches the network."""
        return []

    def reachable(self) -> bool | None:
        """Whether the backend's server answers and takes its key, spending nothing; None
        when it has no server.

        Raises:
            SpeechError: Why it cannot be reached or refuses the key.
        """
        return None

    def capabilities(self) -> VoiceCapabilities:
        return self.default_capabilities

    def resolve_language(self, request: SpeechRequest) -> str | None:
        """The language to speak ``request`` in: the request's, else the one the text's
        script names, else None (the voice's own). Backends with per-language voices
        check it against what they have and raise ``NotFoundError`` naming what is missing.
        """
        return request.language or script_language(request.text)

    def check(self, request: SpeechRequest) -> str:
        """Refuses a request this backend cannot speak, before anything is synthesised.

        Returns:
            The text to speak, stripped.

        Raises:
            InvalidInputError: Empty, too long, or a rate, pitch or sample it cannot take,
                or a spec for another backend.
        """
        spec = request.spec
        if spec.backend != self.name:
            raise InvalidInputError(
                f"voice {spec} is for the {spec.backend} backend, not {self.name}"
            )
        text = " ".join(request.text.split())
        if not any(char.isalnum() for char in text):
            raise InvalidInputError(
                f"the line is empty ({request.text!r}): there is nothing for {spec} to say"
            )
        caps = self.capabilities()
        if len(text) > caps.max_characters:
            raise InvalidInputError(
                f"the line is {len(text):,} characters; voice backend {self.name} speaks at "
                f"most {caps.max_characters:,} in one take: split it into several lines"
            )
        if spec.rate is not None and not caps.rate:
            raise InvalidInputError(f"voice backend {self.name} takes no rate: unset it")
        if spec.rate is not None and not 80 <= spec.rate <= 450:
            raise InvalidInputError(
                f"voice {spec}: rate {spec.rate} words per minute is outside 80 to 450"
            )
        if spec.pitch is not None and not caps.pitch:
            raise InvalidInputError(f"voice backend {self.name} takes no pitch: unset it")
        if spec.pitch is not None and not 0 <= spec.pitch <= 100:
            raise InvalidInputError(f"voice {spec}: pitch {spec.pitch} is outside 0 to 100")
        if spec.sample is not None and not caps.cloning:
            raise InvalidInputError(
                f"voice backend {self.name} does not clone voices: remove the sample"
            )
        return text

    @abstractmethod
    def synthesize(
        self, text: str, request: SpeechRequest, language: str | None, workdir: Path
    ) -> Synthesis:
        """Speaks ``text`` (checked, stripped) into one WAV file inside ``workdir``.

        Args:
            text: The line, already checked by ``check``.
            request: The whole request (spec, seed).
            language: From ``resolve_language``: None for the voice's own.
            workdir: A scratch folder the caller owns and removes.

        Raises:
            NotFoundError: The voice, or a voice for ``language``, does not exist.
            SpeechError: Synthesis failed.
        """

    def speak(
        self,
        request: SpeechRequest,
        out_dir: Path,
        *,
        max_seconds: float | Fraction = DEFAULT_MAX_SECONDS,
    ) -> Speech:
        """Speaks one line into a WAV file in ``out_dir``, measured, with its recipe.

        The file is named by the recipe's hash, so the same request gives the same name.

        Args:
            request: The line and the voice.
            out_dir: Where the WAV goes (created if missing).
            max_seconds: The longest a line may be ([dialogue] max_seconds).

        Raises:
            InvalidInputError, InvalidMediaError, NotFoundError, SpeechError: see the
                module docstring. Nothing is left in ``out_dir`` when one is raised.
        """
        text = self.check(request)
        language = self.resolve_language(request)
        out_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".speak-", dir=out_dir))
        try:
            made = self.synthesize(text, request, language, scratch)
            info = read_wav(made.path, max_seconds=max_seconds, sample_rate=made.sample_rate)
            recipe = {
                "backend": self.name,
                "voice": request.spec.voice,
                "rate": request.spec.rate,
                "pitch": request.spec.pitch,
                "sample_sha256": _sha256(request.spec.sample) if request.spec.sample else None,
                "language": language,
                "seed": request.seed,
                "text": text,
                **made.recipe,
            }
            digest = hashlib.sha256(repr(sorted(recipe.items())).encode()).hexdigest()[:16]
            final = out_dir / f"{self.name}-{digest}.wav"
            os.replace(made.path, final)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return Speech(
            path=final,
            seconds=info.seconds,
            sample_rate=info.sample_rate,
            lufs=info.lufs,
            recipe=recipe,
        )

    def close(self) -> None:  # noqa: B027 - optional hook: most backends hold nothing
        """Releases what the backend holds (a loaded model, a client)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
