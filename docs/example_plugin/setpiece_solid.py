"""A worked example of a Setpiece generator plugin: solid-colour stills and clips.

Everything a plugin needs comes from ``setpiece.generate``; this module is the whole
plugin, and ``pyproject.toml`` beside it publishes it through the
``setpiece.generators`` entry point. After ``pip install docs/example_plugin``::

    setpiece generators                      # lists "solid"
    setpiece render 1A --generator solid     # a still of the colour
    setpiece render 1A --generator solid --kind video

and in ``setpiece.toml``::

    [generators.solid]
    colour = "#204060"   # any "#rrggbb"; an unknown key or a bad colour is refused

The seed shifts the colour's brightness a little, so takes differ and one seed always
makes the same take. It draws, it does not learn: its origin is ``ALGORITHM``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

from setpiece.generate import (
    Capabilities,
    Generator,
    GeneratorSettings,
    Mode,
    Origin,
    Progress,
    RenderError,
    RenderRequest,
    RenderResult,
    setting,
)

__all__ = ["SolidGenerator", "SolidSettings"]

_HEX = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class SolidSettings(GeneratorSettings):
    """``[generators.solid]``: the colour (the queue's concurrency and batch_size come with)."""

    colour: str = setting("#336699", help='the colour, "#rrggbb"')

    def __post_init__(self) -> None:
        if not _HEX.fullmatch(self.colour):
            raise ValueError(f'colour: expected "#rrggbb", got "{self.colour}"')


class SolidGenerator(Generator):
    """Stills (PNG) and clips (MP4) of one colour, the size and length asked for."""

    name: ClassVar[str] = "solid"
    origin: ClassVar[Origin] = Origin.ALGORITHM
    requires: ClassVar[tuple[str, ...]] = ("PIL", "av")
    install_hint: ClassVar[str | None] = "pip install pillow av"
    Settings: ClassVar[type[GeneratorSettings]] = SolidSettings
    settings: SolidSettings
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        modes=frozenset({Mode.TEXT_TO_IMAGE, Mode.TEXT_TO_VIDEO}),
        seeds=True,
        max_width=1920,
        max_height=1080,
        max_frames=1440,
        max_seconds=60.0,
        photographic_faces=False,
        flicker_free=True,
    )

    def check(self, request: RenderRequest) -> None:
        """The base checks, then this backend's own: clips need even sizes (4:2:0 video)."""
        super().check(request)
        if request.is_video and (request.width % 2 or request.height % 2):
            from setpiece.errors import InvalidInputError

            raise InvalidInputError(
                f"solid clips need an even width and height, not {request.width}x{request.height}"
            )

    def colour(self, seed: int) -> tuple[int, int, int]:
        """The settings' colour, a little lighter or darker by seed."""
        value = self.settings.colour
        shift = seed % 17 - 8
        return tuple(  # type: ignore[return-value]
            max(0, min(255, int(value[i : i + 2], 16) + shift)) for i in (1, 3, 5)
        )

    def render(
        self, request: RenderRequest, workdir: Path, progress: Progress | None = None
    ) -> RenderResult:
        """Makes one still or clip into ``workdir``.

        Raises:
            RenderError: The request is beyond the capabilities, or the file cannot be written.
        """
        from setpiece.errors import InvalidInputError

        try:
            self.check(request)
        except InvalidInputError as exc:
            raise RenderError(str(exc)) from exc
        from PIL import Image

        rgb = self.colour(request.seed)
        frame = Image.new("RGB", (request.width, request.height), rgb)
        workdir.mkdir(parents=True, exist_ok=True)
        stem = f"solid-{self.settings.colour[1:]}-s{request.seed}"
        try:
            if request.is_video:
                path = workdir / f"{stem}.mp4"
                _write_clip(path, frame, request.frames, request.fps, progress)
            else:
                path = workdir / f"{stem}.png"
                frame.save(path, "PNG")
        except OSError as exc:
            raise RenderError(f"cannot write into {workdir}: {exc}", transient=True) from exc
        return RenderResult(
            path,
            model=None,
            model_hash=None,
            parameters={"colour": "#{:02x}{:02x}{:02x}".format(*rgb)},
        )


def _write_clip(
    path: Path, frame: object, frames: int, fps: Fraction, progress: Progress | None
) -> None:
    import av

    partial = path.with_suffix(".part.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = frame.size  # type: ignore[attr-defined]
        stream.pix_fmt = "yuv420p"
        picture = av.VideoFrame.from_image(frame)
        for index in range(frames):
            for packet in stream.encode(picture):
                container.mux(packet)
            if progress:
                progress((index + 1) / frames)
        for packet in stream.encode():
            container.mux(packet)
    partial.replace(path)
