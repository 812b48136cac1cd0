"""Piper: local neural voices from a voice model the user provides, never downloaded.

A Piper voice is two files, ``NAME.onnx`` and ``NAME.onnx.json`` (its config: sample rate,
phoneme map, the eSpeak NG voice that phonemises it). The spec's ``voice`` is ``NAME``,
looked for in ``[voices.piper] models`` (a folder, relative to the project; ``voices`` by
default), or a path to the ``.onnx`` file itself. The ``piper-tts`` package runs it
(``piper.voice.PiperVoice``: its own phonemiser and ONNX Runtime session); Setpiece never
fetches a model, and refuses the configs whose phonemiser would download one (Chinese
``pinyin`` voices fetch g2pW on first use).

``rate`` maps to Piper's length scale, 175 / rate (175 words per minute, eSpeak NG's normal,
is the model's own pace). Pitch is not a Piper setting: refused. A model speaks the language
it was trained on: a line in another script (``script_language``) is refused with the
model's language and the line's, rather than read with the wrong phonemes. VITS voices draw
noise while synthesising, so takes are not promised to repeat (``deterministic`` False).

**Licence.** ``piper-tts`` is GPL-3.0-or-later and embeds eSpeak NG: the ``piper`` extra,
for the reason ``setpiece.voice.espeak`` gives.
"""

from __future__ import annotations

import hashlib
import json
import threading
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
)

__all__ = ["PiperSettings", "PiperVoice"]

_NORMAL_RATE = 175
_PHONEMISERS = ("espeak", "text")  # the ones that run offline from the wheel alone


@dataclass(frozen=True)
class PiperSettings(VoiceSettings):
    """``[voices.piper]``: where the voice models are."""

    models: str = setting("voices", help="folder of NAME.onnx + NAME.onnx.json voice models")


class PiperVoice(VoiceBackend):
    """Piper voice models (``piper-tts``): ``voice`` is a model's name or its .onnx path."""

    name = "piper"
    requires = ("piper", "onnxruntime")
    extra = "piper"
    install_hint = "pip install 'setpiece[piper]' (piper-tts, GPL-3.0)"
    default_capabilities = VoiceCapabilities(rate=True, pitch=False, max_characters=4096)
    Settings = PiperSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[Path, Any] = {}
        self._lock = threading.Lock()

    def _folder(self) -> Path:
        assert isinstance(self.settings, PiperSettings)
        folder = Path(self.settings.models).expanduser()
        if not folder.is_absolute() and self.project_dir is not None:
            folder = self.project_dir / folder
        return folder

    def model_path(self, voice: str) -> Path:
        """The .onnx file of ``voice``.

        Raises:
            NotFoundError: No such model, or its .onnx.json is missing.
        """
        given = Path(voice).expanduser()
        if given.suffix == ".onnx":
            path = (
                given
                if given.is_absolute() or self.project_dir is None
                else self.project_dir / given
            )
        else:
            path = self._folder() / f"{voice}.onnx"
        if not path.is_file():
            have = (
                sorted(p.stem for p in self._folder().glob("*.onnx"))
                if self._folder().is_dir()
                else []
            )
            raise NotFoundError(
                f"no Piper voice {voice!r}: {path} does not exist"
                + (f"; voices in {self._folder()}: {', '.join(have)}" if have else "")
                + " (Setpiece never downloads voices: put NAME.onnx and NAME.onnx.json there)"
            )
        if not Path(f"{path}.json").is_file():
            raise NotFoundError(f"Piper voice {voice!r} has no config {path.name}.json beside it")
        return path

    def _config(self, path: Path) -> dict[str, Any]:
        try:
            config = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
            phonemes = config.get("phoneme_type", "espeak")
            language = str(config["espeak"]["voice"])
            int(config["audio"]["sample_rate"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(
                f"{path.name}.json is not a Piper voice config ({type(exc).__name__}: {exc})"
            ) from None
        if phonemes not in _PHONEMISERS:
            raise InvalidInputError(
                f"Piper voice {path.stem} phonemises with {phonemes!r}, which downloads or "
                f"needs more than piper-tts; Setpiece runs {', '.join(_PHONEMISERS)} voices"
            )
        return {"language": language.lower(), "phonemes": phonemes, **config}

    def resolve_language(self, request: SpeechRequest) -> str | None:
        """The model's language; a line in another language or script is refused.

        Raises:
            NotFoundError: The line's language is not the model's.
        """
        wanted = super().resolve_language(request)
        config = self._config(self.model_path(request.spec.voice))
        own = config["language"]
        if wanted is not None and own != wanted and not own.startswith(wanted.split("-")[0]):
            raise NotFoundError(
                f"Piper voice {request.spec.voice} speaks {own}, and this line is {wanted}: "
                f"give the character a {wanted} voice for it"
            )
        return own

    def _voice(self, path: Path) -> Any:
        try:
            from piper.voice import PiperVoice as Runtime
        except ImportError:
            raise MissingExtraError("the piper voice", "piper", "piper-tts") from None
        with self._lock:
            if path not in self._loaded:
                try:
                    self._loaded[path] = Runtime.load(path, download_dir=path.parent)
                except Exception as exc:  # onnxruntime's own errors: a model it cannot load
                    raise InvalidInputError(
                        f"Piper voice {path.name} cannot be loaded: {type(exc).__name__}: {exc}"
                    ) from None
            return self._loaded[path]

    def synthesize(
        self, text: str, request: SpeechRequest, language: str | None, workdir: Path
    ) -> Synthesis:
        from piper.config import SynthesisConfig

        path = self.model_path(request.spec.voice)
        runtime = self._voice(path)
        rate = request.spec.rate
        length_scale = None if rate is None else _NORMAL_RATE / rate
        out = workdir / "line.wav"
        try:
            with wave.open(str(out), "wb") as wav:
                runtime.synthesize_wav(text, wav, SynthesisConfig(length_scale=length_scale))
        except Exception as exc:  # the model failed on this input (ONNX Runtime's errors)
            raise SpeechError(
                f"Piper voice {path.stem} failed: {type(exc).__name__}: {exc}"
            ) from None
        return Synthesis(
            path=out,
            recipe={
                "engine": "piper-tts",
                "model": path.name,
                "model_sha256": _sha256(path),
                "length_scale": length_scale,
            },
            sample_rate=int(runtime.config.sample_rate),
        )

    def close(self) -> None:
        self._loaded.clear()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
