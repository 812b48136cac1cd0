"""The conformance run over every built-in voice backend: each one speaks a line into a
measured WAV with its recipe, and refuses the same bad input the same way, leaving nothing
half-written behind.

A backend joins ``BACKENDS`` with a factory that makes it ready here (a model file it
builds, a stub server it starts); the first test fails until every built-in has one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.voice import BUILTINS, Speech, SpeechRequest, VoiceBackend, VoiceSpec, read_wav
from setpiece.voice.registry import get_voice

pytest.importorskip("espeakng_loader", reason="the voices extra is not installed")

LINE = "Then tonight we show them what light looks like."


def _espeak(tmp_path: Path) -> Iterator[tuple[VoiceBackend, VoiceSpec]]:
    backend = get_voice("espeak")
    yield backend, VoiceSpec("espeak", "en-us+m3", rate=170, pitch=45)
    backend.close()


FACTORIES: dict[str, Callable[[Path], Iterator[tuple[VoiceBackend, VoiceSpec]]]] = {
    "espeak": _espeak,
}


def test_every_builtin_has_a_conformance_run() -> None:
    assert set(FACTORIES) == set(BUILTINS)


@pytest.fixture(params=sorted(FACTORIES))
def voice(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[VoiceBackend, VoiceSpec]]:
    yield from FACTORIES[request.param](tmp_path)


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_line_becomes_a_measured_wav_with_its_recipe(
    voice: tuple[VoiceBackend, VoiceSpec], tmp_path: Path
) -> None:
    backend, spec = voice
    out = tmp_path / "takes"
    speech = backend.speak(SpeechRequest(LINE, spec), out)
    assert isinstance(speech, Speech)
    assert _left(out) == [speech.path.name]  # the WAV, and no scratch folder
    info = read_wav(speech.path)
    assert (info.seconds, info.sample_rate, info.lufs) == (
        speech.seconds,
        speech.sample_rate,
        speech.lufs,
    )
    # A sentence of ten words takes seconds to say, and is heard (above the gate).
    assert 1 < speech.seconds < 10
    assert -40 < speech.lufs < 0
    assert speech.recipe["backend"] == backend.name
    assert speech.recipe["voice"] == spec.voice
    assert speech.recipe["text"] == LINE
    secrets = [v for k, v in os.environ.items() if "KEY" in k and len(v) > 8]
    assert not any(secret in repr(speech.recipe) for secret in secrets)


def test_the_same_request_makes_the_same_take_when_deterministic(
    voice: tuple[VoiceBackend, VoiceSpec], tmp_path: Path
) -> None:
    backend, spec = voice
    if not backend.capabilities().deterministic:
        pytest.skip(f"{backend.name} does not promise the same bytes")
    first = backend.speak(SpeechRequest(LINE, spec), tmp_path / "a")
    second = backend.speak(SpeechRequest(LINE, spec), tmp_path / "b")
    assert first.path.name == second.path.name
    assert first.path.read_bytes() == second.path.read_bytes()


@pytest.mark.parametrize("text", ["", "   \n\t ", " ... "])
def test_an_empty_line_is_refused(
    voice: tuple[VoiceBackend, VoiceSpec], tmp_path: Path, text: str
) -> None:
    backend, spec = voice
    with pytest.raises(InvalidInputError, match="the line is empty"):
        backend.speak(SpeechRequest(text, spec), tmp_path / "takes")
    assert _left(tmp_path / "takes") == []


def test_a_line_of_5000_characters_is_refused_with_the_limit(
    voice: tuple[VoiceBackend, VoiceSpec], tmp_path: Path
) -> None:
    backend, spec = voice
    text = ("Trust does not pay the rent. " * 200)[:5000]
    limit = backend.capabilities().max_characters
    assert limit < 5000
    with pytest.raises(InvalidInputError, match=f"at most {limit:,} in one take: split it"):
        backend.speak(SpeechRequest(text, spec), tmp_path / "takes")
    assert _left(tmp_path / "takes") == []


def test_a_voice_the_backend_does_not_have_is_not_found(
    voice: tuple[VoiceBackend, VoiceSpec], tmp_path: Path
) -> None:
    backend, spec = voice
    with pytest.raises(NotFoundError, match="no-such-voice"):
        backend.speak(SpeechRequest(LINE, replace(spec, voice="no-such-voice")), tmp_path / "t")
    assert _left(tmp_path / "t") == []


def test_speech_longer_than_max_seconds_is_refused_and_not_kept(
    voice: tuple[VoiceBackend, VoiceSpec], tmp_path: Path
) -> None:
    backend, spec = voice
    with pytest.raises(InvalidInputError, match=r"longer than 0.5 s \(\[dialogue\] max_seconds\)"):
        backend.speak(SpeechRequest(LINE, spec), tmp_path / "takes", max_seconds=0.5)
    assert _left(tmp_path / "takes") == []


def test_a_spec_for_another_backend_is_refused(
    voice: tuple[VoiceBackend, VoiceSpec], tmp_path: Path
) -> None:
    backend, spec = voice
    with pytest.raises(InvalidInputError, match=f"not {backend.name}"):
        backend.speak(SpeechRequest(LINE, replace(spec, backend="other")), tmp_path / "t")


def test_settings_refuse_an_unknown_key(voice: tuple[VoiceBackend, VoiceSpec]) -> None:
    backend, _ = voice
    with pytest.raises(InvalidInputError, match=rf"\[voices.{backend.name}\]: unknown key 'nope'"):
        type(backend).load_settings({"nope": 1})


def test_capabilities_are_data(voice: tuple[VoiceBackend, VoiceSpec]) -> None:
    backend, _ = voice
    shown = backend.capabilities().to_json()
    assert set(shown) >= {"languages", "cloning", "rate", "pitch", "hosted", "max_characters"}
