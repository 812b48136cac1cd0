"""eSpeak NG, the embedded default voice: offline, no system package, deterministic.

The library and its voice data come from the ``espeakng-loader`` wheel
(``libespeak-ng.so`` and ``espeak-ng-data`` inside the package), driven here through its C
API with ``ctypes``: ``espeak_Initialize`` in ``AUDIO_OUTPUT_SYNCHRONOUS`` mode (samples
handed to a callback, nothing played), ``espeak_SetSynthCallback``,
``espeak_SetVoiceByName``, ``espeak_SetParameter`` (rate, pitch) and ``espeak_Synth``. The
output is eSpeak NG's own: 22,050 Hz, mono, 16-bit PCM. The library keeps one voice in
global state, so one lock serialises every call in a process.

**Licence.** eSpeak NG and its data are GPL-3.0-or-later; Setpiece is Apache-2.0. Loading a
GPL library into Setpiece's process (``ctypes`` is dynamic linking) makes the running
program a combined work in the FSF's reading, and Apache-2.0 code may be combined into a
GPL-3.0 work but not the other way round. So eSpeak NG is **not** a core dependency: it is
the ``voices`` extra (``pip install 'setpiece[voices]'``), a separately installed package
that the user chooses, with its licence. Setpiece itself neither ships nor links it; without
the extra this backend is listed as not installed and the demo says so once and goes on
silent.

**Default voices.** ``default_voice(name)`` derives a character's voice from the SHA-256 of
its name (case and spacing folded): the first byte picks one of eSpeak NG's twelve
numbered variants (``m1``-``m7``, ``f1``-``f5``), the second a base pitch from 30 to 70, the
third a rate from 150 to 190 words per minute. The same name gets the same voice on every
machine; ``default_voices`` gives a whole cast distinct ones. Where the script says whether
a character is a man or a woman (``script.register``), the variant is one of that
register's: a name's hash alone gave the demo's TEO, a boy of 19, a woman's voice.

**Languages.** eSpeak NG speaks a language only with its voice and dictionary; text in a
script the voice's language does not use (Cyrillic, kana) is spoken with the voice for the
script's language (``ru``, ``ja``) and the character's variant. A language it lacks is a
``NotFoundError`` that names the language and the nearest it has.
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import tempfile
import threading
import wave
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from setpiece.errors import MissingExtraError, NotFoundError
from setpiece.voice.base import (
    SpeechError,
    SpeechRequest,
    Synthesis,
    VoiceBackend,
    VoiceCapabilities,
    VoiceSpec,
)

__all__ = ["SAMPLE_RATE", "VARIANTS", "EspeakVoice", "default_voice", "default_voices"]

SAMPLE_RATE = 22050
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
_DEFAULT_LANGUAGE = "en-us"

# espeak_AUDIO_OUTPUT, espeak_PARAMETER and flags, from espeak-ng/speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_RATE, _PITCH = 1, 3
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EE_OK = 0
# eSpeak NG seeds libc's rand() from the clock when it initialises (its noise sources use
# it): the same line spoken a second apart differed. Every line starts from this seed.
_SEED = 31

_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class _Engine:
    """The library, loaded afresh for every line; every call holds ``lock``.

    eSpeak NG keeps synthesis state in globals that ``espeak_Terminate`` and
    ``espeak_Initialize`` do not reset (the pitch flutter's phase), and seeds its noise from
    the clock: the same line spoken twice in one process gave different samples. Loading the library
    anew for each line, from a private copy so that no other holder of it (another package
    using ``espeakng-loader``) keeps it loaded, makes every line start from the same state:
    the same bytes in any process. It costs under 1 ms a line, about 3 % of the
    synthesis time (bench/voice_speed.py).
    """

    lock = threading.Lock()
    _instance: ClassVar[_Engine | None] = None

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise MissingExtraError("the espeak voice", "voices", "espeakng-loader") from None
        self.data = Path(espeakng_loader.get_data_path())
        self._folder = tempfile.TemporaryDirectory(prefix="setpiece-espeak-")
        original = Path(espeakng_loader.get_library_path())
        self._library = Path(self._folder.name) / original.name
        shutil.copyfile(original, self._library)
        self._chunks: list[bytes] = []
        self._callback = _CALLBACK(self._collect)  # kept alive as long as the engine
        with self._loaded() as lib:
            self.version = (lib.espeak_Info(None) or b"").decode()
            self.languages = self._languages(lib)

    @classmethod
    def get(cls) -> _Engine:
        with cls.lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    @contextmanager
    def _loaded(self) -> Iterator[Any]:
        """The library, freshly loaded and initialised; unloaded on leaving."""
        import _ctypes

        lib = ctypes.CDLL(str(self._library))
        try:
            _declare(lib)
            rate = lib.espeak_Initialize(
                _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data.parent).encode(), _INITIALIZE_DONT_EXIT
            )
            if rate != SAMPLE_RATE:
                raise SpeechError(f"eSpeak NG did not start (espeak_Initialize returned {rate})")
            lib.espeak_SetSynthCallback(self._callback)
            lib.espeak_ng_SetRandSeed(_SEED)
            yield lib
            lib.espeak_Terminate()
        finally:
            unload = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary")  # noqa: B009 - POSIX, Windows
            unload(lib._handle)

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    @staticmethod
    def _languages(lib: Any) -> dict[str, str]:
        """Language tag -> the voice file's name that speaks it (``en-us`` -> ``en-us``)."""
        found: dict[str, str] = {}
        voices = lib.espeak_ListVoices(None)
        index = 0
        while voices[index]:
            voice = voices[index].contents
            identifier = (voice.identifier or b"").decode()
            name = identifier.rsplit("/", 1)[-1]
            # The first language only: the list's end marker is not always written (1.52).
            primary = (voice.languages or b"")[1:]
            for language in (primary.decode(errors="replace").lower(), name.lower()):
                if language:
                    found.setdefault(language, name)
            index += 1
        return found

    def speak(self, text: str, voice: str, rate: int | None, pitch: int | None) -> bytes:
        """The 16-bit samples of ``text`` in ``voice`` (``LANG+VARIANT``)."""
        with self.lock, self._loaded() as lib:
            if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
                raise NotFoundError(f"eSpeak NG has no voice {voice!r}")
            lib.espeak_SetParameter(_RATE, 175 if rate is None else rate, 0)
            lib.espeak_SetParameter(_PITCH, 50 if pitch is None else pitch, 0)
            self._chunks = []
            data = text.encode("utf-8") + b"\0"
            status = lib.espeak_Synth(
                data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            if status != _EE_OK:
                raise SpeechError(f"eSpeak NG failed to speak the line (error {status})")
            return b"".join(self._chunks)

    def variants(self) -> set[str]:
        return {path.name for path in (self.data / "voices" / "!v").iterdir()}


def _declare(lib: Any) -> None:
    """The C signatures of the calls used, from espeak-ng/speak_lib.h."""
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    lib.espeak_Info.restype = ctypes.c_char_p
    lib.espeak_Info.argtypes = [ctypes.c_void_p]
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]


class EspeakVoice(VoiceBackend):
    """eSpeak NG through ``espeakng-loader``: voices are ``LANG+VARIANT`` (``en-us+m3``)."""

    name = "espeak"
    requires = ("espeakng_loader",)
    extra = "voices"
    install_hint = "pip install 'setpiece[voices]' (eSpeak NG, GPL-3.0)"
    default_capabilities = VoiceCapabilities(
        rate=True, pitch=True, deterministic=True, max_characters=4096
    )

    def capabilities(self) -> VoiceCapabilities:
        return VoiceCapabilities(
            languages=frozenset(_Engine.get().languages),
            rate=True,
            pitch=True,
            deterministic=True,
            max_characters=4096,
        )

    def check(self, request: SpeechRequest) -> str:
        """The base checks, then the voice id itself: a language eSpeak NG has and one of
        its variants.

        Raises:
            NotFoundError: No such voice or variant.
        """
        text = super().check(request)
        engine = _Engine.get()
        own, variant = _split(request.spec.voice)
        if own.lower() not in engine.languages:
            raise NotFoundError(
                f"eSpeak NG has no voice {request.spec.voice!r}: voices are LANGUAGE+VARIANT, "
                "such as en-us+m3, and it has no language "
                f"{own!r}"
            )
        if variant and variant not in engine.variants():
            raise NotFoundError(
                f"eSpeak NG has no variant {variant!r} (voice {request.spec.voice!r}); "
                f"numbered ones are {', '.join(VARIANTS)}"
            )
        return text

    def resolve_language(self, request: SpeechRequest) -> str | None:
        """The request's language, else the script's when it is not the voice's own; None
        when the voice's own language is the one to speak.

        Raises:
            NotFoundError: eSpeak NG has no voice for that language.
        """
        language = super().resolve_language(request)
        own = _split(request.spec.voice)[0].lower()
        if language is None or own == language or own.startswith(language + "-"):
            return None
        have = _Engine.get().languages
        if language not in have:
            near = sorted(tag for tag in have if tag.split("-")[0] == language.split("-")[0])
            raise NotFoundError(
                f"eSpeak NG has no voice for the language {language!r} of this line"
                + (f"; it has {', '.join(near)}" if near else "")
                + ": give the line's language, or a voice of another backend"
            )
        return language

    def synthesize(
        self, text: str, request: SpeechRequest, language: str | None, workdir: Path
    ) -> Synthesis:
        engine = _Engine.get()
        spec = request.spec
        own, variant = _split(spec.voice)
        # A language tag to the voice file that speaks it (the tag itself, mostly).
        name = engine.languages[(language or own).lower()]
        voice = name + (f"+{variant}" if variant else "")
        samples = engine.speak(text, voice, spec.rate, spec.pitch)
        if not samples:
            raise SpeechError(f"eSpeak NG said nothing for the line in voice {voice}")
        path = workdir / "line.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(samples)
        return Synthesis(
            path=path,
            recipe={"engine": f"eSpeak NG {engine.version}", "spoken_as": voice},
            sample_rate=SAMPLE_RATE,
        )


def _split(voice: str) -> tuple[str, str | None]:
    language, _, variant = voice.partition("+")
    return language, variant or None


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def _pool(register: str | None) -> tuple[str, ...]:
    """The variants a register's default may take: eSpeak NG's male ones (``m1``-``m7``),
    its female ones (``f1``-``f5``), or all twelve when the register is unknown."""
    if register is None:
        return VARIANTS
    return tuple(v for v in VARIANTS if v[0] == register[0])


def default_voice(
    character: str, language: str = _DEFAULT_LANGUAGE, register: str | None = None
) -> VoiceSpec:
    """A character's own eSpeak NG voice, derived from its name (see the module docstring).

    Args:
        character: The name.
        language: The voice's language.
        register: "male" or "female" (``script.register``): the variant is one of that
            register's; None: any of the twelve.
    """
    digest = hashlib.sha256(_fold(character).encode()).digest()
    pool = _pool(register)
    return VoiceSpec(
        backend="espeak",
        voice=f"{language}+{pool[digest[0] % len(pool)]}",
        pitch=30 + digest[1] % 41,
        rate=150 + digest[2] % 41,
    )


def default_voices(
    characters: Iterable[str],
    language: str = _DEFAULT_LANGUAGE,
    registers: Mapping[str, str | None] | None = None,
) -> dict[str, VoiceSpec]:
    """Distinct default voices for a cast, keyed by the names as given.

    Each character keeps ``default_voice``'s own (in its register's variants, when
    ``registers`` names one) unless a character before it (in folded-name order) derives
    the same variant; those that lose it take the free variants of their register in
    ``VARIANTS`` order, keeping their pitch and rate. A character's voice changes only
    when the cast gains someone who sorts before it with the same variant. Past a
    register's variants (seven male, five female, twelve in all) variants repeat, and pitch
    and rate tell them apart.
    """
    registers = registers or {}
    names = sorted(set(characters), key=_fold)
    own = {name: default_voice(name, language, registers.get(name)) for name in names}
    taken: set[str] = set()
    losers: list[str] = []
    for name in names:
        variant = own[name].voice.rpartition("+")[2]
        if variant in taken:
            losers.append(name)
        taken.add(variant)
    voices = dict(own)
    for name in losers:
        spare = next((v for v in _pool(registers.get(name)) if v not in taken), None)
        if spare is not None:
            taken.add(spare)
            voices[name] = replace(own[name], voice=f"{language}+{spare}")
    return voices
