"""The keypoint stage's colour proof (issue 30): the previs renderer draws one cast the
same way in every location, so two panels agree in structure; a copy's colours are the
reference's under one grade, another panel's are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from integrity.pictures import lookalike_of, previs_panel, scene
from setpiece.integrity import keypoints
from setpiece.integrity.check import _picture
from setpiece.integrity.grade import explained
from setpiece.integrity.keypoints import GRADED, SHARED, KeypointCorpus
from setpiece.integrity.settings import IntegritySettings

COLOURS = {
    "Mara": (200, 60, 40),
    "Teo": (40, 90, 200),
    "Brandt": (60, 160, 80),
    "Ines": (220, 190, 60),
    "Oskar": (150, 70, 170),
}
LOCATIONS = [  # the benchmark's film: eight locations, five shots each
    "INT. PROJECTION BOOTH - NIGHT",
    "EXT. CINEMA ROOFTOP - NIGHT",
    "INT. CINEMA AUDITORIUM - NIGHT",
    "INT. KITCHEN - NIGHT",
    "EXT. DESERT ROAD - DAY",
    "EXT. HARBOUR - DUSK",
    "INT. OFFICE - DAY",
    "EXT. FOREST - NIGHT",
]
SIZES = ["WS", "MS", "CU", "MCU", "MWS"]
CASTS = [
    ("Mara",),
    ("Mara", "Teo"),
    ("Teo",),
    ("Brandt",),
    ("Teo", "Brandt"),
    ("Ines",),
    ("Ines", "Mara"),
    ("Oskar",),
    ("Brandt", "Oskar"),
]
DESERT = 8  # 5A, the desert road's first shot (Teo and Brandt, close), among the references


def _panel(place: int, shot: int, folder: Path) -> np.ndarray:
    """The benchmark's panel of a location and shot (its size, cast and seed)."""
    size, cast = SIZES[(3 * place + shot) % len(SIZES)], CASTS[(place + shot) % len(CASTS)]
    code = f"{place + 1}{'ABCDE'[shot]}"
    colours = {who: COLOURS[who] for who in cast}
    seed = 10 * place + shot
    path = previs_panel(
        folder,
        code,
        LOCATIONS[place],
        size,
        colours,
        seed=seed,
        width=640,
        height=360,
        angle="eye",
        lens_mm=35.0,
    )
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def panels(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[np.ndarray], np.ndarray]:
    """The two first shots of every location (the references), and the office's last
    shot (7E: Mara and Teo, close), which no reference copies."""
    folder = tmp_path_factory.mktemp("panels")
    references = [_panel(place, shot, folder) for place in range(8) for shot in (0, 1)]
    return references, _panel(6, 4, folder)


def _grade(rgb: np.ndarray) -> np.ndarray:
    """A heavy grade: saturation down, contrast down, a gamma and a warm tint."""
    arr = rgb.astype(np.float32) / 255
    grey = arr.mean(axis=2, keepdims=True)
    arr = grey + (arr - grey) * 0.3
    arr = np.clip((arr - 0.5) * 0.6 + 0.5, 0, 1) ** 1.6
    arr = np.clip(arr * np.array([1.2, 0.95, 0.7], np.float32) + 0.03, 0, 1)
    return (arr * 255).astype(np.uint8)


def _cartoon(rgb: np.ndarray) -> np.ndarray:
    """A cartoon filter: smoothed, four levels a channel, black ink on every edge."""
    import cv2

    smooth = rgb
    for _ in range(2):
        smooth = cv2.bilateralFilter(smooth, 9, 75, 75)
    flat = (smooth // 64) * 64 + 32
    grey = cv2.medianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 5)
    edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 2)
    return np.where(edges[:, :, None] == 0, 0, flat).astype(np.uint8)


def _banner(rgb: np.ndarray) -> np.ndarray:
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width, image.height // 4), fill=(230, 120, 20))
    return np.asarray(image)


