"""The previs generator: storyboard panels and animatics drawn from the shot itself.

The default backend, and the only one needing no model, network or GPU. It reads the
shot brief the way a board artist would: the size says how big the figures are, the
lens how deep the space looks, the angle where the horizon goes, the blocking where
each character stands, the heading whether it is a room or the open air and what
light it has, and ``camera_move`` how the frame travels over the clip. Characters are
labelled silhouettes in their bible colours, props labelled shapes; the caption
carries the shot code, the heading and the description.

Modes: text-to-image (a panel), text-to-video (an animatic), image-to-image (an init
image framed as a panel with the shot's caption and move arrows) and image-to-video
(the init image as the set, moved by the shot's camera move). With no brief, the
prompt alone makes a caption panel on the backdrop its words suggest.

Output is deterministic: the same request gives the same bytes on one machine (PNG;
MP4 from a single-threaded encoder with fixed settings). The seed varies the small
things: poses, the light's position, a dutch angle's degree, a handheld camera's
wobble. The font face and encoder used are recorded in the result's parameters.

Request parameters (all optional; project defaults may come from the generator's
configuration):

    caption    "below" (a storyboard panel, default), "overlay" or "none"
    annotate   draw camera-move arrows on stills (default true)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from setpiece.config import setting
from setpiece.errors import InvalidInputError
from setpiece.generate.backends._previs_plan import View, camera_path
from setpiece.generate.base import (
    Capabilities,
    Cost,
    Generator,
    GeneratorSettings,
    Mode,
    Origin,
    Progress,
    RenderError,
    RenderRequest,
    RenderResult,
)

__all__ = ["MAX_FRAMES", "VERSION", "Prepared", "PrevisGenerator", "PrevisSettings", "prepare"]

VERSION = "1"
MAX_FRAMES = 7200  # five minutes at 24 fps: longer than any shot, bounded for a queue worker
MIN_SIZE = 16
# Previs draws on the CPU in a second or two: recorded as costing nothing, in the compute
# unit, so it counts against no budget.
FREE = Cost(amount=Decimal(0), unit="compute_seconds")
MAX_LAYER_PIXELS = 24_000_000  # the painted set, before the camera crops it
PARAMETERS = {"caption", "annotate"}


def _model_hash() -> str:
    return hashlib.sha256(f"setpiece-previs-{VERSION}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PrevisSettings(GeneratorSettings):
    """``[generators.previs]``: the request parameters' project defaults, and fonts."""

    caption: str = setting(
        "below", choices=("below", "overlay", "none"), help="where the caption goes"
    )
    annotate: bool = setting(True, help="draw camera-move arrows on stills")
    fonts: tuple[str, ...] = setting(
        (), help="font files tried before the system's (scripts the default face lacks)"
    )


