"""Continuity on tiny real media: identity (dlib), look, format, the colour-match fix.

Faces are real photographs shipped inside scikit-image (see faces_media.py for what
each picture's ground truth is); every other picture is made here.
"""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from faces_media import (
    another_person,
    astronaut,
    astronaut_again,
    noise,
    save,
    tinted,
    write_face_video,
)
from PIL import Image

from mediafactory import corrupt_bytes
from setpiece.continuity.check import check_continuity
from setpiece.continuity.embedders import DlibFaceEmbedder
from setpiece.continuity.look import CielabLook, format_problems
from setpiece.continuity.match import match_take
from setpiece.continuity.settings import ContinuitySettings, continuity_settings
from setpiece.errors import InvalidInputError
from setpiece.model.enums import BibleKind
from setpiece.model.findings import IdentityVerdict, LookJump
from setpiece.model.operations import Operation
from setpiece.production.bible import add_entry
from setpiece.production.derive import operations_of
from setpiece.production.records import list_findings
from setpiece.production.shots import parse_subjects
from setpiece.production.takes import approve_take, get_take, import_takes
from setpiece.production.views import MediaView, Recipe
from setpiece.store.frames import load_rgb

SETTINGS = ContinuitySettings()


def scan(rgb: np.ndarray, **kwargs: int):
    options = {"detect_width": 640, "min_face": 40, "max_faces": 20, **kwargs}
    return DlibFaceEmbedder().scan(rgb, **options)


# Settings ---------------------------------------------------------------------------


def test_settings_defaults_and_overrides_by_time_of_day() -> None:
    assert continuity_settings({}) == continuity_settings(None)
    custom = continuity_settings(
        {"continuity": {"face_threshold": 0.5, "look": {"stops": 0.4, "night": {"stops": 2}}}}
    )
    assert custom.face_threshold == 0.5
    assert custom.look_for("DAY").stops == 0.4
    assert custom.look_for("Night").stops == 2.0
    assert custom.look_for(None).stops == 0.4


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"face_threshold": "0.6"}, "[continuity] face_threshold: expected a number above 0"),
        ({"face_threshold": 3}, "[continuity] face_threshold: expected a number above 0 and at"),
        ({"frame_stride": 0}, "[continuity] frame_stride: expected a whole number of at least 1"),
        ({"look": {"delta_e": -1}}, "[continuity.look] delta_e: expected a number of at least 0"),
        ({"look": {"NIGHT": {"stop": 1}}}, "[continuity.look.NIGHT]: unknown key 'stop'"),
        ({"look": {"NIGHT": {"kelvin": "warm"}}}, "[continuity.look.NIGHT] kelvin: expected a"),
        ({"colour": 1}, "[continuity]: unknown key 'colour'; known keys: face_threshold"),
        ({"look_by_time": {}}, "[continuity]: unknown key 'look_by_time'"),
        ("loose", '[continuity]: expected a table of settings, got "loose"'),
    ],
)
def test_bad_settings_name_the_key(section: object, key: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(f"setpiece.toml {key}")):
        continuity_settings({"continuity": section})


# The face model on bad input --------------------------------------------------------


def test_same_person_is_near_and_another_is_far() -> None:
    reference = scan(astronaut()).faces[0].descriptor
    again = scan(astronaut_again()).faces[0].descriptor
    other = scan(another_person()).faces[0].descriptor
    assert np.linalg.norm(reference - again) < 0.6 < np.linalg.norm(reference - other)


def test_no_faces_tiny_faces_and_greyscale() -> None:
    assert scan(noise()).faces == []
    tiny = np.array(Image.fromarray(astronaut()).resize((128, 128)))  # face ~22 px
    found = scan(tiny, min_face=40)
    assert found.faces == [] and found.too_small == found.found
    grey = np.repeat(np.asarray(Image.fromarray(astronaut()).convert("L"))[:, :, None], 3, axis=2)
    assert scan(grey).faces


def test_a_crowd_is_capped_at_max_faces() -> None:
    face = np.asarray(Image.fromarray(astronaut()[60:190, 150:290]).resize((100, 93)))
    crowd = np.tile(face, (10, 12, 1))  # 120 faces
    found = scan(crowd, detect_width=crowd.shape[1], max_faces=5)
    assert found.found > 50
    assert len(found.faces) == 5


def test_sixteen_bit_cmyk_and_exif_rotation_are_read_as_shown(tmp_path: Path) -> None:
    photo = astronaut()
    wide = (np.asarray(Image.fromarray(photo).convert("L"), dtype=np.uint16) * 257).astype(
        np.uint16
    )
    Image.fromarray(wide).save(tmp_path / "deep.png")  # 16-bit greyscale PNG
    Image.fromarray(photo).convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    rotated = Image.fromarray(np.ascontiguousarray(np.rot90(photo)))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned left; a viewer turns it right, upright again
    rotated.save(tmp_path / "turned.jpg", exif=exif, quality=95)
    for name in ("deep.png", "print.jpg", "turned.jpg"):
        assert scan(load_rgb(tmp_path / name)).faces, name
    # Without the EXIF orientation the face lies on its side and the detector misses it.
    assert scan(np.ascontiguousarray(np.rot90(photo))).faces == []


