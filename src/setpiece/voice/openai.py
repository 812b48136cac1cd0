"""OpenAI's speech endpoint (``POST /v1/audio/speech``) through the official ``openai`` SDK.

The hosted backend: the line leaves the machine (``hosted`` in the capabilities). The key
is read from the environment variable ``[voices.openai] api_key_env`` names
(``OPENAI_API_KEY``) at the moment of speaking: never from setpiece.toml, never stored,
never in a recipe, and scrubbed from every message. ``base_url`` points the SDK at a
compatible server (the tests' stub speaks the real protocol on loopback).

What it decides:

* **WAV, repaired.** The endpoint streams ``response_format="wav"`` with the RIFF and data
  sizes set to 0xFFFFFFFF (OpenAI's streaming placeholder; see speaches-ai/speaches#493):
  the PCM is rewritten into a WAV with true sizes before it is measured and stored. Its
  rate is what the header says (24,000 Hz today); anything but 16-bit PCM is refused.
* **Voices** are the documented built-ins (``alloy`` ... ``cedar``) or a custom voice id
  (``voice_...``); any other id is refused before a request is spent. ``rate`` maps to
  ``speed`` = rate / 175; pitch is not an endpoint setting: refused.
* **Failures told apart** like the generators': 429, 5xx and time-outs are transient; a
  refused key (401/403) and a refused request (400/404/422) are not; a server that cannot
  be reached at all is ``VoiceUnavailable``. The SDK's own retries are off
  (``max_retries=0``): whoever queues the line decides when to try again.
"""

from __future__ import annotations

import os
import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from setpiece.config import setting
from setpiece.errors import InvalidInputError, MissingExtraError, NotFoundError
from setpiece.voice.base import (
    SpeechError,
    SpeechRequest,
    Synthesis,
    VoiceBackend,
    VoiceCapabilities,
    VoiceSettings,
    VoiceUnavailable,
)

__all__ = ["BUILTIN_VOICES", "OpenAISettings", "OpenAIVoice"]

BUILTIN_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
_NORMAL_RATE = 175


@dataclass(frozen=True)
class OpenAISettings(VoiceSettings):
    """``[voices.openai]``: the model, the server, and where the key is (never the key)."""

    model: str = setting("gpt-4o-mini-tts", help="the speech model")
    base_url: str = setting("https://api.openai.com/v1", help="the API's base URL")
    api_key_env: str = setting("OPENAI_API_KEY", help="environment variable holding the key")
    timeout_seconds: float = setting(120.0, low=1, high=3600, help="per request")


