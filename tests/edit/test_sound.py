"""Dialogue in the cut: the placement rule, loudness, and the mix decoded back from the movie."""

from __future__ import annotations

import itertools
import math
import os
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from setpiece.edit.movie import write_preview
from setpiece.edit.sound import (
    AUDIO_RATE,
    LINE_LOUDNESS,
    PAUSE,
    place_lines,
    read_line,
    sample_at,
)
from setpiece.errors import InvalidInputError, InvalidMediaError, StorageError
from setpiece.model.dialogue import LineAudio
from setpiece.production.cut import Cut, CutClip
from setpiece.production.dialogue import dialogue_settings
from setpiece.store.loudness import integrated_loudness

FPS = Fraction(24000, 1001)


def slate(index: int, scene: str, shot: str, record_in: int, duration: int) -> CutClip:
    return CutClip(
        index=index,
        scene=scene,
        scene_heading="INT. KITCHEN - NIGHT",
        shot=shot,
        kind="slate",
        record_in=record_in,
        duration=duration,
        label=f"{shot}: NOT APPROVED",
    )


def cut_of(*lengths: int, fps: Fraction = FPS) -> Cut:
    """Slates 1A, 1B, ... of the given lengths in frames, back to back, all in scene 1."""
    clips, at = [], 0
    for i, length in enumerate(lengths):
        clips.append(slate(i, "1", f"1{chr(65 + i)}", at, length))
        at += length
    return Cut("Test Film", fps, 160, 90, clips)


