"""The previs generator: real PNG panels and MP4 animatics, drawn small so the file runs in seconds."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from mediafactory import write_png
from setpiece.errors import InvalidInputError
from setpiece.generate.backends._previs_plan import SIZES, parse_move, plan_shot
from setpiece.generate.backends.previs import MAX_FRAMES, PrevisGenerator
from setpiece.generate.base import Mode, RenderError, RenderRequest, ShotBrief, SubjectBrief
from setpiece.generate.registry import get_generator, list_generators
from setpiece.store.probe import probe

RED = (220, 30, 30)
BLUE = (30, 60, 220)


def brief(**changes: Any) -> ShotBrief:
    """A typical shot: two characters and a prop in a kitchen at night."""
    fields: dict[str, Any] = {
        "code": "12A",
        "scene": "12",
        "heading": "INT. KITCHEN - NIGHT",
        "description": "Zoë slides the letter across the table.",
        "size": "MS",
        "angle": "eye",
        "lens_mm": 50.0,
        "camera_move": "static",
        "int_ext": "INT",
        "location": "KITCHEN",
        "time_of_day": "NIGHT",
        "subjects": (
            SubjectBrief("Zoë", "character", side="left", color=RED),
            SubjectBrief("Marcus", "character", side="right", color=BLUE),
            SubjectBrief("letter", "prop", side="centre"),
        ),
    }
    fields.update(changes)
    return ShotBrief(**fields)


def request(mode: Mode = Mode.TEXT_TO_IMAGE, **changes: Any) -> RenderRequest:
    fields: dict[str, Any] = {
        "mode": mode,
        "prompt": "Medium shot of Zoë and Marcus in a kitchen at night.",
        "seed": 7,
        "width": 160,
        "height": 90,
        "frames": 6 if mode in (Mode.TEXT_TO_VIDEO, Mode.IMAGE_TO_VIDEO) else 1,
        "brief": brief(),
    }
    fields.update(changes)
    return RenderRequest(**fields)


@pytest.fixture(scope="module")
def previs() -> PrevisGenerator:
    return PrevisGenerator()


def render(previs: PrevisGenerator, tmp_path: Path, req: RenderRequest) -> Path:
    return previs.render(req, tmp_path).path


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def video_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def centroid_x(picture: np.ndarray, color: tuple[int, int, int], tolerance: int = 40) -> float:
    """Mean column of the pixels near ``color``: where a silhouette of that colour stands."""
    near = (np.abs(picture - np.array(color)).max(axis=2) < tolerance).nonzero()
    assert near[1].size > 20, f"no pixels near {color}"
    return float(near[1].mean()) / picture.shape[1]


# Stills and clips -------------------------------------------------------------------------------


def test_still_is_a_png_of_the_requested_size(previs: PrevisGenerator, tmp_path: Path) -> None:
    result = previs.render(request(width=320, height=180), tmp_path)
    info = probe(result.path)
    assert (info.kind, info.codec, info.width, info.height) == ("image", "png", 320, 180)
    assert result.path.parent == tmp_path
    assert "s7" in result.path.name and result.path.name.startswith("previs-12A-")
    assert result.model == "previs-1" and result.model_hash
    assert json.loads(json.dumps(result.parameters))["size"] == "MS"
    assert result.parameters["time_of_day"] == "night"
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".part"]


def test_clip_has_the_requested_frames_and_rate(previs: PrevisGenerator, tmp_path: Path) -> None:
    rate = Fraction(24000, 1001)
    req = request(Mode.TEXT_TO_VIDEO, frames=10, fps=rate, brief=brief(camera_move="push in"))
    result = previs.render(req, tmp_path)
    info = probe(result.path)
    assert (info.kind, info.width, info.height, info.frames, info.fps) == (
        "video",
        160,
        90,
        10,
        rate,
    )
    assert info.codec in ("h264", "mpeg4")
    assert result.parameters["encoder"]["codec"] in ("libx264", "mpeg4")


def test_same_request_same_bytes(previs: PrevisGenerator, tmp_path: Path) -> None:
    for mode in (Mode.TEXT_TO_IMAGE, Mode.TEXT_TO_VIDEO):
        req = request(mode, brief=brief(camera_move="handheld pan left"))
        first = render(previs, tmp_path / "a", req).read_bytes()
        second = render(previs, tmp_path / "b", req).read_bytes()
        assert first == second


def test_clip_frames_decode_identically(previs: PrevisGenerator, tmp_path: Path) -> None:
    req = request(Mode.TEXT_TO_VIDEO, brief=brief(camera_move="pull out"))
    first = video_frames(render(previs, tmp_path / "a", req))
    second = video_frames(render(previs, tmp_path / "b", req))
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_seeds_make_different_takes(previs: PrevisGenerator, tmp_path: Path) -> None:
    one = render(previs, tmp_path, request(seed=1))
    two = render(previs, tmp_path, request(seed=2))
    assert one.name != two.name
    assert not np.array_equal(pixels(one), pixels(two))


def test_unicode_names_and_captions(previs: PrevisGenerator, tmp_path: Path) -> None:
    names = (
        SubjectBrief("ZOË", "character", side="left"),
        SubjectBrief("李", "character", side="right"),
        SubjectBrief("Ñandú", "prop"),
    )
    req = request(
        width=320,
        height=180,
        brief=brief(subjects=names, description="李 watches; Zoë — “quietly” — leaves. 🎬"),
    )
    assert probe(render(previs, tmp_path, req)).kind == "image"


def test_without_a_brief_the_prompt_makes_a_caption_panel(
    previs: PrevisGenerator, tmp_path: Path
) -> None:
    one = previs.render(request(brief=None, prompt="A lighthouse on a cliff at night"), tmp_path)
    two = previs.render(request(brief=None, prompt="A sunny meadow, wide"), tmp_path)
    assert probe(one.path).width == 160
    assert one.path.name.startswith("previs-panel-")
    assert one.parameters["time_of_day"] == "night" and two.parameters["time_of_day"] == "day"
    assert pixels(one.path).mean() < pixels(two.path).mean()


def test_progress_is_reported_up_to_one(previs: PrevisGenerator, tmp_path: Path) -> None:
    seen: list[float] = []
    previs.render(request(Mode.TEXT_TO_VIDEO, frames=12), tmp_path, seen.append)
    assert len(seen) >= 3
    assert seen == sorted(seen) and seen[-1] == 1.0 and 0.0 < seen[0] < 1.0


@pytest.mark.parametrize("caption", ["below", "overlay", "none"])
def test_caption_layouts(previs: PrevisGenerator, tmp_path: Path, caption: str) -> None:
    for mode in (Mode.TEXT_TO_IMAGE, Mode.TEXT_TO_VIDEO):
        req = request(mode, parameters={"caption": caption}, brief=brief(camera_move="pan right"))
        info = probe(render(previs, tmp_path, req))
        assert (info.width, info.height) == (160, 90)


def test_init_image_modes(previs: PrevisGenerator, tmp_path: Path) -> None:
    init = write_png(tmp_path / "plate.png", w=120, h=80, color=(10, 200, 10))
    still = previs.render(request(Mode.IMAGE_TO_IMAGE, init_image=init), tmp_path / "out")
    assert still.parameters["backdrop"] == "init image"
    assert still.parameters["init_image_sha256"]
    req = request(
        Mode.IMAGE_TO_VIDEO,
        init_image=init,
        brief=brief(camera_move="pan left"),
        parameters={"caption": "none"},
    )
    clip = previs.render(req, tmp_path)
    frames = video_frames(clip.path)
    assert len(frames) == 6
    # The whole picture is the plate: a pan stays inside it instead of showing its edge.
    for frame in (frames[0], frames[-1]):
        assert abs(frame[:, :, 1].mean() - 200) < 12 and frame[:, :, 0].mean() < 30


def test_unreadable_init_image_is_a_render_error(previs: PrevisGenerator, tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    with pytest.raises(RenderError, match="init image"):
        previs.render(request(Mode.IMAGE_TO_IMAGE, init_image=bad), tmp_path)


# What the panel shows ---------------------------------------------------------------------------


def test_blocking_places_characters_by_side(previs: PrevisGenerator, tmp_path: Path) -> None:
    day = {"time_of_day": "DAY", "heading": "EXT. FIELD - DAY", "int_ext": "EXT", "size": "WS"}
    shot = brief(
        **day,
        subjects=(
            SubjectBrief("A", "character", side="left", color=RED),
            SubjectBrief("B", "character", side="right", color=BLUE),
        ),
    )
    picture = pixels(render(previs, tmp_path, request(width=320, height=180, brief=shot)))
    assert centroid_x(picture, RED) < 0.45 < 0.55 < centroid_x(picture, BLUE)


def test_night_is_darker_than_day(previs: PrevisGenerator, tmp_path: Path) -> None:
    night = pixels(render(previs, tmp_path, request(parameters={"caption": "none"})))
    day = brief(time_of_day="DAY", heading="INT. KITCHEN - DAY")
    lit = pixels(render(previs, tmp_path, request(brief=day, parameters={"caption": "none"})))
    assert night.mean() < lit.mean() - 20
    assert night[:, :, 2].mean() > night[:, :, 0].mean() - 10  # a blue night


def test_pan_right_moves_the_picture_left(previs: PrevisGenerator, tmp_path: Path) -> None:
    shot = brief(
        time_of_day="DAY",
        size="WS",
        camera_move="pan right",
        subjects=(SubjectBrief("A", "character", side="centre", color=RED),),
    )
    req = request(
        Mode.TEXT_TO_VIDEO,
        width=320,
        height=180,
        frames=8,
        brief=shot,
        parameters={"caption": "none"},
    )
    frames = video_frames(render(previs, tmp_path, req))
    assert centroid_x(frames[0], RED, 60) > centroid_x(frames[-1], RED, 60) + 0.1


def test_static_camera_holds_still_and_push_in_moves(
    previs: PrevisGenerator, tmp_path: Path
) -> None:
    static = video_frames(render(previs, tmp_path, request(Mode.TEXT_TO_VIDEO)))
    assert np.abs(static[0] - static[-1]).mean() < 1.0
    push = video_frames(
        render(previs, tmp_path, request(Mode.TEXT_TO_VIDEO, brief=brief(camera_move="push in")))
    )
    assert np.abs(push[0] - push[-1]).mean() > 3.0


def test_figure_size_follows_shot_size_and_depth() -> None:
    heights = [SIZES[s].figure for s in ("ECU", "CU", "MCU", "MS", "MWS", "WS", "EWS")]
    assert heights == sorted(heights, reverse=True)
    subjects = tuple(
        SubjectBrief(d, "character", side="centre", depth=d)
        for d in ("foreground", "midground", "background")
    )
    for lens in (18.0, 50.0, 135.0):
        plan = plan_shot(brief(subjects=subjects, lens_mm=lens), aspect=16 / 9, seed=1)
        fg, mid, bg = plan.figures
        assert fg.height > mid.height > bg.height
        assert fg.feet > mid.feet > bg.feet  # nearer stands lower in frame
    wide = plan_shot(brief(subjects=subjects, lens_mm=18.0), aspect=16 / 9, seed=1).figures
    long = plan_shot(brief(subjects=subjects, lens_mm=135.0), aspect=16 / 9, seed=1).figures
    assert wide[2].height / wide[1].height < long[2].height / long[1].height  # compression


def test_angles_move_the_horizon() -> None:
    def horizon(angle: str) -> float:
        return plan_shot(brief(angle=angle), aspect=16 / 9, seed=1).horizon

    assert horizon("high") < horizon("eye") < horizon("low")
    dutch = plan_shot(brief(angle="dutch"), aspect=16 / 9, seed=1)
    assert 8 <= abs(dutch.roll) <= 13
    assert plan_shot(brief(angle="bird's eye"), aspect=16 / 9, seed=1).angle == "overhead"


@pytest.mark.parametrize(
    ("words", "label", "shake"),
    [
        ("static", "static", 0.0),
        ("slow push-in", "push in", 0.0),
        ("pull back", "pull out", 0.0),
        ("zoom out", "pull out", 0.0),
        ("pan left to right", "pan right", 0.0),
        ("pan left", "pan left", 0.0),
        ("tilt down", "tilt down", 0.0),
        ("crane up", "crane up", 0.0),
        ("dolly left", "truck left", 0.0),
        ("tracking shot", "truck right", 0.0),
        ("handheld push in", "handheld, push in", 0.007),
        ("whip pan left", "whip pan left", 0.0),
    ],
)
def test_camera_move_words(words: str, label: str, shake: float) -> None:
    move = parse_move(words)
    assert move.label == label and move.shake == shake and not move.ignored


def test_unknown_words_are_recorded_not_dropped(previs: PrevisGenerator, tmp_path: Path) -> None:
    req = request(brief=brief(camera_move="barrel roll", size="huge", time_of_day="TEATIME"))
    ignored = previs.render(req, tmp_path).parameters["ignored"]
    assert any("barrel" in w for w in ignored) and any("huge" in w for w in ignored)
    assert any("TEATIME" in w for w in ignored)


# Every word of the shot renders ------------------------------------------------------------------


@pytest.mark.parametrize("size", ["ECU", "CU", "MCU", "MS", "MWS", "WS", "EWS", None])
@pytest.mark.parametrize("time", ["DAY", "NIGHT", "DAWN", "DUSK"])
def test_every_size_and_time_of_day(
    previs: PrevisGenerator, tmp_path: Path, size: str | None, time: str
) -> None:
    for int_ext in ("INT", "EXT"):
        shot = brief(
            size=size, time_of_day=time, int_ext=int_ext, heading=f"{int_ext}. PARK - {time}"
        )
        assert probe(render(previs, tmp_path, request(width=96, height=54, brief=shot))).width == 96


@pytest.mark.parametrize(
    "move",
    [
        "static",
        "push in",
        "pull out",
        "pan left",
        "pan right",
        "tilt up",
        "tilt down",
        "dolly in",
        "truck right",
        "crane down",
        "handheld",
        "steadicam",
        "whip pan right",
        None,
    ],
)
def test_every_camera_move(previs: PrevisGenerator, tmp_path: Path, move: str | None) -> None:
    req = request(Mode.TEXT_TO_VIDEO, width=96, height=54, frames=3, brief=brief(camera_move=move))
    assert probe(render(previs, tmp_path, req)).frames == 3
    assert (
        probe(render(previs, tmp_path, request(width=96, height=54, brief=req.brief))).frames == 1
    )


@pytest.mark.parametrize("side", ["left", "centre", "center", "right", None])
@pytest.mark.parametrize("depth", ["foreground", "midground", "background", None])
def test_every_side_and_depth(
    previs: PrevisGenerator, tmp_path: Path, side: str | None, depth: str | None
) -> None:
    subjects = (
        SubjectBrief("Ana", "character", side=side, depth=depth),
        SubjectBrief("cup", "prop", side=side, depth=depth),
        SubjectBrief("car", "prop", side=side, depth=depth),
    )
    req = request(width=96, height=54, brief=brief(subjects=subjects))
    assert probe(render(previs, tmp_path, req)).kind == "image"


@pytest.mark.parametrize(
    "angle", ["eye", "low", "high", "overhead", "dutch", "low dutch", "worm's eye", "aerial", None]
)
def test_every_angle(previs: PrevisGenerator, tmp_path: Path, angle: str | None) -> None:
    req = request(width=96, height=54, brief=brief(angle=angle))
    assert probe(render(previs, tmp_path, req)).kind == "image"


# Capabilities and refusals ------------------------------------------------------------------------


def test_registered_and_capabilities() -> None:
    generator = get_generator("previs")
    assert isinstance(generator, PrevisGenerator)
    caps = generator.capabilities()
    assert not caps.photographic_faces and not caps.reference_images and caps.seeds
    assert (caps.max_width, caps.max_height, caps.max_frames) == (3840, 2160, MAX_FRAMES)
    assert set(caps.modes) == set(Mode)
    info = next(g for g in list_generators() if g.name == "previs")
    assert info.available


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"references": (Path("ref.png"),)}, "reference images"),
        ({"width": 4000}, "at most 3840x2160"),
        ({"width": 8, "height": 8}, "at least 16x16"),
        ({"frames": 2}, "a still has 1 frame"),
        ({"parameters": {"steps": 20}}, "does not take parameter"),
        ({"parameters": {"caption": "sideways"}}, "caption 'sideways'"),
        ({"parameters": {"annotate": "yes"}}, "annotate"),
        ({"mode": Mode.TEXT_TO_VIDEO, "frames": 4, "width": 161}, "even width"),
        ({"mode": Mode.TEXT_TO_VIDEO, "frames": MAX_FRAMES + 1}, "at most"),
        ({"mode": Mode.IMAGE_TO_VIDEO, "frames": 4}, "needs an init image"),
    ],
)
def test_check_refuses(previs: PrevisGenerator, changes: dict[str, Any], message: str) -> None:
    req = request(**changes)
    with pytest.raises(InvalidInputError, match=message):
        previs.check(req)


def test_render_refuses_with_a_render_error(previs: PrevisGenerator, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="reference images") as caught:
        previs.render(request(references=(Path("ref.png"),)), tmp_path)
    assert not caught.value.transient
    assert not list(tmp_path.iterdir())


def test_config_sets_defaults(tmp_path: Path) -> None:
    previs = PrevisGenerator({"caption": "none"})
    result = previs.render(request(), tmp_path)
    assert result.parameters["caption"] == "none"
    # A key previs does not have was ignored; it is refused now, naming it and the section.
    with pytest.raises(InvalidInputError, match=r"\[generators.previs\]: unknown key 'model'"):
        PrevisGenerator({"caption": "none", "model": "ignored"})
    with pytest.raises(InvalidInputError, match=r"\[generators.previs\] caption: expected one of"):
        PrevisGenerator({"caption": "side"})


def test_mpeg4_when_pyav_has_no_h264(
    previs: PrevisGenerator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(av, "codecs_available", set(av.codecs_available) - {"libx264"})
    req = request(Mode.TEXT_TO_VIDEO, brief=brief(camera_move="pan right"))
    first = previs.render(req, tmp_path / "a")
    assert first.parameters["encoder"]["codec"] == "mpeg4"
    info = probe(first.path)
    assert (info.codec, info.frames) == ("mpeg4", 6)
    second = previs.render(req, tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()


def test_noir_style_is_black_and_white(previs: PrevisGenerator, tmp_path: Path) -> None:
    req = request(brief=brief(style="Noir", time_of_day="DAY"), parameters={"caption": "none"})
    picture = pixels(render(previs, tmp_path, req))
    assert np.abs(picture[:, :, 0] - picture[:, :, 2]).max() <= 2


def test_a_style_can_cast_a_colour(previs: PrevisGenerator, tmp_path: Path) -> None:
    plain = request(brief=brief(time_of_day="NIGHT"), parameters={"caption": "none"})
    sodium = request(
        brief=brief(time_of_day="NIGHT", style="Sodium: harsh orange sodium-vapour light"),
        parameters={"caption": "none"},
    )
    before = pixels(render(previs, tmp_path / "plain", plain)).astype(float)
    after = pixels(render(previs, tmp_path / "sodium", sodium)).astype(float)
    warmth = lambda p: (p[:, :, 0] - p[:, :, 2]).mean()  # noqa: E731
    assert warmth(after) > warmth(before) + 15


def test_unwritable_work_folder_is_transient(previs: PrevisGenerator, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RenderError) as caught:
        previs.render(request(), blocker / "work")
    assert caught.value.transient


def test_relative_fonts_start_in_the_project_folder(tmp_path: Path) -> None:
    system = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf")
    if not system.is_file():
        pytest.skip("no DejaVu font on this machine to copy")
    project = tmp_path / "film"
    (project / "fonts").mkdir(parents=True)
    (project / "fonts" / "Ours.ttf").write_bytes(system.read_bytes())
    previs = PrevisGenerator({"fonts": ["fonts/Ours.ttf"]}, project_dir=project)
    assert previs.render(request(), tmp_path / "out").parameters["font"] == "Ours.ttf"


# Issue 23: the set from the bible, inserts, distinct characters, looks --------------------------


@pytest.mark.parametrize(
    ("location", "int_ext", "description", "setting"),
    [
        ("CINEMA ROOFTOP", "EXT", "", "rooftop"),
        ("CINEMA AUDITORIUM", "INT", "", "auditorium"),
        ("PROJECTION BOOTH", "INT", "", "booth"),
        ("KITCHEN", "INT", "", "kitchen"),
        ("OLD PIER", "EXT", "", "pier"),
        ("HIGHWAY 9", "EXT", "", "street"),
        ("BRICK'S PATIO", "EXT", "", "nature"),
        ("THE MILLER PLACE", "EXT", "a flat roof with a low parapet over the city", "rooftop"),
        ("THE MILLER PLACE", "INT", "rows of seats before a screen", "auditorium"),
    ],
)
def test_the_set_comes_from_the_location_name_then_its_description(
    location: str, int_ext: str, description: str, setting: str
) -> None:
    plan = plan_shot(
        brief(location=location, int_ext=int_ext, location_description=description),
        aspect=16 / 9,
        seed=1,
    )
    assert plan.setting == setting
    assert not [note for note in plan.ignored if "matches no set" in note]


def test_a_location_matching_nothing_gets_the_neutral_set_said_once(
    previs: PrevisGenerator, tmp_path: Path
) -> None:
    odd = brief(location="ZORBLAX NINE", int_ext="EXT", heading="EXT. ZORBLAX NINE - DAY")
    plan = plan_shot(odd, aspect=16 / 9, seed=1)
    notes = [note for note in plan.ignored if "matches no set" in note]
    assert plan.setting == "neutral" and notes == [
        "location 'ZORBLAX NINE' matches no set of the vocabulary: neutral set"
    ]
    path = render(previs, tmp_path, request(brief=odd))
    assert Image.open(path).size == (160, 90)


def test_an_insert_draws_its_prop_large_in_the_middle_and_labelled(
    previs: PrevisGenerator, tmp_path: Path
) -> None:
    canister = SubjectBrief("FILM CANISTER", "prop", side="centre", depth="foreground")
    insert = brief(size="CU", description="Insert: FILM CANISTER", subjects=(canister,))
    plan = plan_shot(insert, aspect=16 / 9, seed=1)
    (fig,) = plan.figures
    assert fig.height >= 0.4 and abs(fig.x - plan.aspect / 2) < 0.05 and fig.feet <= 0.85
    empty = brief(size="CU", description="Insert: FILM CANISTER", subjects=())
    with_prop = pixels(render(previs, tmp_path / "a", request(brief=insert, width=320, height=180)))
    without = pixels(render(previs, tmp_path / "b", request(brief=empty, width=320, height=180)))
    middle = (slice(40, 130), slice(110, 210))
    assert np.abs(with_prop[middle] - without[middle]).mean() > 10  # the prop is there


def test_a_long_prop_name_is_fitted_on_its_label(previs: PrevisGenerator, tmp_path: Path) -> None:
    name = "GOLDEN " * 28 + "KEY"
    assert len(name) > 190
    insert = brief(size="CU", subjects=(SubjectBrief(name, "prop"),))
    assert Image.open(render(previs, tmp_path, request(brief=insert))).size == (160, 90)


def test_the_palette_keeps_twelve_characters_apart() -> None:
    import itertools

    from setpiece.generate.backends._previs_colour import CAST_PALETTE, cast_colors, delta_e2000

    assert min(delta_e2000(a, b) for a, b in itertools.combinations(CAST_PALETTE, 2)) >= 20
    twelve = [f"EXTRA {n}" for n in range(12)]
    colors = cast_colors(twelve, [twelve])
    assert len(set(colors.values())) == 12
    # beyond the palette, characters who share a scene still differ while colours remain
    crowd = [f"C{n}" for n in range(30)]
    scenes = [crowd[i : i + 10] for i in range(0, 30, 5)]
    many = cast_colors(crowd, scenes)
    for scene in scenes:
        assert len({many[name] for name in scene}) == len(scene)


def test_delta_e2000_matches_the_published_test_data() -> None:
    from setpiece.generate.backends._previs_colour import delta_e2000

    assert delta_e2000((0, 0, 0), (0, 0, 0)) == 0
    # white against black is about 100 in CIEDE2000
    assert 99 < delta_e2000((255, 255, 255), (0, 0, 0)) < 101


def test_hair_and_coat_come_from_the_description_and_the_look_comes_last() -> None:
    from setpiece.generate.backends._previs_colour import COLOUR_WORDS, HAIR_WORDS

    who = SubjectBrief("MARA", "character", description="40s, red coat, grey hair", color=BLUE)
    (fig,) = plan_shot(brief(subjects=(who,)), aspect=16 / 9, seed=1).figures
    assert fig.color == COLOUR_WORDS["red"] and fig.hair == COLOUR_WORDS["grey"]
    changed = SubjectBrief(
        "MARA", "character", description="40s, red coat, grey hair. a navy raincoat, bald"
    )
    (after,) = plan_shot(brief(subjects=(changed,)), aspect=16 / 9, seed=1).figures
    assert after.color == COLOUR_WORDS["navy"] and after.hair == HAIR_WORDS["bald"]
    plain = SubjectBrief("TEO", "character", description="19, hoodie, too eager", color=RED)
    (teo,) = plan_shot(brief(subjects=(plain,)), aspect=16 / 9, seed=1).figures
    assert teo.color == RED and teo.hair is None


def test_a_look_change_from_scene_3_shows_and_characters_of_a_film_differ(
    production: Any, make: Any
) -> None:
    from sqlalchemy import select

    from setpiece.generate.backends._previs_colour import CAST_PALETTE, COLOUR_WORDS
    from setpiece.generate.prompts import _brief, shot_facts
    from setpiece.model.enums import BibleKind
    from setpiece.model.orm import Shot
    from setpiece.production.bible import add_entry
    from setpiece.production.looks import set_look
    from setpiece.production.shots import parse_subjects

    add_entry(production, BibleKind.CHARACTER, "MARA", description="60s, red coat")
    add_entry(production, BibleKind.CHARACTER, "TEO", description="19, hoodie")
    scenes = [make.scene(f"INT. BOOTH {n} - NIGHT") for n in range(3)]
    for code, scene in (("1A", scenes[0]), ("3A", scenes[2])):
        make.shot(code, scene, subjects=parse_subjects("MARA, TEO"))
    set_look(production, BibleKind.CHARACTER, "MARA", from_scene=scenes[2], description="navy coat")
    figures = {}
    with production.transaction(read_only=True) as session:
        for code in ("1A", "3A"):
            shot_id = session.scalar(select(Shot.id).where(Shot.code == code))
            plan = plan_shot(_brief(shot_facts(session, shot_id)), aspect=16 / 9, seed=1)
            figures[code] = {f.name: f for f in plan.figures}
    assert figures["1A"]["MARA"].color == COLOUR_WORDS["red"]
    assert figures["3A"]["MARA"].color == COLOUR_WORDS["navy"]  # the look from scene 3
    assert figures["1A"]["TEO"].color == figures["3A"]["TEO"].color == CAST_PALETTE[1]