# Look -------------------------------------------------------------------------------


def test_known_shifts_are_measured_back() -> None:
    look = CielabLook()
    frame = astronaut()
    base = look.stats([frame])
    assert look.compare(base, look.stats([frame])).delta_e == pytest.approx(0, abs=1e-6)
    darker = (np.asarray(frame, dtype=np.float32) / 255) ** 2.2 * 0.5  # half the light
    darker8 = np.rint((darker ** (1 / 2.2)) * 255).astype(np.uint8)
    assert look.compare(base, look.stats([darker8])).stops == pytest.approx(-1, abs=0.15)
    warm = look.compare(base, look.stats([tinted(frame, (1.0, 0.9, 0.7))]))
    cool = look.compare(base, look.stats([tinted(frame, (0.7, 0.9, 1.0))]))
    assert warm.kelvin < 0 < cool.kelvin
    assert warm.delta_e > 5 and cool.delta_e > 5


def test_format_problems() -> None:
    media = MediaView(
        "0" * 64, "x.mp4", "video", 1280, 720, Fraction(25), 10, 0.4, 1, "mp4", "h264", 0
    )
    assert (
        format_problems(media, width=1280, height=720, aspect=Fraction(16, 9), fps=Fraction(25))
        == []
    )
    problems = format_problems(
        media, width=1920, height=800, aspect=Fraction(12, 5), fps=Fraction(24000, 1001)
    )
    assert [p.split()[0] for p in problems] == ["resolution", "aspect", "frame"]


# The service on a project -----------------------------------------------------------


@pytest.fixture
def anna(production, media_dir: Path) -> Path:
    """ANNA, with two reference photos of one person."""
    add_entry(
        production,
        BibleKind.CHARACTER,
        "ANNA",
        refs=[
            save(media_dir / "anna1.png", astronaut()),
            save(media_dir / "anna2.jpg", astronaut_again()),
        ],
    )
    return media_dir


def _take(production, shot: str, path: Path, **recipe: object) -> str:
    return import_takes(production, shot, [path], Recipe(**recipe)).created[0].id  # type: ignore[arg-type]


def _kinds(report, take: str | None = None) -> list[str]:
    return sorted(f.kind for f in report.findings if take is None or f.take == take)


def test_done_when_identity_drift_and_look_jump_fixed_by_match(
    production, make, anna: Path
) -> None:
    scene = make.scene("INT. HANGAR - DAY")
    make.shot("1A", scene, size="CU", subjects=parse_subjects("ANNA"))
    make.shot("1B", scene, size="MCU", subjects=parse_subjects("ANNA"))
    stranger = _take(production, "1A", save(anna / "stranger.png", another_person(3)))
    blurred = _take(production, "1A", save(anna / "blurred.png", another_person(1)))
    same = _take(production, "1A", save(anna / "same.png", astronaut_again()))
    approve_take(production, "1A", same)
    graded = _take(
        production, "1B", save(anna / "graded.png", tinted(astronaut(), (1.0, 0.75, 0.45)))
    )

    report = check_continuity(production)
    other = [f for f in report.findings if f.kind == "identity_other"]
    assert [(f.take, f.character) for f in other] == [(stranger, "ANNA")]
    assert other[0].score > other[0].threshold == 0.75
    assert f"{other[0].score:.3f}" in other[0].detail and other[0].evidence_png
    assert isinstance(other[0].data, IdentityVerdict) and other[0].data.frames == [0]
    # The LFW face blown up from 25 px is too blurred to say who it is: not "someone else".
    assert [k for k in _kinds(report, blurred) if k.startswith("identity")] == [
        "identity_uncertain"
    ]
    unsure = next(f for f in report.findings if f.take == blurred)
    assert "blurred" in unsure.data.reason  # type: ignore[union-attr]
    assert [k for k in _kinds(report, same) if k.startswith("identity")] == []
    jumps = [f for f in report.findings if f.kind == "look_jump"]
    assert [(j.shot, j.take, j.data.from_take) for j in jumps]  # type: ignore[union-attr] == [("1B", graded, same)]
    assert isinstance(jumps[0].data, LookJump) and jumps[0].data.delta_e2000 > 8
    stored = list_findings(production, kind="look_jump")
    assert len(stored) == 1 and stored[0].evidence is not None
    assert report.takes_checked == 4

    fixed = match_take(production, graded, to=same)
    assert fixed.created and fixed.after.delta_e < 2 < fixed.before.delta_e
    assert operations_of(fixed.take)[-1] == Operation(
        "colour_match", 1, {"to": same, "method": "light"}
    )
    assert fixed.take.recipe.parent == graded
    again = check_continuity(production, shot="1B")
    assert "look_jump" not in _kinds(again)  # the matched take is now 1B's latest
    assert list_findings(production, kind="look_jump") == []  # the stale one was replaced