def write_wav(
    path: Path, seconds: float, *, amplitude: float = 0.3, rate: int = 22050, seed: int = 0
) -> Path:
    """Mono 16-bit noise of exactly ``seconds`` (rounded to samples): a line with a known length."""
    count = round(seconds * rate)
    noise = np.random.default_rng(seed).uniform(-amplitude, amplitude, count)
    with wave.open(os.fspath(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((noise * 32767).astype("<i2").tobytes())
    return path


def line(
    order: int,
    shot: str,
    seconds: float,
    audio: Path,
    *,
    character: str = "MARA",
    dual: bool = False,
) -> LineAudio:
    return LineAudio(
        line=f"1/{order}",
        scene="1",
        order=order,
        character=character,
        shot=shot,
        audio=audio,
        seconds=Fraction(seconds).limit_denominator(100000),
        dual=dual,
        voice="espeak:en-us+f3",
    )


def test_lines_start_a_pause_after_the_in_point_and_after_each_other(tmp_path: Path) -> None:
    cut = cut_of(120, 96)
    wav = tmp_path / "x.wav"
    lines = [
        line(3, "1B", 1.0, wav),
        line(1, "1A", 1.0, wav),
        line(2, "1A", 0.5, wav, character="JONAH"),
    ]

    placed = place_lines(cut, lines, pause=0.25)

    pause = round(Fraction(1, 4) * FPS)  # 6 frames at 23.976
    assert [p.line.line for p in placed.lines] == ["1/1", "1/2", "1/3"]  # script order
    one, two, three = placed.lines
    assert (one.record_in, one.frames) == (pause, math.ceil(FPS))  # 24 frames for 1 s
    assert two.record_in == one.record_out + pause
    assert two.frames == math.ceil(FPS / 2)
    assert three.record_in == 120 + pause  # the next shot starts over from its in-point
    assert {p.track for p in placed.lines} == {1}
    assert placed.warnings == []
    assert one.name == "1/1 MARA"


def test_dual_dialogue_starts_together_on_two_tracks(tmp_path: Path) -> None:
    wav = tmp_path / "x.wav"
    lines = [
        line(1, "1A", 1.0, wav),
        line(2, "1A", 2.0, wav, character="JONAH", dual=True),
        line(3, "1A", 1.0, wav, character="MARA", dual=True),
        line(4, "1A", 0.5, wav),
    ]

    placed = place_lines(cut_of(240), lines, pause=0.5).lines

    gap = 12
    assert placed[1].record_in == placed[2].record_in == placed[0].record_out + gap
    assert (placed[1].track, placed[2].track) == (1, 2)
    assert placed[3].record_in == placed[1].record_out + gap  # after the longer of the pair
    assert placed[3].track == 1


def test_a_line_off_the_cut_or_past_its_shot_is_reported(tmp_path: Path) -> None:
    wav = tmp_path / "x.wav"
    lines = [line(1, "1A", 3.0, wav), line(2, "9Z", 1.0, wav)]

    placed = place_lines(cut_of(48), lines, pause=0)

    assert [p.line.line for p in placed.lines] == ["1/1"]
    assert placed.lines[0].record_in == 0
    assert any("1/2" in w and "9Z is not in the cut" in w for w in placed.warnings)
    assert any("1/1" in w and "past the end of shot 1A" in w for w in placed.warnings)


def test_the_pause_is_a_setting_with_a_range() -> None:
    assert dialogue_settings({}).pause == PAUSE == 0.25
    assert dialogue_settings({"dialogue": {"pause": 1}}).pause == 1.0
    with pytest.raises(InvalidInputError, match=r"\[dialogue\] pause"):
        dialogue_settings({"dialogue": {"pause": -1}})


def test_a_missing_or_broken_line_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"line 1/1: its audio .* is missing"):
        read_line(tmp_path / "gone.wav", "1/1")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(InvalidMediaError, match="line 1/1"):
        read_line(broken, "1/1")


def onsets(sound: np.ndarray, threshold: float = 0.02) -> list[int]:
    """Samples where sound starts after at least 20 ms of silence."""
    loud = np.nonzero(np.abs(sound).max(axis=0) > threshold)[0]
    starts = [int(loud[0])] if loud.size else []
    for previous, current in itertools.pairwise(loud):
        if current - previous > AUDIO_RATE // 50:
            starts.append(int(current))
    return starts


def test_the_movie_speaks_each_line_at_its_in_point_without_clipping(tmp_path: Path) -> None:
    cut = cut_of(96, 72, 120)
    lines = [
        line(1, "1A", 0.8, write_wav(tmp_path / "a.wav", 0.8, amplitude=0.05, seed=1)),
        line(2, "1A", 0.6, write_wav(tmp_path / "b.wav", 0.6, amplitude=0.9, seed=2)),
        line(3, "1B", 0.5, write_wav(tmp_path / "c.wav", 0.5, seed=3), character="JONAH"),
        line(4, "1C", 1.5, write_wav(tmp_path / "d.wav", 1.5, amplitude=0.99, seed=4), dual=True),
        line(5, "1C", 1.0, write_wav(tmp_path / "e.wav", 1.0, amplitude=0.99, seed=5), dual=True),
    ]
    placed = place_lines(cut, lines, pause=0.25)

    report = write_preview(cut, tmp_path / "spoken.mp4", dialogue=placed)

    assert report.lines == 5
    with av.open(os.fspath(report.path)) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    starts = [p.record_in for p in placed.lines if p.track == 1]
    heard = onsets(sound)
    assert len(heard) == len(starts) == 4  # the dual pair starts as one
    one_frame = AUDIO_RATE * FPS.denominator // FPS.numerator
    for frame, sample in zip(starts, heard, strict=True):
        assert abs(sample - sample_at(frame, FPS)) < one_frame
    assert np.abs(sound).max() < 1.0  # AAC may overshoot the -1 dBFS ceiling a little
    # Quiet and loud takes come out at one level (the first two are single lines).
    for p in placed.lines[:3]:
        at = sample_at(p.record_in, FPS)
        span = sound[:, at : at + math.floor(p.line.seconds * AUDIO_RATE)]
        assert integrated_loudness(span) == pytest.approx(LINE_LOUDNESS, abs=1.0)


def test_overruns_are_said_once_per_shot_in_cut_order(tmp_path: Path) -> None:
    from setpiece.edit.sound import shot_overruns

    wav = tmp_path / "x.wav"
    lines = [line(1, "1A", 1.0, wav), line(2, "1A", 1.0, wav), line(3, "1B", 0.5, wav)]
    cut = cut_of(30, 48)

    placed = place_lines(cut, lines, pause=0).lines

    # 1A: two lines of 24 frames end at 48, 18 past its 30; 1B's line fits.
    assert shot_overruns(cut, placed) == [
        "1A: its lines run 18 frames past its end (its slate is 30 frames): "
        "render a longer take or `dialogue time`"
    ]
    assert shot_overruns(cut_of(48, 48), place_lines(cut_of(48, 48), lines, pause=0).lines) == []
