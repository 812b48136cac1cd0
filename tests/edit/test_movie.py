"""The preview movie, decoded back: length, rate, size, conform, slates, burn-ins, sound."""

from __future__ import annotations

import dataclasses
import os
import tracemalloc
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import Factory
from mediafactory import video_codec, write_mp4, write_png
from setpiece.edit.movie import AUDIO_RATE, PreviewReport, write_preview
from setpiece.edit.timeline import edl_text
from setpiece.errors import InvalidInputError, StorageError
from setpiece.model.orm import Take
from setpiece.production.context import Production, init_production
from setpiece.production.cut import Cut, CutClip, assemble
from setpiece.production.takes import approve_take, import_takes
from setpiece.timebase import timecode

FPS = Fraction(24000, 1001)
W, H = 160, 90


@pytest.fixture
def production(project_dir: Path) -> Iterator[Production]:
    """A small SQLite project at 23.976 fps (the movie does not depend on the database)."""
    with init_production(
        project_dir, name="Test Film", fps=FPS, resolution=(W, H), actor="ana"
    ) as prod:
        yield prod


def level(index: int) -> int:
    return 20 + 7 * index


def write_ramp(
    path: Path, frames: int = 30, fps: int = 30, w: int = 64, h: int = 48, tone: bool = False
) -> Path:
    """A video whose frame i is flat grey ``level(i)``: its index can be read back.

    With ``tone``, a 440 Hz stereo AAC tone at half scale, exactly as long as the picture.
    """
    with av.open(os.fspath(path), mode="w", format="mp4") as out:
        stream = out.add_stream(video_codec(), rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        sound = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo") if tone else None
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(
                np.full((h, w, 3), level(i), np.uint8), format="rgb24"
            )
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            count = frames * AUDIO_RATE // fps
            wave = 0.5 * np.sin(2 * np.pi * 440 * np.arange(count) / AUDIO_RATE)
            for start in range(0, count, 1024):
                block = np.stack([wave[start : start + 1024]] * 2).astype(np.float32)
                samples = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
                samples.sample_rate, samples.pts = AUDIO_RATE, start
                out.mux(sound.encode(samples))
            out.mux(sound.encode(None))
    return path


def circle(production: Production, shot: str, path: Path) -> str:
    take = import_takes(production, shot, [path]).created[0]
    approve_take(production, shot, take.id)
    return take.id


def film(make: Factory) -> Cut:
    """Scene 1: a 30 fps take with sound (4:3), a 24 fps take without (3:1), a shot with no
    take, a portrait still; scene 2: a provisional pick of a 24 fps take with sound."""
    folder = make.folder
    one = make.scene("INT. KITCHEN - NIGHT")
    make.shot("1A", one, duration=1)
    make.shot("1B", one, duration=1.5)
    make.shot("1C", one)
    make.shot("1D", one, duration=0.5)
    two = make.scene("EXT. STREET - DAY")
    make.shot("2A", two, duration=1)
    production = make.production
    circle(production, "1A", write_mp4(folder / "a.mp4", 30, fps=30, audio=True, seed=1))
    circle(production, "1B", write_mp4(folder / "b.mp4", 20, fps=24, w=96, h=32, seed=2))
    circle(production, "1D", write_png(folder / "d.png", 40, 60, seed=3))
    pick = import_takes(
        production, "2A", [write_mp4(folder / "e.mp4", 24, fps=24, audio=True, seed=4)]
    ).created[0]
    with production.transaction() as session:
        row = session.get(Take, pick.id)
        assert row is not None
        row.provisional = True
    return assemble(production)


def frames_of(path: Path, wanted: set[int] | None = None) -> dict[int, np.ndarray]:
    """Decoded RGB frames of a movie by index (all, or those ``wanted``)."""
    out = {}
    with av.open(os.fspath(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if wanted is None or index in wanted:
                out[index] = frame.to_ndarray(format="rgb24")
    return out


def luma(path: Path) -> list[np.ndarray]:
    with av.open(os.fspath(path)) as container:
        return [f.to_ndarray(format="gray").astype(np.int32) for f in container.decode(video=0)]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_preview_plays_the_whole_cut_at_its_exact_rate_size_and_length(
    make: Factory, tmp_path: Path
) -> None:
    cut = film(make)
    assert [c.kind for c in cut.clips] == ["take", "take", "slate", "take", "take"]
    assert cut.clips[-1].provisional
    calls: list[tuple[int, int]] = []
    report = write_preview(
        cut, tmp_path / "cut.mp4", progress=lambda done, total: calls.append((done, total))
    )

    assert isinstance(report, PreviewReport)
    assert report.frames == cut.duration
    assert report.duration == Fraction(cut.duration) / FPS
    assert report.audio_samples == cut.duration * AUDIO_RATE * 1001 // 24000
    assert calls[-1] == (cut.duration, cut.duration)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})
    assert leftovers(tmp_path) == []
    with av.open(os.fspath(report.path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert video.average_rate == FPS
        assert (video.codec_context.width, video.codec_context.height) == (W, H)
        assert video.codec_context.pix_fmt == "yuv420p"
        assert audio.sample_rate == AUDIO_RATE
        assert audio.codec_context.layout.name == "stereo"
        times = [f.pts * f.time_base for f in container.decode(video)]
    assert len(times) == cut.duration
    assert times == [Fraction(i) / FPS for i in range(cut.duration)]  # no drift at all
    with av.open(os.fspath(report.path)) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
    assert abs(samples - report.audio_samples) <= 1024  # one AAC frame of priming/padding


def test_takes_are_conformed_by_rational_time_and_hold_their_last_frame(
    make: Factory, tmp_path: Path
) -> None:
    shot = make.shot("1A", make.scene(), duration=1)
    circle(make.production, shot, write_ramp(make.folder / "ramp.mp4", frames=30, fps=30))
    cut = assemble(make.production)
    clip = cut.clips[0]
    assert clip.duration == 23
    longer = dataclasses.replace(clip, duration=40, source_in=3)
    cut = dataclasses.replace(cut, clips=[longer])

    report = write_preview(cut, tmp_path / "ramp.mp4")

    # 64x48 into 160x90: pillarboxed, 120 wide at x = 20, black on both sides.
    shown = luma(report.path)
    assert len(shown) == 40
    source = [level(i) for i in range(30)]
    for k, picture in enumerate(shown):
        grey = float(picture[20:70, 40:120].mean())
        index = min(range(30), key=lambda i: abs(source[i] - grey))
        at = Fraction(k) / FPS + Fraction(3, 30)  # the clip starts at media frame 3
        expected = min(29, max(j for j in range(30 + 40) if Fraction(j, 30) <= at))
        assert index == expected, f"output frame {k}"
        assert picture[:, :16].max() < 24 and picture[:, -16:].max() < 24  # pillarbox
    assert any("last one is held" in w for w in report.warnings)


def test_a_takes_sound_plays_in_its_clip_and_nowhere_else(make: Factory, tmp_path: Path) -> None:
    scene = make.scene()
    make.shot("1A", scene, duration=0.5)
    make.shot("1B", scene, duration=0.75)
    make.shot("1C", scene, duration=0.5)
    circle(make.production, "1B", write_ramp(make.folder / "tone.mp4", 30, fps=30, tone=True))
    cut = assemble(make.production)
    toned = cut.clips[1]
    assert (toned.kind, toned.duration) == ("take", 18)  # 0.75 s of a 1 s take: trimmed

    report = write_preview(cut, tmp_path / "sound.mp4")

    with av.open(os.fspath(report.path)) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    start = toned.record_in * AUDIO_RATE * 1001 // 24000
    end = toned.record_out * AUDIO_RATE * 1001 // 24000
    loud = np.nonzero(np.abs(sound[0]) > 0.1)[0]
    assert abs(int(loud[0]) - start) < 64 and abs(int(loud[-1]) - end) < 64
    assert np.abs(sound[:, : start - 1024]).max() < 0.01
    assert np.abs(sound[:, end + 1024 :]).max() < 0.01
    middle = sound[:, start + 1024 : end - 1024]
    assert 0.3 < np.sqrt((middle**2).mean()) < 0.42  # the tone's RMS, 0.5 / sqrt(2)


def test_a_slate_is_a_dark_card_with_bright_lettering(make: Factory, tmp_path: Path) -> None:
    cut = film(make)
    slate = next(c for c in cut.clips if c.kind == "slate")
    middle = slate.record_in + slate.duration // 2

    report = write_preview(cut, tmp_path / "cut.mp4")

    picture = luma(report.path)[middle]
    assert picture.mean() < 60
    assert picture.max() > 200
    assert (picture > 150).sum() > 40  # lettering, not a stray pixel


def test_burn_ins_mark_the_band_and_count_the_timecode(make: Factory, tmp_path: Path) -> None:
    cut = film(make)
    still = next(c for c in cut.clips if c.shot == "1D")
    a, b = still.record_in + 1, still.record_in + 2

    plain = luma(write_preview(cut, tmp_path / "plain.mp4").path)
    burnt = luma(write_preview(cut, tmp_path / "burnt.mp4", burn_in=True).path)

    band = slice(H - 10, H)
    for index in (a, 0, cut.duration - 1):
        assert np.abs(plain[index][band] - burnt[index][band]).mean() > 8
        assert np.abs(plain[index][10:60] - burnt[index][10:60]).mean() < 4  # picture kept
    # The still does not change; the timecode's last digit does, at the right corner only.
    moved = np.abs(burnt[a] - burnt[b])
    assert moved[band, W // 2 :].max() > 60
    assert moved[band, : W // 4].max() < 30
    assert moved[: H - 10].max() < 30


def test_the_burn_in_shows_the_edls_timecode_at_29_97(tmp_path: Path) -> None:
    """Frame 1800 at 29.97 is 00:01:00;02 in drop frame, in the EDL and on the picture."""
    rate, width, height = Fraction(30000, 1001), 640, 360
    clips = [
        CutClip(0, "1", "INT. HALL - DAY", "1A", "slate", 0, 1800, label="1A: NOT APPROVED"),
        CutClip(1, "1", "INT. HALL - DAY", "1B", "slate", 1800, 3, label="1B: NOT APPROVED"),
    ]
    cut = Cut("Drop Frame", rate, width, height, clips)
    events = [line.split() for line in edl_text(cut).splitlines() if line[:3].isdigit()]
    assert events[1][-2] == timecode(1800, rate) == "00:01:00;02"

    pictures = frames_of(write_preview(cut, tmp_path / "df.mp4", burn_in=True).path, {0, 2, 1800})

    # The timecode's last cells, "0;02", read the same at frames 2 and 1800 (a non-drop
    # count would end "0:00" at 1800, like frame 0's "0;00").
    corner = (slice(height - 20, height), slice(width - 45, width))
    shown = pictures[1800][corner].astype(np.int32)
    assert np.abs(shown - pictures[2][corner]).mean() < 5
    assert np.abs(shown - pictures[0][corner]).mean() > 9


def test_a_provisional_pick_shows_its_tag(make: Factory, tmp_path: Path) -> None:
    cut = film(make)
    pick = cut.clips[-1]
    assert pick.status == "provisional"
    circled = dataclasses.replace(
        cut, clips=[*cut.clips[:-1], dataclasses.replace(pick, status="circled")]
    )
    index = pick.record_in + 3

    tagged = frames_of(write_preview(cut, tmp_path / "p.mp4", burn_in=True).path, {index})
    plain = frames_of(write_preview(circled, tmp_path / "c.mp4", burn_in=True).path, {index})

    def amber(frame: np.ndarray) -> int:
        band = frame[H - 10 :].astype(np.int32)
        r, g, b = band[..., 0], band[..., 1], band[..., 2]
        return int(((r > 170) & (g > 110) & (b < 100)).sum())

    assert amber(tagged[index]) > 20
    assert amber(plain[index]) == 0


def test_a_cut_of_slates_only_writes_a_silent_movie(make: Factory, tmp_path: Path) -> None:
    scene = make.scene()
    make.shot("1A", scene, duration=0.5)
    make.shot("1B", scene)
    cut = assemble(make.production)
    assert {c.kind for c in cut.clips} == {"slate"}

    report = write_preview(cut, tmp_path / "slates.mp4", burn_in=True)

    assert len(luma(report.path)) == cut.duration == 12 + 47
    with av.open(os.fspath(report.path)) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    assert sound.shape[0] == 2
    assert np.abs(sound).max() == 0


def test_bad_targets_are_refused_before_anything_is_written(make: Factory, tmp_path: Path) -> None:
    scene = make.scene()
    make.shot("1A", scene, duration=0.5)
    cut = assemble(make.production)

    with pytest.raises(InvalidInputError, match=r"folder .*nowhere does not exist"):
        write_preview(cut, tmp_path / "nowhere" / "cut.mp4")
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "folder.mp4").mkdir()
    with pytest.raises(InvalidInputError, match="is a folder"):
        write_preview(cut, tmp_path / "folder.mp4")
    with pytest.raises(InvalidInputError, match=r"\.mp4"):
        write_preview(cut, tmp_path / "cut.avi")
    with pytest.raises(InvalidInputError, match="the cut is empty"):
        write_preview(dataclasses.replace(cut, clips=[]), tmp_path / "cut.mp4")
    assert not (tmp_path / "cut.mp4").exists() and not (tmp_path / "cut.avi").exists()
    assert leftovers(tmp_path) == []


def test_a_failure_half_way_leaves_nothing_behind(make: Factory, tmp_path: Path) -> None:
    cut = film(make)
    target = tmp_path / "cut.mp4"
    target.write_bytes(b"the previous preview")
    missing = next(c for c in cut.clips if c.shot == "1D").media
    assert missing is not None
    os.chmod(missing.path, 0o644)
    os.unlink(missing.path)

    with pytest.raises(StorageError, match=r"1D/1.*missing"):
        write_preview(cut, target)
    assert target.read_bytes() == b"the previous preview"
    assert leftovers(tmp_path) == []

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_preview(cut, tmp_path / "other.mp4", progress=interrupt)
    assert not (tmp_path / "other.mp4").exists()
    assert leftovers(tmp_path) == []


def test_an_odd_size_is_rounded_down_to_even(make: Factory, tmp_path: Path) -> None:
    scene = make.scene()
    make.shot("1A", scene, duration=0.25)
    cut = dataclasses.replace(assemble(make.production), width=161, height=91)

    report = write_preview(cut, tmp_path / "odd.mp4")

    assert (report.width, report.height) == (160, 90)
    assert luma(report.path)[0].shape == (90, 160)
    assert "161x91 rounded down to 160x90" in report.warnings[0]


def test_memory_stays_flat_however_long_the_cut(make: Factory, tmp_path: Path) -> None:
    scene = make.scene()
    make.shot("1A", scene, duration=2)
    make.shot("1B", scene, duration=25)
    clip = write_mp4(make.folder / "long.mp4", frames=600, fps=24, audio=True, seed=9)
    circle(make.production, "1A", clip)
    circle(make.production, "1B", clip)
    cut = assemble(make.production)
    short = dataclasses.replace(cut, clips=cut.clips[:1])
    long = dataclasses.replace(cut, clips=[dataclasses.replace(cut.clips[1], record_in=0)])
    assert (short.duration, long.duration) == (48, 599)

    def peak(which: Cut, name: str) -> int:
        tracemalloc.start()
        try:
            write_preview(which, tmp_path / name, burn_in=True)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(short, "warm.mp4")  # fonts, codecs and caches
    small = peak(short, "short.mp4")
    large = peak(long, "long.mp4")
    assert large < small * 1.5 + 256 * 1024, (small, large)


def test_media_in_a_remote_store_are_read_through_it(
    tmp_path: Path, s3_endpoint: str, bucket: str, media_dir: Path
) -> None:
    options = {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing"}
    with init_production(
        tmp_path / "film",
        fps=FPS,
        resolution=(W, H),
        media_url=f"s3://{bucket}/film",
        media_options=options,
        actor="ana",
    ) as production:
        make = Factory(production, media_dir)
        scene = make.scene()
        make.shot("1A", scene, duration=0.5)
        make.shot("1B", scene, duration=0.5)
        circle(production, "1A", write_mp4(media_dir / "a.mp4", 24, fps=24, audio=True))
        circle(production, "1B", write_png(media_dir / "b.png", seed=5))
        cut = assemble(production)
        assert cut.clips[0].media is not None and cut.clips[0].media.path.startswith("s3://")

        with pytest.raises(StorageError, match="remote media store"):
            write_preview(cut, tmp_path / "cut.mp4")
        assert leftovers(tmp_path) == []
        report = write_preview(cut, tmp_path / "cut.mp4", store=production.store)

    shown = luma(report.path)
    assert len(shown) == cut.duration == 24
    assert np.abs(shown[3] - shown[20]).mean() > 10  # the video, then the still