class PrevisGenerator(Generator):
    """Storyboard panels (PNG) and animatics (MP4) drawn from the shot brief, on the CPU.

    Settings (``PrevisSettings``): ``caption`` and ``annotate`` (defaults for every
    request), and ``fonts``: font files tried before the system's (for scripts the
    default face lacks); relative ones start in the project folder.
    """

    name: ClassVar[str] = "previs"
    Settings: ClassVar[type[GeneratorSettings]] = PrevisSettings
    settings: PrevisSettings
    origin: ClassVar[Origin] = Origin.ALGORITHM  # draws, no trained model: IPTC algorithmicMedia
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        modes=frozenset(Mode),
        reference_images=False,
        seeds=True,
        max_width=3840,
        max_height=2160,
        max_frames=MAX_FRAMES,
        max_seconds=None,
        photographic_faces=False,
        flicker_free=True,
    )

    def _settings(self, request: RenderRequest) -> dict[str, Any]:
        """The effective caption and annotate settings; refuses unknown or bad values."""
        unknown = sorted(set(request.parameters) - PARAMETERS)
        if unknown:
            raise InvalidInputError(
                f"previs does not take parameter(s) {', '.join(unknown)}: "
                f"it takes {', '.join(sorted(PARAMETERS))}"
            )
        merged: dict[str, Any] = {
            "caption": self.settings.caption,
            "annotate": self.settings.annotate,
        }
        merged.update(request.parameters)
        from setpiece.generate.backends._previs_panel import CAPTIONS

        if merged["caption"] not in CAPTIONS:
            raise InvalidInputError(
                f"previs caption {merged['caption']!r} is unknown: use {', '.join(CAPTIONS)}"
            )
        if not isinstance(merged["annotate"], bool):
            raise InvalidInputError(
                f"previs annotate must be true or false, not {merged['annotate']!r}"
            )
        return merged

    def check(self, request: RenderRequest) -> None:
        """Refuses what previs cannot draw, before anything is queued.

        Raises:
            InvalidInputError: Mode, size, length, references or parameters out of range.
        """
        super().check(request)
        self._settings(request)
        if request.width < MIN_SIZE or request.height < MIN_SIZE:
            raise InvalidInputError(
                f"previs makes at least {MIN_SIZE}x{MIN_SIZE}, not {request.width}x{request.height}"
            )
        if request.is_video:
            if request.width % 2 or request.height % 2:
                raise InvalidInputError(
                    f"previs clips need an even width and height (4:2:0 video), "
                    f"not {request.width}x{request.height}"
                )
            if request.frames < 1:
                raise InvalidInputError(f"a clip needs at least 1 frame, not {request.frames}")
            if not 0 < request.fps <= 240:
                raise InvalidInputError(
                    f"frame rate {request.fps} is out of range: give more than 0, up to 240"
                )
        elif request.frames != 1:
            raise InvalidInputError(
                f"a still has 1 frame, not {request.frames}: ask for {Mode.TEXT_TO_VIDEO.value}"
            )
        if (
            request.mode in (Mode.IMAGE_TO_IMAGE, Mode.IMAGE_TO_VIDEO)
            and request.init_image is None
        ):
            raise InvalidInputError(f"{request.mode.value} needs an init image")

    def quote(self, request: RenderRequest) -> Cost:
        """Previs costs nothing: zero, so it never counts against a budget."""
        return FREE

    def render(
        self, request: RenderRequest, workdir: Path, progress: Progress | None = None
    ) -> RenderResult:
        """Draws the panel or animatic into ``workdir``.

        Raises:
            RenderError: The request is invalid, the init image unreadable, or writing
                failed (transient: a full disk or a lost folder may come back).
        """
        try:
            self.check(request)
            settings = self._settings(request)
        except InvalidInputError as exc:
            raise RenderError(str(exc)) from exc
        init_digest, init = _read_init(request)
        from setpiece.lettering import typeface

        fonts = tuple(
            str(self.project_dir / p if self.project_dir else p) for p in self.settings.fonts
        )
        face = typeface(fonts)
        digest = _request_digest(request, settings, init_digest)
        slug = re.sub(r"[^A-Za-z0-9_-]+", "_", request.brief.code if request.brief else "")
        stem = f"previs-{slug.strip('_') or 'panel'}-s{request.seed}-{digest[:10]}"
        workdir = Path(workdir)
        try:
            workdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RenderError(
                f"cannot create work folder {workdir}: {exc}", transient=True
            ) from exc
        suffix = ".mp4" if request.is_video else ".png"
        final = workdir / (stem + suffix)
        handle, temp_name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".part", dir=workdir)
        os.close(handle)
        try:
            used = _draw(request, settings, face, init, Path(temp_name), progress)
            with open(temp_name, "rb+") as written:
                os.fsync(written.fileno())
            os.replace(temp_name, final)
        except OSError as exc:
            raise RenderError(f"cannot write {final}: {exc}", transient=True) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
        if progress is not None:
            progress(1.0)
        parameters = {
            "renderer": f"previs-{VERSION}",
            "mode": request.mode.value,
            "width": request.width,
            "height": request.height,
            "frames": request.frames,
            "fps": f"{request.fps.numerator}/{request.fps.denominator}",
            "seed": request.seed,
            **settings,
            **used,
            "font": face.name,
        }
        if init_digest:
            parameters["init_image_sha256"] = init_digest
        return RenderResult(
            path=final,
            model=f"previs-{VERSION}",
            model_hash=_model_hash(),
            parameters=parameters,
            cost=FREE,
        )


