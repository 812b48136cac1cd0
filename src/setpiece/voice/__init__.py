"""Voices: speech backends that turn a character's lines into dialogue takes.

This package is also the plugin API for voice backends, as ``setpiece.generate`` is for
generators: subclass :class:`VoiceBackend`, set ``name`` and ``default_capabilities``,
implement ``synthesize`` (text to one WAV file in a scratch folder), and point a
``setpiece.voices`` entry point at the class. ``VoiceBackend.speak`` checks the line,
synthesises, reads the WAV back (not audio, too long or at the wrong rate refused) and
returns a :class:`Speech`: the file, its exact length, sample rate, integrated loudness
and the recipe that makes it again.

Built in: ``espeak`` (eSpeak NG, the ``voices`` extra, GPL-3.0: see
``setpiece.voice.espeak``). Nothing here touches the database or the media store.
"""

from setpiece.voice.audio import DEFAULT_MAX_SECONDS, SILENCE_LUFS, WavInfo, read_wav
from setpiece.voice.base import (
    Speech,
    SpeechError,
    SpeechRequest,
    Synthesis,
    VoiceBackend,
    VoiceCapabilities,
    VoiceSettings,
    VoiceSpec,
    VoiceUnavailable,
    script_language,
)
from setpiece.voice.registry import (
    BUILTINS,
    GROUP,
    VoiceInfo,
    check_voice_tables,
    get_voice,
    list_voices,
    register,
    speak,
    voice_class,
)

__all__ = [
    "BUILTINS",
    "DEFAULT_MAX_SECONDS",
    "GROUP",
    "SILENCE_LUFS",
    "Speech",
    "SpeechError",
    "SpeechRequest",
    "Synthesis",
    "VoiceBackend",
    "VoiceCapabilities",
    "VoiceInfo",
    "VoiceSettings",
    "VoiceSpec",
    "VoiceUnavailable",
    "WavInfo",
    "check_voice_tables",
    "get_voice",
    "list_voices",
    "read_wav",
    "register",
    "script_language",
    "speak",
    "voice_class",
]
