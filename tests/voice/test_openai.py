"""OpenAI's speech endpoint through the real SDK, against a local server that speaks its
protocol: the key from the environment only, never in a recipe or a message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.voice import SpeechError, SpeechRequest, VoiceSpec, VoiceUnavailable, get_voice
from setpiece.voice.openai import OpenAIVoice

pytest.importorskip("openai", reason="the openai extra is not installed")
from voice.openai_stub import KEY, RATE, Stub, openai_stub

LINE = "Trust does not pay the rent."


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stub]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with openai_stub() as running:
        yield running


def _backend(stub: Stub) -> OpenAIVoice:
    return OpenAIVoice({"base_url": stub.base_url})


def test_a_streamed_wav_is_stored_with_true_sizes(stub: Stub, tmp_path: Path) -> None:
    speech = _backend(stub).speak(SpeechRequest(LINE, VoiceSpec("openai", "coral")), tmp_path)
    assert speech.sample_rate == RATE
    assert float(speech.seconds) == pytest.approx(0.06 * len(LINE), abs=0.01)
    data = speech.path.read_bytes()
    assert int.from_bytes(data[4:8], "little") == len(data) - 8  # no 0xFFFFFFFF left
    sent = stub.requests[-1]
    assert sent["body"] == {
        "model": "gpt-4o-mini-tts",
        "voice": "coral",
        "input": LINE,
        "response_format": "wav",
    }
    assert KEY not in repr(speech.recipe)


def test_rate_is_sent_as_speed(stub: Stub, tmp_path: Path) -> None:
    speech = _backend(stub).speak(
        SpeechRequest(LINE, VoiceSpec("openai", "alloy", rate=350)), tmp_path
    )
    assert stub.requests[-1]["body"]["speed"] == 2.0
    assert float(speech.seconds) == pytest.approx(0.03 * len(LINE), abs=0.01)


def test_a_custom_voice_id_is_sent_as_an_object(stub: Stub, tmp_path: Path) -> None:
    _backend(stub).speak(SpeechRequest(LINE, VoiceSpec("openai", "voice_1234")), tmp_path)
    assert stub.requests[-1]["body"]["voice"] == {"id": "voice_1234"}


def test_an_unknown_voice_is_refused_before_a_request(stub: Stub, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="OpenAI has no voice 'gandalf'"):
        _backend(stub).speak(SpeechRequest(LINE, VoiceSpec("openai", "gandalf")), tmp_path)
    assert stub.requests == []


def test_no_key_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InvalidInputError, match="not configured: set OPENAI_API_KEY"):
        get_voice("openai")
    with pytest.raises(InvalidInputError, match="needs an API key: set OPENAI_API_KEY"):
        OpenAIVoice().speak(SpeechRequest(LINE, VoiceSpec("openai", "alloy")), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_refused_key_is_permanent_and_scrubbed(
    stub: Stub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wrong = "sk-wrong-key-that-must-not-leak"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    with pytest.raises(SpeechError, match="refused the key in OPENAI_API_KEY") as caught:
        _backend(stub).speak(SpeechRequest(LINE, VoiceSpec("openai", "alloy")), tmp_path)
    assert not caught.value.transient
    assert wrong not in str(caught.value)


@pytest.mark.parametrize(("status", "transient"), [(429, True), (500, True), (400, False)])
def test_failures_are_told_apart(stub: Stub, tmp_path: Path, status: int, transient: bool) -> None:
    stub.fail_next = status
    with pytest.raises(SpeechError, match=f"answered {status}") as caught:
        _backend(stub).speak(SpeechRequest(LINE, VoiceSpec("openai", "alloy")), tmp_path)
    assert caught.value.transient is transient
    assert list(tmp_path.iterdir()) == []


def test_a_server_not_there_is_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    backend = OpenAIVoice({"base_url": "http://127.0.0.1:9/v1", "timeout_seconds": 5})
    with pytest.raises(VoiceUnavailable, match="cannot be reached"):
        backend.speak(SpeechRequest(LINE, VoiceSpec("openai", "alloy")), tmp_path)


def test_reachable_spends_nothing(stub: Stub) -> None:
    assert _backend(stub).reachable() is True
    assert stub.requests == []


def test_the_key_is_not_a_setting() -> None:
    with pytest.raises(InvalidInputError, match="unknown key 'api_key'"):
        OpenAIVoice({"api_key": "sk-x"})
