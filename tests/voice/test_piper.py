"""Piper through its own runtime, on a tiny random ONNX voice the test builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.voice import SpeechRequest, VoiceSpec
from setpiece.voice.piper import PiperVoice

pytest.importorskip("piper", reason="the piper extra is not installed")
from voice.tiny_piper import HOP, RATE, write_tiny_voice

LINE = "Hand it over, kid."


@pytest.fixture
def voices(tmp_path: Path) -> Path:
    write_tiny_voice(tmp_path / "voices", "tiny")
    return tmp_path


def _backend(project: Path) -> PiperVoice:
    return PiperVoice({"models": "voices"}, project_dir=project)


def test_speaks_at_the_models_rate_with_its_hash(voices: Path) -> None:
    speech = _backend(voices).speak(SpeechRequest(LINE, VoiceSpec("piper", "tiny")), voices / "t")
    assert speech.sample_rate == RATE
    assert (speech.seconds * RATE) % HOP == 0  # whole phonemes, as the model makes them
    assert speech.recipe["model"] == "tiny.onnx"
    assert len(speech.recipe["model_sha256"]) == 64
    assert speech.recipe["language"] == "en-us"


def test_a_model_path_works_as_the_voice(voices: Path) -> None:
    model = str(voices / "voices" / "tiny.onnx")
    speech = PiperVoice().speak(SpeechRequest(LINE, VoiceSpec("piper", model)), voices / "t")
    assert speech.seconds > 0


def test_rate_is_the_length_scale(voices: Path) -> None:
    backend = _backend(voices)
    normal = backend.speak(SpeechRequest(LINE, VoiceSpec("piper", "tiny", rate=175)), voices / "a")
    slow = backend.speak(SpeechRequest(LINE, VoiceSpec("piper", "tiny", rate=88)), voices / "b")
    assert slow.recipe["length_scale"] == pytest.approx(175 / 88)
    assert float(slow.seconds / normal.seconds) == pytest.approx(175 / 88, rel=0.01)


def test_pitch_is_refused(voices: Path) -> None:
    with pytest.raises(InvalidInputError, match="takes no pitch"):
        _backend(voices).speak(SpeechRequest(LINE, VoiceSpec("piper", "tiny", pitch=40)), voices)


def test_a_missing_model_names_the_folder_and_what_is_there(voices: Path) -> None:
    with pytest.raises(
        NotFoundError, match=r"no Piper voice 'mara'.*voices in .*: tiny.*never downloads"
    ):
        _backend(voices).speak(SpeechRequest(LINE, VoiceSpec("piper", "mara")), voices / "t")


def test_a_line_in_another_language_is_refused_naming_both(voices: Path) -> None:
    with pytest.raises(NotFoundError, match="speaks en-us, and this line is ru"):
        _backend(voices).speak(SpeechRequest("Привет", VoiceSpec("piper", "tiny")), voices / "t")
    assert not (voices / "t").exists() or list((voices / "t").iterdir()) == []


def test_a_voice_that_would_download_is_refused(voices: Path) -> None:
    config = voices / "voices" / "tiny.onnx.json"
    data = json.loads(config.read_text())
    config.write_text(json.dumps({**data, "phoneme_type": "pinyin"}))
    with pytest.raises(InvalidInputError, match="'pinyin', which downloads"):
        _backend(voices).speak(SpeechRequest(LINE, VoiceSpec("piper", "tiny")), voices / "t")


def test_a_model_that_is_not_onnx_is_refused(voices: Path) -> None:
    (voices / "voices" / "tiny.onnx").write_bytes(b"not a model")
    with pytest.raises(InvalidInputError, match="cannot be loaded"):
        _backend(voices).speak(SpeechRequest(LINE, VoiceSpec("piper", "tiny")), voices / "t")