def test_missing_unexpected_previs_and_no_references(production, make, anna: Path) -> None:
    add_entry(
        production, BibleKind.CHARACTER, "BEN", refs=[save(anna / "ben.png", another_person(3))]
    )
    add_entry(production, BibleKind.CHARACTER, "CARA")
    scene = make.scene("EXT. FIELD - NIGHT")
    make.shot("2A", scene, size="CU", subjects=parse_subjects("ANNA"))
    make.shot("2B", scene, size="WS", subjects=parse_subjects("ANNA, CARA"))
    empty = _take(production, "2A", save(anna / "empty.png", noise(320, 240)))
    pair = np.concatenate(
        [
            np.asarray(Image.fromarray(astronaut()).resize((300, 300))),
            another_person(3, 200),
        ],
        axis=1,
    )
    both = _take(production, "2B", save(anna / "both.png", np.ascontiguousarray(pair)))
    drawn = _take(production, "2B", save(anna / "previs.png", astronaut_again()), backend="previs")

    report = check_continuity(production, scene=scene)
    assert "identity_missing" in _kinds(report, empty)
    unexpected = [f for f in report.findings if f.kind == "identity_unexpected"]
    assert [(f.take, f.character) for f in unexpected] == [(both, "BEN")]
    assert _kinds(report, drawn) in (
        [],
        ["format_mismatch"],
        ["format_mismatch", "look_jump"],
        ["look_jump"],
    )
    assert [(s.take, s.check) for s in report.skipped] == [(drawn, "identity")]
    assert "previs" in report.skipped[0].reason
    assert any("CARA has no reference images" in n for n in report.notes)


def test_video_drift_within_a_take_and_decoding_stopped_half_way(
    production, make, anna: Path
) -> None:
    make.shot("3A", make.scene("INT. CAR - DAY"), size="MCU", subjects=parse_subjects("ANNA"))
    rng = np.random.default_rng(0)

    def grainy(picture: np.ndarray) -> np.ndarray:  # grain keeps frames large, so damage shows
        grain = rng.integers(0, 24, (*picture.shape[:2], 1), dtype=np.uint8)
        return np.clip(picture.astype(np.int16) + grain, 0, 255).astype(np.uint8)

    pictures = [grainy(astronaut())] * 8 + [grainy(another_person(3))] * 16
    clip = write_face_video(anna / "morph.mp4", pictures)
    morph = _take(production, "3A", clip)
    production.config.settings.setdefault("continuity", {})["frame_stride"] = 4
    report = check_continuity(production)
    drift = [f for f in report.findings if f.kind == "identity_drift"]
    assert [(f.take, f.frame) for f in drift] == [(morph, 8)]
    assert isinstance(drift[0].data, IdentityVerdict) and drift[0].data.within_take
    assert drift[0].data.from_frame == 0 and drift[0].data.frames == [0, 8, 9]
    # Most of the take shows someone else: that is the take's verdict, frames listed.
    other = [f for f in report.findings if f.kind == "identity_other"]
    assert [(f.take, f.character) for f in other] == [(morph, "ANNA")]
    # 24 frames: every frame sampled (at least 16 are), the 8 best-quality ones judged.
    assert len(other[0].data.frames) == 8  # type: ignore[union-attr]
    assert report.unreadable == []

    # The stored file is damaged later (a bad disk): what decoded is kept, the frame reported.
    broken_clip = write_face_video(
        anna / "broken.mp4", [grainy(another_person(3))] * 24 + [astronaut()] * 24
    )
    broken = _take(production, "3A", broken_clip)
    stored = Path(get_take(production, broken).media.path)
    os.chmod(stored, 0o644)
    corrupt_bytes(stored, at=0.9, count=8192)
    report = check_continuity(production)
    stopped = [u for u in report.unreadable if u.take == broken]
    assert stopped and 0 < (stopped[0].frame or 0) < 48
    assert any(f.take == broken and f.kind == "identity_other" for f in report.findings)


def test_match_a_video_keeps_its_rate_and_audio(production, make, media_dir: Path) -> None:
    make.shot("4A", make.scene("INT. BAR - NIGHT"))
    rate = Fraction(24000, 1001)
    pictures = [tinted(astronaut(), (0.8, 0.9, 1.3))] * 6
    clip = write_face_video(media_dir / "cold.mp4", pictures, size=(128, 96), fps=rate, audio=True)
    cold = _take(production, "4A", clip)
    warm = _take(production, "4A", save(media_dir / "warm.png", astronaut()))
    result = match_take(production, cold, to=warm, method="histogram")
    assert result.after.delta_e < result.before.delta_e
    media = result.take.media
    assert media is not None and media.fps == rate and media.audio_streams == 1
    assert media.frames == 6 and (media.width, media.height) == (128, 96)
    with av.open(media.path) as container:
        firsts = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert np.abs(firsts[0].astype(int) - firsts[-1].astype(int)).mean() < 3  # one transform


def test_match_refuses_bad_requests(production, make, media_dir: Path) -> None:
    make.shot("5A", make.scene())
    one = _take(production, "5A", save(media_dir / "a.png", astronaut()))
    with pytest.raises(InvalidInputError, match="itself"):
        match_take(production, one, to=one)
    with pytest.raises(InvalidInputError, match="unknown match method 'magic'"):
        match_take(production, one, to=one, method="magic")
