"""eSpeak NG through espeakng-loader: voices, languages, defaults per character, and what
it refuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.voice import SpeechRequest, VoiceSpec, script_language
from setpiece.voice.espeak import SAMPLE_RATE, VARIANTS, EspeakVoice, default_voice, default_voices

pytest.importorskip("espeakng_loader", reason="the voices extra is not installed")


def _speak(tmp_path: Path, text: str, spec: VoiceSpec, language: str | None = None):  # type: ignore[no-untyped-def]
    return EspeakVoice().speak(SpeechRequest(text, spec, language=language), tmp_path)


def test_speaks_22050_hz_mono(tmp_path: Path) -> None:
    speech = _speak(tmp_path, "Guard that.", VoiceSpec("espeak", "en-us"))
    assert speech.sample_rate == SAMPLE_RATE
    assert speech.recipe["engine"].startswith("eSpeak NG 1.")
    assert speech.recipe["spoken_as"] == "en-us"


def test_rate_changes_the_length_and_pitch_the_sound(tmp_path: Path) -> None:
    slow = _speak(tmp_path, "It is the only print left.", VoiceSpec("espeak", "en-us+m1", rate=100))
    fast = _speak(tmp_path, "It is the only print left.", VoiceSpec("espeak", "en-us+m1", rate=300))
    assert slow.seconds > 2 * fast.seconds
    low = _speak(tmp_path, "It is the only print left.", VoiceSpec("espeak", "en-us+m1", pitch=10))
    high = _speak(tmp_path, "It is the only print left.", VoiceSpec("espeak", "en-us+m1", pitch=90))
    assert low.path.read_bytes() != high.path.read_bytes()


def test_parameters_do_not_leak_from_one_line_to_the_next(tmp_path: Path) -> None:
    spec = VoiceSpec("espeak", "en-us+f2")
    before = _speak(tmp_path / "a", "She trusted me with it.", spec)
    _speak(tmp_path / "b", "She trusted me with it.", VoiceSpec("espeak", "en-us+m7", 400, 99))
    after = _speak(tmp_path / "c", "She trusted me with it.", spec)
    assert before.path.read_bytes() == after.path.read_bytes()


def test_the_same_line_is_the_same_bytes_in_a_new_process(tmp_path: Path) -> None:
    here = _speak(tmp_path / "here", "Trust does not pay the rent.", default_voice("BRANDT"))
    code = (
        "import sys; from pathlib import Path; from setpiece.voice import SpeechRequest; "
        "from setpiece.voice.espeak import EspeakVoice, default_voice; "
        "print(EspeakVoice().speak(SpeechRequest('Trust does not pay the rent.', "
        "default_voice('BRANDT')), Path(sys.argv[1])).path)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "there")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert Path(out.stdout.strip()).read_bytes() == here.path.read_bytes()


@pytest.mark.parametrize(
    ("text", "language"),
    [("Привет, как дела?", "ru"), ("こんにちは、元気ですか", "ja"), ("Καλημέρα", "el")],
)
def test_text_in_another_script_is_spoken_with_a_voice_of_its_language(
    tmp_path: Path, text: str, language: str
) -> None:
    speech = _speak(tmp_path, text, VoiceSpec("espeak", "en-us+f2"))
    assert speech.recipe["language"] == language
    assert speech.recipe["spoken_as"] == f"{language}+f2"
    assert speech.seconds > 0.5


def test_a_language_espeak_lacks_is_named(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no voice for the language 'km'"):
        _speak(tmp_path, "សួស្តី", VoiceSpec("espeak", "en-us"))
    assert list(tmp_path.iterdir()) == []


def test_a_given_language_wins_over_the_script(tmp_path: Path) -> None:
    speech = _speak(tmp_path, "Добрий вечір", VoiceSpec("espeak", "en-us"), language="uk")
    assert speech.recipe["spoken_as"] == "uk"


@pytest.mark.parametrize("voice", ["xx-nowhere", "en-us+zz9", "klingon+m1"])
def test_a_voice_id_espeak_does_not_have_is_not_found(tmp_path: Path, voice: str) -> None:
    with pytest.raises(NotFoundError, match="eSpeak NG has no"):
        _speak(tmp_path, "Hand it over, kid.", VoiceSpec("espeak", voice))


@pytest.mark.parametrize(("rate", "pitch"), [(20, None), (900, None), (None, -1), (None, 101)])
def test_rate_and_pitch_out_of_range_are_refused(
    tmp_path: Path, rate: int | None, pitch: int | None
) -> None:
    with pytest.raises(InvalidInputError, match="outside"):
        _speak(tmp_path, "Hand it over.", VoiceSpec("espeak", "en-us", rate, pitch))


def test_a_sample_is_refused_espeak_does_not_clone(tmp_path: Path) -> None:
    sample = tmp_path / "me.wav"
    sample.write_bytes(b"")
    with pytest.raises(InvalidInputError, match="does not clone voices"):
        _speak(tmp_path / "t", "Hand it over.", VoiceSpec("espeak", "en-us", sample=sample))


def test_default_voices_are_stable_and_distinct() -> None:
    mara = default_voice("MARA")
    assert mara == default_voice("  mara ")  # case and spacing folded
    assert mara.backend == "espeak" and mara.voice.startswith("en-us+")
    assert mara.voice.rpartition("+")[2] in VARIANTS
    assert mara.pitch is not None and 30 <= mara.pitch <= 70
    assert mara.rate is not None and 150 <= mara.rate <= 190
    cast = default_voices(["MARA", "TEO", "BRANDT", "KAI", "ROSA", "IVO", "NELL", "OTTO"])
    assert len({spec.voice for spec in cast.values()}) == 8
    assert default_voices(["TEO", "MARA"])["MARA"] == mara
    order = sorted(cast)
    for index, name in enumerate(order):
        own = default_voice(name)
        rivals = [n for n in order[:index] if default_voice(n).voice == own.voice]
        # A character keeps its own voice unless someone sorting before it derives it too.
        assert (cast[name] == own) == (not rivals), name
        assert (cast[name].rate, cast[name].pitch) == (own.rate, own.pitch)
    fifteen = default_voices([f"EXTRA {n}" for n in range(15)])
    assert len({(s.voice, s.rate, s.pitch) for s in fifteen.values()}) == 15


def test_script_language() -> None:
    assert script_language("Hand it over, kid.") is None
    assert script_language("Привет") == "ru"
    assert script_language("東京へ行きます") == "ja"  # kana make Han Japanese
    assert script_language("你好") == "cmn"
    assert script_language("...!") is None
