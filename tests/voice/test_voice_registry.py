"""Finding voice backends: built-ins lazily, entry points by name, broken plugins named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from setpiece.errors import InvalidInputError, MissingExtraError, NotFoundError
from setpiece.voice import (
    SpeechRequest,
    Synthesis,
    VoiceBackend,
    VoiceSpec,
    check_voice_tables,
    get_voice,
    list_voices,
    registry,
    speak,
)
from voice.voicefactory import write_sine


class _Tone(VoiceBackend):
    """A plugin that says every line as a one-second tone."""

    name = "tone"

    def synthesize(self, text, request, language, workdir):  # type: ignore[no-untyped-def]
        return Synthesis(write_sine(workdir / "tone.wav", seconds=1.0), {"tone_hz": 1000})


def test_listing_imports_no_backend() -> None:
    code = (
        "import sys; from setpiece.voice import list_voices; list_voices(); "
        "print([m for m in ('espeakng_loader', 'onnxruntime', 'openai', 'piper') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_espeak_is_listed_with_its_extra() -> None:
    (espeak,) = [info for info in list_voices() if info.name == "espeak"]
    assert espeak.source == "builtin"
    assert espeak.installed is (espeak.install_hint is None)
    assert espeak.capabilities is not None and espeak.capabilities["pitch"] is True


def test_an_unknown_backend_is_not_found() -> None:
    with pytest.raises(NotFoundError, match=r"no voice backend 'nope': there are .*espeak"):
        get_voice("nope")


def test_a_registered_backend_speaks_through_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry._PLUGINS, "registered", {})
    registry.register(_Tone)
    speech = speak(SpeechRequest("Hello.", VoiceSpec("tone", "a")), tmp_path)
    assert speech.recipe["tone_hz"] == 1000 and speech.seconds == 1
    assert [info.source for info in list_voices() if info.name == "tone"] == ["registered"]


def test_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Needs(_Tone):
        name = "needs"
        requires = ("no_such_module_here",)
        extra = "voices"

    monkeypatch.setattr(registry._PLUGINS, "registered", {})
    registry.register(_Needs)
    with pytest.raises(MissingExtraError, match=r"pip install 'setpiece\[voices\]'"):
        get_voice("needs")


def test_an_unknown_voices_table_is_refused() -> None:
    check_voice_tables({"voices": {"espeak": {}}})
    with pytest.raises(InvalidInputError, match=r"unknown section \[voices.espek\]"):
        check_voice_tables({"voices": {"espek": {}}})


def test_the_readme_s_voices_tables_are_read() -> None:
    import re
    import tomllib

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    tables: dict[str, object] = {}
    for block in re.findall(r"^```toml\n(.*?)^```", readme, flags=re.S | re.M):
        tables.update(tomllib.loads(block).get("voices", {}))
    assert set(tables) == {"piper", "openai"}
    check_voice_tables({"voices": tables})
    for name, table in tables.items():
        found = registry.voice_class(name)
        assert found is not None
        found[1].load_settings(table)  # type: ignore[arg-type]


def test_unavailable_says_why_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Needs(_Tone):
        name = "needs"
        requires = ("no_such_module_here",)
        extra = "voices"

    monkeypatch.setattr(registry._PLUGINS, "registered", {})
    registry.register(_Needs)
    assert registry.unavailable("needs") == (
        "the needs voice is not installed (pip install 'setpiece[voices]'): no synthetic dialogue"
    )
    assert registry.unavailable("nope") == "there is no voice backend 'nope'"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    openai = registry.voice_class("openai")
    assert openai is not None
    if not openai[1].missing():  # the openai extra is installed
        assert registry.unavailable("openai") == (
            "the openai voice is not configured: set OPENAI_API_KEY"
        )
    registry.register(_Tone)
    assert registry.unavailable("tone") is None


class _Liar(VoiceBackend):
    """A backend whose WAV is not what it promised: garbage, or another sample rate."""

    name = "liar"
    garbage = False

    def synthesize(self, text, request, language, workdir):  # type: ignore[no-untyped-def]
        path = workdir / "line.wav"
        if self.garbage:
            path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
        else:
            write_sine(path, rate=16000)
        return Synthesis(path, sample_rate=22050)


@pytest.mark.parametrize(
    ("garbage", "refusal"),
    [(True, "not audio FFmpeg can read"), (False, "16000 Hz, not the 22050")],
)
def test_a_backend_s_bad_wav_is_refused_and_nothing_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, garbage: bool, refusal: str
) -> None:
    from setpiece.errors import InvalidMediaError

    monkeypatch.setattr(_Liar, "garbage", garbage)
    with pytest.raises(InvalidMediaError, match=refusal):
        _Liar().speak(SpeechRequest("Hello.", VoiceSpec("liar", "a")), tmp_path / "takes")
    assert list((tmp_path / "takes").iterdir()) == []