class OpenAIVoice(VoiceBackend):
    """OpenAI text to speech: ``voice`` is a built-in voice name or a ``voice_...`` id."""

    name = "openai"
    requires = ("openai",)
    extra = "openai"
    install_hint = "pip install 'setpiece[openai]'"
    default_capabilities = VoiceCapabilities(
        rate=True, pitch=False, hosted=True, max_characters=4096
    )
    Settings = OpenAISettings

    @property
    def _settings(self) -> OpenAISettings:
        assert isinstance(self.settings, OpenAISettings)
        return self.settings

    @classmethod
    def missing_settings(cls, settings: VoiceSettings) -> list[str]:
        assert isinstance(settings, OpenAISettings)
        return [] if os.environ.get(settings.api_key_env) else [settings.api_key_env]

    def _key(self) -> str:
        key = os.environ.get(self._settings.api_key_env, "")
        if not key:
            raise InvalidInputError(
                f"the openai voice needs an API key: set {self._settings.api_key_env} "
                "in the environment (it is never read from setpiece.toml)"
            )
        return key

    def _scrub(self, text: str) -> str:
        key = os.environ.get(self._settings.api_key_env, "")
        return text.replace(key, "[key]") if len(key) >= 4 else text

    def _client(self) -> Any:
        try:
            import openai
        except ImportError:
            raise MissingExtraError("the openai voice", "openai", "openai") from None
        return openai.OpenAI(
            api_key=self._key(),
            base_url=self._settings.base_url,
            max_retries=0,
            timeout=self._settings.timeout_seconds,
        )

    def reachable(self) -> bool | None:
        """Lists the models (spends nothing).

        Raises:
            SpeechError: The key is refused or the server fails; VoiceUnavailable when it
                cannot be reached.
        """
        client = self._client()
        try:
            client.models.list()
        except Exception as exc:
            raise self._failure(exc) from None
        finally:
            client.close()
        return True

    def check(self, request: SpeechRequest) -> str:
        """The base checks, then the voice id: a built-in voice or a custom ``voice_...`` id,
        refused here, before a character is given it or a request is spent.

        Raises:
            NotFoundError: No such voice.
        """
        text = super().check(request)
        voice = request.spec.voice
        if voice not in BUILTIN_VOICES and not voice.startswith("voice_"):
            raise NotFoundError(
                f"OpenAI has no voice {voice!r}: built-in voices are "
                f"{', '.join(BUILTIN_VOICES)}, or a custom voice id voice_..."
            )
        return text

    def synthesize(
        self, text: str, request: SpeechRequest, language: str | None, workdir: Path
    ) -> Synthesis:
        voice = request.spec.voice
        speed = None if request.spec.rate is None else round(request.spec.rate / _NORMAL_RATE, 3)
        arguments: dict[str, Any] = {
            "model": self._settings.model,
            "voice": voice if voice in BUILTIN_VOICES else {"id": voice},
            "input": text,
            "response_format": "wav",
        }
        if speed is not None:
            arguments["speed"] = speed
        client = self._client()
        try:
            body = client.audio.speech.create(**arguments).read()
        except Exception as exc:
            raise self._failure(exc) from None
        finally:
            client.close()
        path = workdir / "line.wav"
        rate = _rewrite_wav(body, path)
        return Synthesis(
            path=path,
            recipe={
                "engine": "openai",
                "model": self._settings.model,
                "base_url": self._settings.base_url,
                "speed": speed,
            },
            sample_rate=rate,
        )

    def _failure(self, exc: Exception) -> SpeechError:
        """The SDK's error as a SpeechError: transient or not, the key scrubbed."""
        import openai

        where = self._settings.base_url
        message = self._scrub(str(getattr(exc, "message", None) or exc))
        if isinstance(exc, openai.APITimeoutError):
            return SpeechError(f"OpenAI at {where} timed out: {message}", transient=True)
        if isinstance(exc, openai.APIConnectionError):
            return VoiceUnavailable(
                f"OpenAI at {where} cannot be reached: {message}", waiting_for=f"OpenAI at {where}"
            )
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status in (401, 403):
                return SpeechError(
                    f"OpenAI refused the key in {self._settings.api_key_env} ({status}): {message}"
                )
            transient = status == 429 or status >= 500
            return SpeechError(f"OpenAI answered {status}: {message}", transient=transient)
        return SpeechError(f"OpenAI failed: {type(exc).__name__}: {message}")


def _rewrite_wav(body: bytes, path: Path) -> int:
    """Writes the 16-bit PCM of a (possibly streamed) WAV body to ``path``; returns its rate.

    Raises:
        SpeechError: The body is not a 16-bit PCM WAV.
    """
    if len(body) < 12 or body[:4] != b"RIFF" or body[8:12] != b"WAVE":
        raise SpeechError(f"OpenAI answered {len(body)} bytes that are not a WAV file")
    position, fmt, data = 12, None, None
    while position + 8 <= len(body):
        chunk, size = struct.unpack_from("<4sI", body, position)
        start = position + 8
        if chunk == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", body, start)
        elif chunk == b"data":
            data = body[start:] if size == 0xFFFFFFFF else body[start : start + size]
            break
        position = start + size + (size & 1)
    if fmt is None or data is None:
        raise SpeechError("OpenAI's WAV has no fmt or data chunk")
    encoding, channels, rate, _, _, bits = fmt
    if encoding != 1 or bits != 16 or channels < 1:
        raise SpeechError(f"OpenAI's WAV is format {encoding} at {bits} bits, not 16-bit PCM")
    usable = len(data) - len(data) % (2 * channels)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data[:usable])
    return int(rate)
