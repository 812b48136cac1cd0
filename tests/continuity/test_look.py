"""The CIEDE2000 distance the look check uses, against scikit-image's (the reference)."""

from __future__ import annotations

import numpy as np
import pytest

from setpiece.continuity.look import delta_e_2000

skimage_color = pytest.importorskip("skimage.color")


def _pairs() -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    rng = np.random.default_rng(7)
    lab = np.column_stack(
        [rng.uniform(0, 100, 600), rng.uniform(-110, 110, 600), rng.uniform(-110, 110, 600)]
    )
    pairs = [(tuple(lab[i]), tuple(lab[i + 1])) for i in range(0, 600, 2)]
    pairs += [
        ((50.0, 0.0, 0.0), (60.0, 0.0, 0.0)),  # neutral greys: no chroma, no hue
        ((50.0, 0.0, 0.0), (50.0, 20.0, -5.0)),  # one neutral
        ((50.0, 30.0, 0.0), (50.0, -30.0, 0.0)),  # hues 180 degrees apart
        ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5)),  # hues across 0/360
        ((40.0, 10.0, 10.0), (40.0, 10.0, 10.0)),  # identical
    ]
    return [
        (tuple(float(v) for v in a), tuple(float(v) for v in b))  # type: ignore[misc]
        for a, b in pairs
    ]


def test_delta_e_2000_agrees_with_scikit_image() -> None:
    for a, b in _pairs():
        expected = float(skimage_color.deltaE_ciede2000(np.array(a), np.array(b)))
        assert delta_e_2000(a, b) == pytest.approx(expected, abs=1e-9), (a, b)
        assert delta_e_2000(b, a) == pytest.approx(expected, abs=1e-9), (b, a)


def test_delta_e_2000_published_pair() -> None:
    # Sharma, Wu and Dalal (2005), table 1, pair 1.
    assert delta_e_2000((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485)) == pytest.approx(
        2.0425, abs=1e-4
    )


# The setting's light, figures left out (issue 28) -------------------------------------

from pathlib import Path  # noqa: E402

from faces_media import save, write_face_video  # noqa: E402

from setpiece.continuity.check import check_continuity  # noqa: E402
from setpiece.continuity.look import (  # noqa: E402
    CielabLook,
    LookDifference,
    SettingLook,
    balance_kelvin,
    decimals_apart,
    measure_take,
    picture_box,
    shows_no_setting,
)
from setpiece.continuity.settings import LookThresholds  # noqa: E402
from setpiece.model.enums import BibleKind  # noqa: E402
from setpiece.production.bible import add_entry  # noqa: E402
from setpiece.production.shots import parse_subjects  # noqa: E402
from setpiece.production.takes import import_takes  # noqa: E402
from setpiece.production.views import Recipe  # noqa: E402
from setpiece.store.video import Frame  # noqa: E402

DAY = LookThresholds()