def _read_init(request: RenderRequest) -> tuple[str | None, Any]:
    """(sha256, loaded RGB image) of the init image, or (None, None) in text modes."""
    if request.mode not in (Mode.IMAGE_TO_IMAGE, Mode.IMAGE_TO_VIDEO) or request.init_image is None:
        return None, None
    from PIL import Image, UnidentifiedImageError

    path = Path(request.init_image)
    try:
        data = path.read_bytes()
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise RenderError(f"init image {path} cannot be read as a picture: {exc}") from exc
    return hashlib.sha256(data).hexdigest(), image


def _request_digest(request: RenderRequest, settings: dict[str, Any], init: str | None) -> str:
    """A hash of everything that decides the output, for a file name that differs when it does."""
    data = {
        "version": VERSION,
        "mode": request.mode.value,
        "prompt": request.prompt,
        "seed": request.seed,
        "size": [request.width, request.height],
        "fps": [request.fps.numerator, request.fps.denominator],
        "frames": request.frames,
        "settings": settings,
        "brief": asdict(request.brief) if request.brief else None,
        "init": init,
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Prepared:
    """A take ready to be framed: its plan, layout, camera views and the painted set."""

    plan: Any  # _previs_plan.Plan
    layout: Any  # _previs_panel.Layout
    views: list[View]
    canvas: Any  # _previs_paint.Canvas


def prepare(request: RenderRequest, settings: dict[str, Any], face: Any, init: Any) -> Prepared:
    """Plans the shot, lays out the panel and paints the set once (what every frame crops)."""
    from PIL import Image

    from setpiece.generate.backends import _previs_panel as panel
    from setpiece.generate.backends._previs_paint import paint
    from setpiece.generate.backends._previs_plan import plan_prompt, plan_shot

    width, height = request.width, request.height
    _, _, pw, ph = panel.picture_box(settings["caption"], width, height)
    aspect = pw / ph
    if request.brief is not None:
        plan = plan_shot(request.brief, aspect=aspect, seed=request.seed, prompt=request.prompt)
    else:
        plan = plan_prompt(request.prompt, aspect=aspect, seed=request.seed)
    video = request.is_video
    lay = panel.layout(
        settings["caption"],
        width,
        height,
        plan,
        face,
        frames=request.frames,
        fps=request.fps,
        video=video,
    )
    views = camera_path(plan, request.frames if video else 1, request.fps)
    if init is not None:
        views = _inside(views, plan.roll, aspect)
    extent = _extent(views, plan.roll, aspect)
    # One layer pixel per output pixel at the tightest framing; less if that would be huge.
    scale = ph * max(1.0, max(v.zoom for v in views))
    area = (extent[2] - extent[0]) * (extent[3] - extent[1]) * scale * scale
    if area > MAX_LAYER_PIXELS:
        scale *= math.sqrt(MAX_LAYER_PIXELS / area)
    canvas = paint(plan, extent, scale, face, backdrop=init)
    if plan.prompt_only:
        rest = canvas.box(0.0, 0.0, aspect, 1.0)
        left, top = round(rest[0]), round(rest[1])
        card = canvas.image.crop((left, top, round(rest[2]), round(rest[3])))
        panel.prompt_card(card, plan.description, face)
        canvas.image.paste(card, (left, top))
    if plan.roll:
        centre = canvas.p(aspect / 2, 0.5)
        canvas.image = canvas.image.rotate(
            plan.roll, resample=Image.Resampling.BILINEAR, center=centre
        )
    return Prepared(plan, lay, views, canvas)


def _draw(
    request: RenderRequest,
    settings: dict[str, Any],
    face: Any,
    init: Any,
    target: Path,
    progress: Progress | None,
) -> dict[str, Any]:
    """Plans, paints and writes the take to ``target``; returns what was used, for the record."""
    import numpy as np
    from PIL import Image, ImageChops

    from setpiece.generate.backends import _previs_panel as panel
    from setpiece.generate.backends._previs_paint import vignette

    ready = prepare(request, settings, face, init)
    plan, canvas = ready.plan, ready.canvas
    if progress is not None:
        progress(0.1)
    used: dict[str, Any] = dict(plan.used)
    if plan.ignored:
        used["ignored"] = list(plan.ignored)
    if init is not None:
        used["backdrop"] = "init image"
    if not request.is_video:
        _, _, pw, ph = ready.layout.picture
        rest = canvas.box(0.0, 0.0, plan.aspect, 1.0)
        picture = canvas.image.resize(
            (pw, ph), Image.Resampling.LANCZOS, box=_clamp(rest, canvas.image.size)
        )
        if init is None:
            falloff = Image.fromarray(np.round(vignette(pw, ph) * 255.0).astype(np.uint8), "L")
            picture = ImageChops.multiply(picture, falloff.convert("RGB"))
        if settings["annotate"]:
            ends = camera_path(plan, 2, request.fps)
            panel.annotate(picture, plan, ends[0], ends[1], face)
        ready.layout.compose(picture).save(target, format="PNG", compress_level=6)
        return used
    from setpiece.generate.backends._previs_video import to_planes, write_clip

    used["encoder"] = write_clip(
        target,
        to_planes(canvas.image),
        (canvas.ox, canvas.oy),
        canvas.scale,
        ready.views,
        ready.layout,
        request.fps,
        progress,
        0.1,
        None if init is not None else vignette(*ready.layout.picture[2:]),
    )
    return used


def _clamp(
    box: tuple[float, float, float, float], size: tuple[int, int]
) -> tuple[float, float, float, float]:
    return (
        max(0.0, box[0]),
        max(0.0, box[1]),
        min(float(size[0]), box[2]),
        min(float(size[1]), box[3]),
    )


def _inside(views: list[View], roll: float, aspect: float) -> list[View]:
    """The views scaled about the frame's centre until all of them stay inside the init image.

    An init image ends at its edges; a move that would look past them is made smaller
    (a zoom into the picture, the move inside it) rather than showing repeated edge pixels.
    """
    x0, y0, x1, y1 = _extent(views, roll, aspect, pad=0.0)
    cx, cy = aspect / 2, 0.5
    zoom = max(
        1.0,
        (cx - x0) / (aspect / 2),
        (x1 - cx) / (aspect / 2),
        (cy - y0) / 0.5,
        (y1 - cy) / 0.5,
    )
    if zoom <= 1.0:
        return views
    return [
        View(
            cx + (v.x0 - cx) / zoom,
            cy + (v.y0 - cy) / zoom,
            cx + (v.x1 - cx) / zoom,
            cy + (v.y1 - cy) / zoom,
        )
        for v in views
    ]


def _extent(
    views: list[View], roll: float, aspect: float, pad: float = 0.01
) -> tuple[float, float, float, float]:
    """The world region every view needs, rolled both ways when the camera is dutch."""
    xs: list[float] = []
    ys: list[float] = []
    cos, sin = math.cos(math.radians(roll)), math.sin(math.radians(roll))
    cx, cy = aspect / 2, 0.5
    for view in views:
        for x, y in (
            (view.x0, view.y0),
            (view.x1, view.y0),
            (view.x0, view.y1),
            (view.x1, view.y1),
        ):
            for s in (sin, -sin):
                dx, dy = x - cx, y - cy
                xs.append(cx + dx * cos - dy * s)
                ys.append(cy + dx * s + dy * cos)
    return (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
