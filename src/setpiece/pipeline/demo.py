"""`setpiece demo`: the whole product on a laptop in under two minutes, with no GPU or weights.

It runs ``make`` on *The Last Reel*, a four-scene screenplay written for Setpiece and
shipped in the package, with the previs generator at the demo profile: 960x540, one
take per shot, short clips (at most ``SHOT_SECONDS`` each) rendered at 12 fps and
retimed to the project's 24.

So that the report shows every check at work rather than a clean bill of health, the
demo stages two problems a real production meets, and says so in its report:

* one shot (``STYLED_SHOT``) is rendered in the bible style "Sodium", an orange
  street-light cast, in a blue night interior: continuity reports the look jump where it cuts;
* before the integrity check, it adds to the reference corpus a still made from one
  shot's own previs frame (``LOOKALIKE_SHOT``): widened so the take is a crop of it,
  mirrored, re-graded and captioned. The integrity check reports that take as a
  near-duplicate of an "existing work".

Identity checks do not apply: previs draws silhouettes, not photographic faces.

The demo speaks: every line is said by its character's default voice (eSpeak NG, the
``voices`` extra) before the pictures are rendered, and each shot is lengthened to fit the
lines it covers, so the preview movie is heard, line by line, in its shots. Without the
extra the demo says so once and the cut is silent.

The seeds are ``make``'s fixed ones (``MakeOptions.seed``), so two demos make the same takes
and their checks find the same things: the look jump at 3A->3B and 3B->3C, both because of
3B, and nothing else (tests/pipeline/test_make_seeds.py runs it twice).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from fractions import Fraction
from importlib import resources
from pathlib import Path

from setpiece.pipeline.make import MakeOptions, MakeReport, Progress, make
from setpiece.production.context import Production

__all__ = ["DEMO_SCRIPT", "LOOKALIKE_SHOT", "STYLED_SHOT", "demo_options", "run_demo"]

DEMO_SCRIPT = "demo.fountain"
SCRIPT_COPY = "the-last-reel.fountain"  # the copy the demo leaves in its folder
STYLED_SHOT = "3B"
STYLE_NAME = "Sodium"
STYLE_DESCRIPTION = "harsh orange sodium-vapour street light"
LOOKALIKE_SHOT = "2A"
SHOT_SECONDS = 3  # the demo profile's short clips
LOOKALIKE_TITLE = "Demo reference: an archive still (made by the demo from shot 2A's frame)"


def demo_script() -> Path:
    """The shipped screenplay's path (a real file inside the installed package)."""
    with resources.as_file(resources.files("setpiece.pipeline") / DEMO_SCRIPT) as path:
        return Path(path)


def demo_options(folder: Path) -> MakeOptions:
    return MakeOptions(
        script=demo_script(),
        project=folder,
        generator="previs",
        takes=1,
        fps=Fraction(24),
        render_fps=Fraction(12),
        kind="video",
        resolution=(960, 540),
        shot_styles={STYLED_SHOT: STYLE_NAME},
        dialogue=True,
    )


def run_demo(
    folder: Path, *, progress: Progress | None = None, actor: str | None = None
) -> MakeReport:
    """Runs the demo into ``folder`` (created if needed; an existing demo is resumed), acting
    as ``actor`` (see ``Production.open``)."""
    options = replace(demo_options(folder), actor=actor)
    report = make(options, progress=progress, before=_stage)
    # The screenplay beside the project, to read and to import into projects of one's own
    # (the README's dialogue and bible examples start from it).
    script = folder / SCRIPT_COPY
    if folder.is_dir() and not script.exists():
        shutil.copyfile(demo_script(), script)
    return report


def _stage(step: str, production: Production) -> None:
    if step == "dialogue":  # capped first, then lengthened to fit the lines
        _short_shots(production)
    elif step == "render":
        _ensure_style(production)
    elif step == "integrity":
        _ensure_lookalike(production)


def _short_shots(production: Production) -> None:
    """The demo profile's short clips: no shot plans more than ``SHOT_SECONDS``."""
    from setpiece.production.shots import list_shots, set_shot_duration

    cap = int(SHOT_SECONDS * production.fps)
    for shot in list_shots(production):
        if shot.planned_frames is None or shot.planned_frames > cap:
            set_shot_duration(production, shot.code, cap)


def _ensure_style(production: Production) -> None:
    from setpiece.errors import NotFoundError
    from setpiece.model.enums import BibleKind
    from setpiece.production.bible import add_entry, get_entry

    try:
        get_entry(production, BibleKind.STYLE, STYLE_NAME)
    except NotFoundError:
        add_entry(production, BibleKind.STYLE, STYLE_NAME, description=STYLE_DESCRIPTION)


def _ensure_lookalike(production: Production) -> None:
    """Adds the staged reference still (once), made from shot 2A's first frame."""
    from setpiece.integrity.corpus import add_references
    from setpiece.production.takes import list_takes
    from setpiece.store.frames import take_pictures

    folder = production.config.root / "reference"
    target = folder / "archive-still.jpg"
    if not target.exists():
        takes = [t for t in list_takes(production, LOOKALIKE_SHOT) if t.media is not None]
        if not takes:
            return
        take = takes[-1]
        assert take.media is not None
        every = max(1, take.media.frames)  # its first frame: every check samples it
        frames, _ = take_pictures(take.media, take.label, production.store, every=every)
        if not frames:
            return
        folder.mkdir(exist_ok=True)
        _lookalike(frames[0].rgb, target)
    add_references(production, [target], title=LOOKALIKE_TITLE)


def _lookalike(rgb: object, target: Path) -> None:
    """An "existing work" the shot copies: a wider picture of which the take is a crop,
    mirrored, warmer, with a caption, saved as JPEG (what a scraped frame looks like)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageOps

    from setpiece.lettering import typeface

    pixels = np.asarray(rgb, dtype=np.float32)
    h, w = pixels.shape[:2]
    pad_y, pad_x = h // 10, w // 10
    wider = np.pad(pixels, ((pad_y, pad_y), (pad_x, pad_x), (0, 0)), mode="reflect")
    graded = np.clip(wider * np.array([1.12, 1.0, 0.86]) + 10.0, 0, 255).astype(np.uint8)
    image = ImageOps.mirror(Image.fromarray(graded))
    typeface().draw(ImageDraw.Draw(image), (12, 20), "ARCHIVE 1954", 12, (255, 255, 255))
    image.save(target, quality=85)