def set_picture(width: int = 480, height: int = 270, shift: int = 0) -> np.ndarray:
    """A day interior: a warm wall with a window and a darker floor (no figure)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    wall = np.stack([200 - 0.1 * y, 180 - 0.1 * y, 150 - 0.1 * y], axis=-1)
    picture = np.where((y > height * 0.7)[..., None], wall * 0.55, wall)
    window = (abs(x - width * 0.25 - shift) < width * 0.08) & (
        abs(y - height * 0.35) < height * 0.15
    )
    picture[window] = (150, 190, 230)
    return np.clip(picture, 0, 255).astype(np.uint8)


def with_figure(picture: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """``picture`` with a red-coated figure over ``box`` (fractions: left, top, right, bottom)."""
    out = picture.copy()
    height, width = out.shape[:2]
    left, top, right, bottom = box
    out[int(top * height) : int(bottom * height), int(left * width) : int(right * width)] = (
        200,
        25,
        30,
    )
    return out


def exposed(rgb: np.ndarray, stops: float) -> np.ndarray:
    lin = linear_light(rgb) * 2.0**stops
    return encoded(lin)


def linear_light(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float64) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def encoded(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0, 1)
    srgb = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(srgb * 255), 0, 255).astype(np.uint8)


def daylight_white(kelvin: float) -> np.ndarray:
    """Linear sRGB of the CIE daylight locus' white (a different formula from the check's
    Planckian one), green at 1."""
    t = kelvin
    x = (
        -4.6070e9 / t**3 + 2.9678e6 / t**2 + 0.09911e3 / t + 0.244063
        if t <= 7000
        else -2.0064e9 / t**3 + 1.9018e6 / t**2 + 0.24748e3 / t + 0.237040
    )
    y = -3.0 * x**2 + 2.870 * x - 0.275
    xyz = np.array([x / y, 1.0, (1 - x - y) / y])
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    rgb = m @ xyz
    return rgb / rgb[1]


def rebalanced(rgb: np.ndarray, kelvin: float) -> np.ndarray:
    """``rgb`` shot at 6504 K as if the light were ``kelvin`` (von Kries gains in linear light)."""
    gains = daylight_white(kelvin) / daylight_white(6504.0)
    return encoded(linear_light(rgb) * gains)


def test_a_red_coat_close_up_after_a_wide_shot_is_not_a_jump() -> None:
    wide = with_figure(set_picture(), (0.45, 0.35, 0.55, 0.95))
    close = with_figure(set_picture(shift=30), (0.2, 0.3, 0.8, 1.0))
    old, new = CielabLook(), SettingLook()
    assert old.compare(old.stats([wide]), old.stats([close])).exceeded(DAY)  # the old rule
    assert new.compare(new.stats([wide]), new.stats([close])).exceeded(DAY) == []


@pytest.mark.parametrize(
    ("change", "measure"),
    [
        (lambda rgb: exposed(rgb, -1.0), "exposure"),
        (lambda rgb: exposed(rgb, 1.0), "exposure"),
        (lambda rgb: rebalanced(rgb, 5004.0), "white balance"),
        (lambda rgb: rebalanced(rgb, 8004.0), "white balance"),
    ],
)
def test_one_stop_and_1500_kelvin_between_shots_are_jumps(change, measure: str) -> None:
    wide = with_figure(set_picture(), (0.45, 0.35, 0.55, 0.95))
    close = with_figure(set_picture(shift=30), (0.2, 0.3, 0.8, 1.0))
    model = SettingLook()
    over = model.compare(model.stats([wide]), model.stats([change(close)])).exceeded(DAY)
    assert any(item.startswith(measure) for item in over), over


def test_white_balance_kelvin_is_measured_back_along_the_locus() -> None:
    model = SettingLook()
    base = model.stats([set_picture()])
    warm = model.compare(base, model.stats([rebalanced(set_picture(), 5004.0)])).kelvin
    assert warm == pytest.approx(-1500, abs=300)
    assert balance_kelvin(0.0) == 0.0


def test_numbers_are_printed_apart_from_their_threshold() -> None:
    assert decimals_apart(10.041, 10) == "10.04"
    assert decimals_apart(12.72, 10) == "12.7"
    assert decimals_apart(-0.7004, 0.7, least=2, sign=True) == "-0.7004"
    difference = LookDifference(delta_e=10.041, stops=0.0, kelvin=1200.4, contrast=0.0)
    over = difference.exceeded(LookThresholds(delta_e=10.0))
    assert over == [
        "colour ΔE2000 10.04 (threshold 10)",
        "white balance +1200.4 K (threshold 1200)",
    ]
    # A shift past the end of the locus is a bound, and said so.
    top = balance_kelvin(50.0)
    clipped = LookDifference(delta_e=0.0, stops=0.0, kelvin=top, contrast=0.0)
    assert clipped.exceeded(LookThresholds()) == [
        f"white balance beyond {top:+.0f} K (threshold {LookThresholds().kelvin:g})"
    ]


def test_the_picture_inside_a_storyboard_panel_or_letterbox() -> None:
    inner = set_picture(320, 180)
    panel = np.full((260, 400, 3), (241, 235, 228), np.uint8)  # paper, a caption below
    panel[20:200, 40:360] = inner
    panel[220:232, 40:120] = 30  # caption text
    assert picture_box(panel) == (20, 200, 40, 360)
    bars = np.zeros((240, 320, 3), np.uint8)
    bars[30:210] = set_picture(320, 180)
    assert picture_box(bars) == (30, 210, 0, 320)
    assert picture_box(set_picture()) == (0, 270, 0, 480)


def _frames(pictures: list[np.ndarray]) -> list[Frame]:
    from fractions import Fraction

    return [Frame(i, Fraction(i, 24), p) for i, p in enumerate(pictures)]


@pytest.mark.parametrize(
    ("picture", "reason"),
    [
        (np.zeros((90, 160, 3), np.uint8), "black"),
        (np.full((90, 160, 3), 255, np.uint8), "clipped white"),
    ],
)
def test_black_and_white_frames_have_no_light_to_measure(picture: np.ndarray, reason: str) -> None:
    light = measure_take(SettingLook(), _frames([picture, picture]), DAY)
    assert light.first is None and light.unmeasured is not None and reason in light.unmeasured


def test_figures_over_the_whole_border_leave_nothing_to_measure() -> None:
    picture = set_picture()
    light = measure_take(
        SettingLook(), _frames([picture]), DAY, figures=lambda rgb: [(0.0, 0.0, 1.0, 1.0)]
    )
    assert light.unmeasured == "figures cover the whole border: no setting to measure the light on"
    partly = measure_take(
        SettingLook(), _frames([picture]), DAY, figures=lambda rgb: [(0.3, 0.2, 0.7, 1.0)]
    )
    assert partly.first is not None and partly.unmeasured is None


def test_a_grade_shift_inside_a_take_is_found_once_at_its_frame() -> None:
    pictures = [set_picture(shift=i) for i in range(48)]
    pictures = pictures[:29] + [exposed(p, 1.0) for p in pictures[29:]]
    sampled = _frames(pictures)[::6]
    light = measure_take(
        SettingLook(),
        sampled,
        DAY,
        every_frame=lambda after, upto: [f for f in _frames(pictures) if after < f.index <= upto],
    )
    assert [(s.frame, s.before) for s in light.shifts] == [(29, 24)]
    assert light.first is not None and light.last is not None
    assert SettingLook().compare(light.first, light.last).stops == pytest.approx(1.0, abs=0.15)


def test_shots_that_show_no_setting(production, make) -> None:
    from setpiece.production.shots import get_shot

    add_entry(production, BibleKind.CHARACTER, "ANNA")
    add_entry(production, BibleKind.PROP, "PORSCHE")
    scene = make.scene("INT. GARAGE - DAY")
    make.shot("1A", scene, size="ECU", subjects=parse_subjects("ANNA"))
    make.shot("1B", scene, size="CU", subjects=parse_subjects("PORSCHE"))
    make.shot("1C", scene, size="CU", subjects=parse_subjects("ANNA"))
    assert "all figure" in (shows_no_setting(get_shot(production, "1A")) or "")
    assert "insert of PORSCHE" in (shows_no_setting(get_shot(production, "1B")) or "")
    assert shows_no_setting(get_shot(production, "1C")) is None


def _import(production, shot: str, path: Path) -> str:
    return import_takes(production, shot, [path], Recipe()).created[0].id


def test_the_check_on_a_project(production, make, media_dir: Path) -> None:
    """A red coat close-up and an insert are not jumps, the cut is judged around the insert,
    a scene of one shot compares nothing, a grade shift inside a take is reported once."""
    add_entry(production, BibleKind.PROP, "KNIFE")
    day = make.scene("INT. KITCHEN - DAY")
    make.shot("1A", day, size="WS")
    make.shot("1B", day, size="MCU")
    make.shot("1C", day, size="CU", subjects=parse_subjects("KNIFE"))
    make.shot("1D", day, size="WS")
    wide = with_figure(set_picture(), (0.45, 0.35, 0.55, 0.95))
    _import(production, "1A", save(media_dir / "wide.png", wide))
    close = with_figure(set_picture(shift=30), (0.2, 0.3, 0.8, 1.0))
    _import(production, "1B", save(media_dir / "close.png", close))
    insert = _import(
        production, "1C", save(media_dir / "insert.png", np.zeros((270, 480, 3), np.uint8))
    )
    darker = _import(production, "1D", save(media_dir / "darker.png", exposed(wide, -1.0)))

    alone = make.scene("EXT. YARD - DAY")
    make.shot("2A", alone, size="WS")
    pictures = [set_picture(shift=i) for i in range(48)]
    pictures = pictures[:29] + [rebalanced(p, 4504.0) for p in pictures[29:]]
    graded = _import(
        production, "2A", write_face_video(media_dir / "graded.mp4", pictures, size=(480, 270))
    )

    report = check_continuity(production)
    jumps = [f for f in report.findings if f.kind == "look_jump"]
    assert [(f.shot, f.take, f.frame) for f in jumps] == [("1D", darker, 0), ("2A", graded, 29)]
    around, inside = jumps
    assert around.detail.startswith("cut from 1B/1 to 1D/1 (the shots between show no setting)")
    assert "exposure -" in around.detail and around.data.fix == "setpiece match 1D/1 --to 1B/1"  # type: ignore[union-attr]
    assert inside.detail.startswith("the look changes inside 2A/1 at frame 29")
    assert "white balance" in inside.detail and inside.evidence_png
    assert [(s.take, s.check) for s in report.skipped if s.check == "look"] == [(insert, "look")]
    assert report.labels[graded] == "2A/1"
