"""Retime, cuts, deflicker and measure on videos with known motion, cuts and flicker."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from setpiece.motion.config import MotionSettings, motion_settings
from setpiece.motion.cuts import detect_cuts
from setpiece.motion.deflicker import deflicker, smooth_steps
from setpiece.motion.measure import measure_video
from setpiece.motion.retime import retime
from setpiece.store.video import decode

from .conftest import sliding, write_frames


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(float) - b.astype(float)) ** 2)[:, 12:-12].mean())
    return 10 * np.log10(255**2 / max(mse, 1e-9))


def test_interpolated_middle_frame_matches_the_true_middle(tmp_path: Path) -> None:
    half = sliding(step=6)  # the truth at twice the rate
    source = write_frames(tmp_path / "in.mp4", lambda i: half(2 * i), 9, fps=12, audio=True)
    report = retime(source, tmp_path / "out.mp4", fps=Fraction(24))
    assert report.frames == 18 and report.interpolated == 8 and report.audio == "copied"
    out = [f.rgb for f in decode(tmp_path / "out.mp4")]
    for k in (1, 3, 7, 11):
        truth = half(k)
        blend = ((out[k - 1].astype(float) + out[k + 1]) / 2).astype(np.uint8)
        assert psnr(out[k], truth) > 27
        assert psnr(out[k], truth) > psnr(blend, truth) + 6
    with av.open(str(tmp_path / "out.mp4")) as container:
        video = container.streams.video[0]
        assert video.average_rate == 24 and len(container.streams.audio) == 1
        assert abs(float(container.duration) / 1e6 - 0.75) < 0.03


def test_ntsc_rate_stays_rational_and_slow_motion_quadruples(tmp_path: Path) -> None:
    source = write_frames(tmp_path / "in.mp4", sliding(), 6, fps=12)
    report = retime(source, tmp_path / "ntsc.mov", fps=Fraction(24000, 1001))
    assert report.fps == Fraction(24000, 1001)
    with av.open(str(tmp_path / "ntsc.mov")) as container:
        assert container.streams.video[0].average_rate == Fraction(24000, 1001)
    slow = retime(source, tmp_path / "slow.mp4", factor=Fraction(4))
    assert slow.frames == 24 and slow.fps == 12 and slow.audio == "none"


def test_retime_holds_frames_at_a_hard_cut(tmp_path: Path) -> None:
    first, second = sliding(seed=1, step=2), sliding(seed=7, step=2)
    pictures = [first(i) if i < 6 else second(i) for i in range(12)]
    source = write_frames(tmp_path / "cut.mp4", pictures, fps=12)
    report = retime(source, tmp_path / "out.mp4", fps=Fraction(24))
    assert report.held_at_cuts == 1 and report.cuts == [6]
    out = [f.rgb for f in decode(tmp_path / "out.mp4")]
    # Output frame 11 sits half-way between source 5 and 6: a copy of one, not a blend.
    assert max(psnr(out[11], pictures[5]), psnr(out[11], pictures[6])) > 30


def test_cuts_finds_a_hard_cut_and_a_fade_at_known_frames(tmp_path: Path) -> None:
    a, b, c = sliding(seed=1, step=2), sliding(seed=4, step=2), sliding(seed=9, step=2)
    pictures = [a(i) for i in range(20)] + [b(i) for i in range(20)]
    for i in range(10):  # fade out of b, black, fade into c
        pictures.append((b(20 + i) * (1 - (i + 1) / 10)).astype(np.uint8))
    pictures += [np.zeros_like(pictures[0])] * 4
    for i in range(10):
        pictures.append((c(i) * ((i + 1) / 10)).astype(np.uint8))
    pictures += [c(10 + i) for i in range(10)]
    report = detect_cuts(write_frames(tmp_path / "cuts.mp4", pictures, fps=Fraction(30000, 1001)))
    kinds = [(cut.frame, cut.kind) for cut in report.cuts]
    assert kinds[0] == (20, "cut")
    assert len(kinds) == 2 and kinds[1][1] == "fade" and 48 <= kinds[1][0] <= 54
    data = report.to_json()
    assert data["fps"] == "30000/1001" and data["frames"] == len(pictures)
    assert data["cuts"][0] == {"frame": 20, "time": round(20 * 1001 / 30000, 3), "kind": "cut"}


def test_cuts_finds_a_dissolve(tmp_path: Path) -> None:
    a, b = sliding(seed=2, step=1), sliding(seed=5, step=1)
    pictures = [a(i) for i in range(20)]
    for i in range(12):
        w = (i + 1) / 13
        pictures.append((a(20 + i) * (1 - w) + b(i) * w).astype(np.uint8))
    pictures += [b(12 + i) for i in range(20)]
    report = detect_cuts(write_frames(tmp_path / "dissolve.mp4", pictures))
    assert [c.kind for c in report.cuts] == ["dissolve"]
    assert 21 <= report.cuts[0].frame <= 31


def _flickering(tmp_path: Path, *, step_at: int | None = None) -> Path:
    rng = np.random.default_rng(3)
    base = sliding(step=1)
    gains = rng.uniform(0.85, 1.15, 40)

    def frame(i: int) -> np.ndarray:
        light = 1.6 if step_at is not None and i >= step_at else 1.0
        return np.clip(base(i).astype(float) * 0.55 * light * gains[i], 0, 255).astype(np.uint8)

    return write_frames(tmp_path / f"flicker{step_at}.mp4", frame, 40)


def test_deflicker_lowers_flicker_and_keeps_a_light_change_a_step(tmp_path: Path) -> None:
    source = _flickering(tmp_path)
    deflicker(source, tmp_path / "steady.mp4")
    before, after = measure_video(source), measure_video(tmp_path / "steady.mp4")
    assert after.flicker < before.flicker / 2

    switched = _flickering(tmp_path, step_at=20)
    deflicker(switched, tmp_path / "switched.mp4")
    luma = [f.rgb.mean() for f in decode(tmp_path / "switched.mp4")]
    assert np.mean(luma[22:30]) / np.mean(luma[10:18]) > 1.4  # the light stays on
    assert luma[20] / luma[19] > 1.3  # ...switched on at once, not faded in


def test_smooth_steps_keeps_a_step() -> None:
    series = np.array([0.0] * 10 + [0.5] * 10)
    assert np.allclose(smooth_steps(series, 6, 0.15), series, atol=0.01)


def test_measure_finds_a_frozen_run(tmp_path: Path) -> None:
    base = sliding()
    pictures = [base(i) for i in range(6)] + [base(6)] * 5 + [base(7 + i) for i in range(5)]
    figures = measure_video(write_frames(tmp_path / "frozen.mp4", pictures))
    assert figures.frozen_run == 5 and figures.frozen_at == 6
    assert figures.warp_error < 0.01 and figures.frames == 16


def test_settings_come_from_one_place_and_are_checked() -> None:
    assert motion_settings({}) == MotionSettings()
    assert motion_settings({"motion": {"crf": 20}}).crf == 20
    from setpiece.errors import InvalidInputError

    with pytest.raises(
        InvalidInputError, match=r"^setpiece\.toml \[motion\]: unknown key 'speed'; known keys: "
    ):
        motion_settings({"motion": {"speed": 2}})
    with pytest.raises(
        InvalidInputError,
        match=r'^setpiece\.toml \[motion\] flow_preset: expected one of "ultrafast", .*got "slow"$',
    ):
        motion_settings({"motion": {"flow_preset": "slow"}})
    with pytest.raises(InvalidInputError, match=r"\[motion\] crf: expected a whole number from 0"):
        motion_settings({"motion": {"crf": 52}})
    with pytest.raises(
        InvalidInputError, match=r"\[motion\] frozen_delta: expected a number above"
    ):
        motion_settings({"motion": {"frozen_delta": 0}})


def _pcm_mov(path: Path, frames: int = 6) -> Path:
    """A QuickTime file with PCM sound, which MP4 cannot carry as it is."""
    rate = Fraction(12)
    picture = sliding()
    with av.open(str(path), "w", format="mov") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        sound = out.add_stream("pcm_s16le", rate=48000, layout="stereo")
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(picture(i), format="rgb24")
            frame.pts, frame.time_base = i, 1 / rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        samples = int(48000 * frames / 12)
        for start in range(0, samples, 1024):
            block = av.AudioFrame.from_ndarray(
                np.zeros((1, 2 * min(1024, samples - start)), dtype=np.int16),
                format="s16",
                layout="stereo",
            )
            block.sample_rate, block.pts = 48000, start
            out.mux(sound.encode(block))
        out.mux(sound.encode(None))
    return path


def test_sound_mp4_cannot_carry_is_re_encoded_and_prores_png_outputs(tmp_path: Path) -> None:
    source = _pcm_mov(tmp_path / "pcm.mov")
    report = retime(source, tmp_path / "out.mp4", fps=Fraction(24))
    assert report.audio == "re-encoded (AAC)"
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        assert abs(container.duration / 1e6 - 0.5) < 0.05
    kept = retime(source, tmp_path / "out.mov", fps=Fraction(24))
    assert kept.audio == "copied"
    prores = retime(source, tmp_path / "pro.mov", fps=Fraction(24), codec="prores")
    assert prores.codec == "prores_ks" and prores.pix_fmt == "yuv422p10le"
    frames = retime(source, tmp_path / "frames", fps=Fraction(24))
    assert frames.audio == "dropped (PNG sequence)"
    assert sorted(p.name for p in (tmp_path / "frames").iterdir())[:2] == [
        "frame_000000.png",
        "frame_000001.png",
    ]
    assert len(list((tmp_path / "frames").iterdir())) == 12


def test_deflicker_keeps_a_variable_rate_file_s_length(tmp_path: Path) -> None:
    picture = sliding(step=1)
    stamps = [0, 1, 2, 4, 5, 8, 9, 10, 11]
    vfr = write_frames(tmp_path / "vfr.mp4", [picture(t) for t in stamps], fps=24, pts=stamps)
    report = deflicker(vfr, tmp_path / "out.mp4")
    assert report.frames == 12  # evenly timed at 24 fps over the same half second


def test_full_colour_range_is_kept(tmp_path: Path) -> None:
    from setpiece.store.video import probe_video

    source = write_frames(tmp_path / "full.mp4", sliding(), 4, pix_fmt="yuvj420p")
    assert probe_video(source).color_range == "pc"
    retime(source, tmp_path / "out.mp4", fps=Fraction(24))
    assert probe_video(tmp_path / "out.mp4").color_range == "pc"
    before = next(iter(decode(source))).rgb.astype(float)
    after = next(iter(decode(tmp_path / "out.mp4"))).rgb.astype(float)
    assert abs(before.mean() - after.mean()) < 2  # no range squeeze or stretch
