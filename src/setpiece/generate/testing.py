"""The generator conformance suite: what every backend must do, checked on a real render.

A plugin author runs it over their generator in their own tests; Setpiece's test suite
runs it over every registered generator (the four built-ins and the example plugin in
``docs/example_plugin``). Each check raises :class:`ConformanceError` (an
``AssertionError``, so pytest shows it as a failed assertion) saying what is wrong::

    from setpiece.generate.testing import check_generator

    def test_my_generator_conforms(tmp_path):
        check_generator(MyGenerator, tmp_path, settings={"colour": "#112233"})

What is checked:

- **declaration** (:func:`check_declaration`): ``name`` is a lower-case word,
  ``origin`` an ``Origin``, ``default_capabilities`` a ``Capabilities`` with at least
  one mode and positive limits;
- **settings** (:func:`check_settings`): ``Settings`` is a frozen dataclass extending
  ``GeneratorSettings``, every key has a default, and an unknown key is refused with
  the key and the section named;
- **refusals** (:func:`check_refusals`): ``check`` refuses, with an
  ``InvalidInputError``, a mode it does not declare, a size, frame count, length or
  reference images beyond its capabilities (the queue relies on it to refuse before
  queuing);
- **renders** (:func:`check_render`): for each request, ``render`` returns a
  ``RenderResult`` whose file exists inside the work folder, is a still for a still
  request and a clip for a video one, at the requested size;
- **close** (:func:`check_close`): safe to call twice.

Requests come from :func:`requests_for` (one per declared mode that needs no init image)
unless given.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from setpiece.errors import InvalidInputError
from setpiece.generate.base import (
    Capabilities,
    Generator,
    GeneratorSettings,
    Mode,
    RenderRequest,
    RenderResult,
)
from setpiece.model.enums import Origin

__all__ = [
    "ConformanceError",
    "check_close",
    "check_declaration",
    "check_generator",
    "check_refusals",
    "check_render",
    "check_settings",
    "requests_for",
]

_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_VIDEO = (Mode.TEXT_TO_VIDEO, Mode.IMAGE_TO_VIDEO)


class ConformanceError(AssertionError):
    """A generator does not keep the contract; the message says which part and how."""


def _fail(cls: type[Generator] | Generator, what: str) -> ConformanceError:
    name = getattr(cls, "name", None) or getattr(cls, "__name__", type(cls).__name__)
    return ConformanceError(f"generator {name}: {what}")


def check_declaration(cls: type[Generator]) -> None:
    """``name``, ``origin`` and ``default_capabilities`` are declared and valid.

    Raises:
        ConformanceError: One of them is missing or not of its kind.
    """
    if not (isinstance(cls, type) and issubclass(cls, Generator)):
        raise ConformanceError(f"{cls!r} is not a setpiece Generator subclass")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _fail(cls, f"name must be a lower-case word such as 'solid', not {name!r}")
    if not isinstance(cls.origin, Origin):
        raise _fail(cls, f"origin must be an Origin ({', '.join(o.value for o in Origin)})")
    caps = getattr(cls, "default_capabilities", None)
    if not isinstance(caps, Capabilities):
        raise _fail(cls, "default_capabilities must be a Capabilities")
    _check_capabilities(cls, caps)


def _check_capabilities(cls: type[Generator] | Generator, caps: Capabilities) -> None:
    if not caps.modes or not all(isinstance(m, Mode) for m in caps.modes):
        raise _fail(cls, "its capabilities must declare at least one Mode")
    if caps.max_width < 1 or caps.max_height < 1:
        raise _fail(cls, "max_width and max_height must be positive")
    if caps.max_frames is not None and caps.max_frames < 1:
        raise _fail(cls, "max_frames must be positive or None")
    if caps.max_seconds is not None and not caps.max_seconds > 0:
        raise _fail(cls, "max_seconds must be positive or None")


def check_settings(cls: type[Generator]) -> GeneratorSettings:
    """``Settings`` is a frozen dataclass extending ``GeneratorSettings``, with defaults,
    refusing unknown keys.

    Returns:
        The settings read from an empty table (all defaults).

    Raises:
        ConformanceError: It is not, or an unknown key is not refused with its name.
    """
    settings = cls.Settings
    if not (
        isinstance(settings, type)
        and dataclasses.is_dataclass(settings)
        and issubclass(settings, GeneratorSettings)
    ):
        raise _fail(cls, "Settings must be a dataclass extending GeneratorSettings")
    if not settings.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise _fail(cls, "Settings must be frozen: @dataclass(frozen=True)")
    try:
        defaults = cls.load_settings({})
    except InvalidInputError as exc:
        raise _fail(cls, f"an empty [generators.{cls.name}] table must load: {exc}") from exc
    key = "no_such_key_for_conformance"
    try:
        cls.load_settings({key: 1})
    except InvalidInputError as exc:
        if key not in str(exc) or f"generators.{cls.name}" not in str(exc):
            raise _fail(cls, f"the refusal of an unknown key must name it: {exc}") from exc
    else:
        raise _fail(cls, "Settings accepted an unknown key")
    return defaults


def requests_for(
    generator: Generator,
    *,
    width: int = 64,
    height: int = 48,
    frames: int = 4,
    fps: Fraction = Fraction(8),
    seed: int = 7,
) -> list[RenderRequest]:
    """One request per declared mode that needs no init image (text-to-image and -video)."""
    modes = generator.capabilities().modes
    return [
        RenderRequest(
            mode=mode,
            prompt="a lighthouse at dusk",
            seed=seed,
            width=width,
            height=height,
            fps=fps,
            frames=frames if mode in _VIDEO else 1,
        )
        for mode in (Mode.TEXT_TO_IMAGE, Mode.TEXT_TO_VIDEO)
        if mode in modes
    ]


def check_refusals(generator: Generator, request: RenderRequest) -> None:
    """``check`` refuses each way of going beyond the capabilities of ``request``'s variants.

    Args:
        generator: The generator.
        request: A request it accepts; each refusal changes one thing in it.

    Raises:
        ConformanceError: ``check`` refused the request itself, or let one beyond its
            capabilities through, or refused it with something other than InvalidInputError.
    """
    caps = generator.capabilities()
    _check_capabilities(generator, caps)
    try:
        generator.check(request)
    except InvalidInputError as exc:
        raise _fail(generator, f"check refused a request within its capabilities: {exc}") from exc
    beyond: list[tuple[str, RenderRequest]] = [
        ("a width beyond max_width", dataclasses.replace(request, width=caps.max_width + 1)),
        ("a height beyond max_height", dataclasses.replace(request, height=caps.max_height + 1)),
    ]
    undeclared = [m for m in Mode if m not in caps.modes]
    if undeclared:
        beyond.append(
            ("a mode it does not declare", dataclasses.replace(request, mode=undeclared[0]))
        )
    if not caps.reference_images:
        beyond.append(
            ("reference images", dataclasses.replace(request, references=(Path("ref.png"),)))
        )
    video = next((m for m in _VIDEO if m in caps.modes), None)
    if video is not None:
        clip = dataclasses.replace(request, mode=video, init_image=None)
        if video is Mode.IMAGE_TO_VIDEO:
            clip = dataclasses.replace(clip, init_image=Path("init.png"))
        if caps.max_frames is not None:
            beyond.append(
                ("frames beyond max_frames", dataclasses.replace(clip, frames=caps.max_frames + 1))
            )
        if caps.max_seconds is not None:
            over = int(caps.max_seconds * clip.fps) + 1
            beyond.append(("seconds beyond max_seconds", dataclasses.replace(clip, frames=over)))
    for what, bad in beyond:
        try:
            generator.check(bad)
        except InvalidInputError:
            continue
        except Exception as exc:
            raise _fail(
                generator,
                f"check must refuse {what} with InvalidInputError, not {type(exc).__name__}",
            ) from exc
        raise _fail(generator, f"check let through a request with {what}")


def check_render(
    generator: Generator,
    request: RenderRequest,
    workdir: Path,
    *,
    size: tuple[int, int] | None = None,
) -> RenderResult:
    """Renders ``request`` and checks the result: a file in ``workdir`` of the right kind and size.

    Args:
        generator: The generator.
        request: What to render.
        workdir: The work folder given to ``render``.
        size: The size the result must have (default: the request's).

    Raises:
        ConformanceError: No RenderResult, no file, a file outside the work folder, not
            media, a still for a clip (or the reverse), or another size.
    """
    from setpiece.store.probe import probe

    result = generator.render(request, workdir)
    if not isinstance(result, RenderResult):
        raise _fail(generator, f"render must return a RenderResult, not {type(result).__name__}")
    path = Path(result.path)
    if not path.is_file() or path.stat().st_size == 0:
        raise _fail(generator, f"render returned {path}, which is not a file with content")
    if Path(workdir).resolve() not in path.resolve().parents:
        raise _fail(generator, f"render must write inside its work folder, not at {path}")
    try:
        info = probe(path)
    except InvalidInputError as exc:
        raise _fail(generator, f"its {request.mode.value} result is not media: {exc}") from exc
    kind = "video" if request.is_video else "image"
    if info.kind != kind or (request.is_video and request.frames > 1 and info.frames < 2):
        raise _fail(
            generator,
            f"a {request.mode.value} request made {info.kind} with {info.frames} frame(s)",
        )
    expected = size or (request.width, request.height)
    if (info.width, info.height) != expected:
        raise _fail(
            generator,
            f"a {request.mode.value} request for {expected[0]}x{expected[1]} "
            f"made {info.width}x{info.height}",
        )
    if not isinstance(result.parameters, Mapping):
        raise _fail(generator, "RenderResult.parameters must be a mapping (recorded on the take)")
    return result


def check_close(generator: Generator) -> None:
    """``close`` may be called twice (the queue's pool and a shutdown may both close it).

    Raises:
        ConformanceError: The second call raised.
    """
    generator.close()
    try:
        generator.close()
    except Exception as exc:
        raise _fail(generator, f"close() twice raised {type(exc).__name__}: {exc}") from exc


def check_generator(
    cls: type[Generator],
    workdir: Path,
    *,
    settings: Mapping[str, Any] | None = None,
    project_dir: Path | None = None,
    requests: Iterable[RenderRequest] | None = None,
    size: Callable[[RenderRequest], tuple[int, int]] | None = None,
) -> list[RenderResult]:
    """The whole suite over one generator class: declaration, settings, refusals, renders, close.

    Args:
        cls: The generator class.
        workdir: A folder for the renders (one sub-folder per request).
        settings: Its ``[generators.NAME]`` table for the renders.
        project_dir: The project folder it is made with.
        requests: What to render (default: :func:`requests_for`).
        size: The size each result must have (default: the request's).

    Returns:
        The results, in request order.

    Raises:
        ConformanceError: The first part of the contract it does not keep.
    """
    check_declaration(cls)
    check_settings(cls)
    generator = cls(settings, project_dir=project_dir)
    try:
        chosen = list(requests) if requests is not None else requests_for(generator)
        if not chosen:
            raise _fail(cls, "no request to render: give requests for its modes")
        results = []
        for index, request in enumerate(chosen):
            check_refusals(generator, request)
            folder = Path(workdir) / f"{index}-{request.mode.value}"
            results.append(
                check_render(generator, request, folder, size=size(request) if size else None)
            )
    finally:
        check_close(generator)
    return results