def test_the_same_figures_in_other_colours_elsewhere_are_not_a_copy(
    panels: tuple[list[np.ndarray], np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    references, office = panels
    corpus = KeypointCorpus(references, IntegritySettings())
    assert corpus.match(office) == []
    # the structure alone matches the office's two figures, mirrored, to the desert's:
    # what refuses them is the colour (Mara red where Brandt is green, an office behind)
    monkeypatch.setattr(keypoints, "GRADED", 0.0)
    assert [m.reference for m in corpus.match(office)] == [DESERT]


def test_a_graded_posterised_or_covered_copy_of_a_panel_is_still_found(
    panels: tuple[list[np.ndarray], np.ndarray],
) -> None:
    references, _ = panels
    corpus = KeypointCorpus(references, IntegritySettings())
    desert = references[DESERT]
    posterised = np.asarray(ImageOps.posterize(Image.fromarray(desert), 2))
    mirrored = np.ascontiguousarray(_grade(desert)[:, ::-1])
    for copy in (_grade(desert), posterised, _banner(desert), _banner(_grade(desert)), mirrored):
        assert DESERT in [m.reference for m in corpus.match(copy)]


def test_a_grade_explains_a_graded_copy_and_not_a_recoloured_one(
    panels: tuple[list[np.ndarray], np.ndarray],
) -> None:
    picture = panels[0][DESERT]
    desert = picture.reshape(-1, 3).astype(np.float64) / 255
    everywhere = np.ones(len(desert), bool)
    graded = _grade(picture).reshape(-1, 3) / 255
    assert explained(desert, graded, everywhere, everywhere) >= 0.95
    # one figure's colour turned round (green to red) while the other keeps its own
    recoloured = picture.copy()
    green = np.abs(recoloured.astype(int) - COLOURS["Brandt"]).sum(axis=2) < 60
    recoloured[green] = COLOURS["Mara"]
    judged = explained(desert, recoloured.reshape(-1, 3) / 255, everywhere, green.ravel())
    assert green.mean() > 0.05 and judged < GRADED


def test_a_banner_over_a_quarter_does_not_spoil_the_grade(
    panels: tuple[list[np.ndarray], np.ndarray],
) -> None:
    picture = panels[0][DESERT]
    desert = picture.reshape(-1, 3).astype(np.float64) / 255
    covered = _banner(_grade(picture)).reshape(-1, 3) / 255
    everywhere = np.ones(len(desert), bool)
    below = np.zeros(picture.shape[:2], bool)
    below[picture.shape[0] // 4 + 1 :] = True
    assert explained(desert, covered, everywhere, below.ravel()) >= 0.95


def test_too_few_pixels_to_judge_pass() -> None:
    pixels = np.random.default_rng(1).random((40, 3))
    assert explained(pixels, pixels[::-1], np.ones(40, bool), np.zeros(40, bool)) == 1.0
    assert explained(pixels, pixels, np.zeros(40, bool), np.ones(40, bool)) == 1.0


def test_a_tinted_or_coloured_copy_of_a_black_and_white_reference_is_found(
    panels: tuple[list[np.ndarray], np.ndarray],
) -> None:
    """Colour cannot be judged against a grey reference, only lightness: the colour panel
    is a copy of its black-and-white print."""
    references, _ = panels
    grey = np.asarray(Image.fromarray(references[DESERT]).convert("L").convert("RGB"))
    corpus = KeypointCorpus(
        [grey if i == DESERT else r for i, r in enumerate(references)], IntegritySettings()
    )
    assert DESERT in [m.reference for m in corpus.match(references[DESERT])]
    sepia = np.clip(grey * np.array([1.1, 0.9, 0.65]), 0, 255).astype(np.uint8)
    assert DESERT in [m.reference for m in corpus.match(sepia)]


def test_a_cartoon_of_a_panel_is_found_through_its_ink(
    panels: tuple[list[np.ndarray], np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filter's ink specks take the features and fail the cells; closed, they do not."""
    references, _ = panels
    corpus = KeypointCorpus(references, IntegritySettings())
    copies = [_cartoon(references[i]) for i in (1, 3, 9)]
    for i, copy in zip((1, 3, 9), copies, strict=True):
        assert i in [m.reference for m in corpus.match(copy)]
    monkeypatch.setattr(keypoints, "_inkless", lambda grey: grey)
    assert all(corpus.match(copy) == [] for copy in copies)


def _chrome_corpus(references: list[np.ndarray], folder: Path) -> Path:
    """A library: the booth's first panel as an archive still (wider, mirrored, warmer,
    with its paper and caption strip), and SHARED unrelated photographs."""
    library = folder / "library"
    library.mkdir()
    lookalike_of(references[0]).save(library / "archive-still.jpg", quality=85)
    for seed in range(3, 3 + SHARED):
        scene(seed, 480, 270).save(library / f"photo-{seed}.png")
    return library


def test_a_panel_of_another_scene_is_not_fitted_through_the_paper_and_caption(
    panels: tuple[list[np.ndarray], np.ndarray], tmp_path: Path
) -> None:
    references, _ = panels
    works = [lookalike_of(references[0])] + [scene(s, 480, 270) for s in range(3, 3 + SHARED)]
    thumbs = []
    for work in works:
        work.thumbnail((IntegritySettings().thumb,) * 2, Image.Resampling.LANCZOS)
        thumbs.append(np.asarray(work))
    corpus = KeypointCorpus(thumbs, IntegritySettings())
    for other in (7, 13):  # the kitchen's and the office's second panels
        assert 0 in [m.reference for m in corpus.match(references[other])]  # the chrome
        assert corpus.match(_picture(references[other])) == []
    assert 0 in [m.reference for m in corpus.match(_picture(references[0]))]


def test_check_integrity_flags_the_copied_panel_and_not_the_others(
    cli, film: Path, panels: tuple[list[np.ndarray], np.ndarray], tmp_path: Path
) -> None:
    """Through the command, with more than SHARED works (the keypoint stage on)."""
    references, _ = panels
    assert cli("reference", "add", _chrome_corpus(references, tmp_path)).code == 0
    takes = {}
    for index in (0, 7, 13):
        path = tmp_path / f"panel-{index}.png"
        Image.fromarray(references[index]).save(path)
        result = cli("take", "import", "1A", path, "--json")
        assert result.code == 0, result.err
        takes[result.json()["created"][0]["id"]] = index
    result = cli("check", "integrity", "--json")
    assert result.code == 0, result.err
    flagged = {takes[f["take"]]: f["data"] for f in result.json()["findings"]}
    assert set(flagged) == {0}, flagged
    assert flagged[0]["reference"]["title"] == "archive-still"
