"""The generator interface: what every backend (previs, diffusers, ComfyUI, Runway...) implements.

A backend is a ``Generator`` subclass with a ``name``, its ``capabilities`` as
data, its ``Settings`` as a frozen dataclass (the keys of its ``[generators.NAME]``
table, read by :func:`setpiece.config.load_section`, unknown keys refused), and one
call, ``render``, that turns a ``RenderRequest`` into a media file in a folder the
caller owns. ``check`` refuses a request beyond the capabilities (mode, size, frames,
seconds, references) before it is queued. The render queue stores that file in the media
store and records the take; a backend never touches the database or the store,
so it can run in another process or on another machine (Ray).

Errors a backend raises are ``RenderError``s: ``transient=True`` for what a
retry may cure (HTTP 429 and 5xx, time-outs, CUDA out of memory, a server not
up yet), ``False`` for what it will not (a failed task, a bad workflow, a
capability the backend lacks). Anything else escaping ``render`` is treated as
permanent and reported with its type. A server or service that cannot be reached at all
(connection refused, no route, the connection dropped mid-prompt) is a third case,
``GeneratorUnavailable``: the queue pauses that generator's jobs and keeps trying, without
spending their attempts, for ``[render] outage_minutes``, and only then fails them. A
rejected key is no outage: it is a permanent ``RenderError``.

Whether a backend is ready to use is asked without spending anything:
``missing_settings`` (what ``setpiece.toml`` or the environment must still give it) and
``reachable`` (a ping of its server, a key validated without starting a task).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, is_dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

from setpiece.config import load_section, setting
from setpiece.errors import InvalidInputError, SetpieceError
from setpiece.model.enums import Origin

__all__ = [
    "Capabilities",
    "Cost",
    "Generator",
    "GeneratorSettings",
    "GeneratorUnavailable",
    "Mode",
    "Origin",
    "Progress",
    "RenderError",
    "RenderRequest",
    "RenderResult",
    "ShotBrief",
    "SubjectBrief",
    "WorkflowChoice",
]


class Mode(StrEnum):
    """What a render makes, from what."""

    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_TO_IMAGE = "image-to-image"
    TEXT_TO_VIDEO = "text-to-video"
    IMAGE_TO_VIDEO = "image-to-video"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, as data the queue and later checks read.

    ``Generator.check`` enforces every limit here before a request is queued: ``modes``,
    ``max_width`` and ``max_height``, ``max_frames`` and ``max_seconds`` (videos: frames
    and frames / fps), ``reference_images``. ``seeds`` says whether the same seed makes
    the same take again; the queue refuses a pinned ``--seed`` for a backend without.
    """

    modes: frozenset[Mode]
    reference_images: bool = False
    seeds: bool = True
    max_width: int = 4096
    max_height: int = 4096
    max_frames: int | None = None  # None: no video, or no fixed limit for stills
    max_seconds: float | None = None
    photographic_faces: bool = True  # False for previs silhouettes: identity checks do not apply
    # True for renderers that draw every frame exactly (previs): temporal checks do not apply.
    flicker_free: bool = False

    # Not jsonable's shape: ``modes`` is a set, written as a sorted list.
    def to_json(self) -> dict[str, Any]:
        return {
            "modes": sorted(m.value for m in self.modes),
            "reference_images": self.reference_images,
            "seeds": self.seeds,
            "max_width": self.max_width,
            "max_height": self.max_height,
            "max_frames": self.max_frames,
            "max_seconds": self.max_seconds,
            "photographic_faces": self.photographic_faces,
            "flicker_free": self.flicker_free,
        }


@dataclass(frozen=True)
class GeneratorSettings:
    """The keys every ``[generators.NAME]`` table has: the render queue's, per backend.

    A backend's ``Settings`` extends it with its own keys (a frozen dataclass; a default
    for each; ``setting(...)`` for ranges and choices; a ``ValueError`` from
    ``__post_init__`` for rules across keys) and may change these defaults.
    """

    concurrency: int = setting(1, low=1, help="takes this backend renders at once")
    batch_size: int = setting(1, low=1, help="takes of one shot that differ only in seed, per call")


@dataclass(frozen=True)
class SubjectBrief:
    """A character or prop in frame, with what the bible says of it."""

    name: str
    kind: str  # character | prop
    description: str = ""
    side: str | None = None  # left | centre | right
    depth: str | None = None  # foreground | midground | background
    color: tuple[int, int, int] | None = None  # a stable colour for previs, from the bible entry


@dataclass(frozen=True)
class ShotBrief:
    """The shot as the set knows it: what previs draws and prompt templates may use."""

    code: str
    scene: str
    heading: str
    description: str = ""
    size: str | None = None
    angle: str | None = None
    lens_mm: float | None = None
    camera_move: str | None = None
    int_ext: str | None = None
    location: str | None = None
    time_of_day: str | None = None
    style: str | None = None
    subjects: tuple[SubjectBrief, ...] = ()
    location_description: str = ""  # the location's bible description (previs picks its set)


@dataclass(frozen=True)
class RenderRequest:
    """One take to make. Everything a backend needs, and nothing it must look up.

    Args:
        mode: What to make; the backend must declare it in its capabilities.
        prompt: The composed prompt (bible, shot, style, overrides applied).
        seed: Always set; recorded on the take.
        width, height: Output size in pixels.
        fps: Output frame rate (videos).
        frames: Number of frames; 1 for stills.
        init_image: First frame for image-to-video, source for image-to-image.
        references: Reference images (characters, locations) for backends that take them.
        model: Model name or folder, from configuration.
        parameters: Backend-specific settings (steps, guidance, workflow...), recorded on the take.
        brief: The shot itself, for backends that draw from structure (previs).
        idempotency_key: The same on every attempt at this take; a backend that can look up an
            earlier run (ComfyUI's client-chosen prompt_id) uses it so a retry never renders twice.
    """

    mode: Mode
    prompt: str
    seed: int
    width: int
    height: int
    fps: Fraction = Fraction(24)
    frames: int = 1
    negative_prompt: str | None = None
    init_image: Path | None = None
    references: tuple[Path, ...] = ()
    model: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    brief: ShotBrief | None = None
    idempotency_key: str | None = None

    @property
    def is_video(self) -> bool:
        return self.mode in (Mode.TEXT_TO_VIDEO, Mode.IMAGE_TO_VIDEO)


@dataclass(frozen=True)
class Cost:
    """What a take cost, or a quote of what it will, in its backend's own unit.

    Units are never converted into each other (a credit is not a GPU-second): ``"credits"``
    (Runway), ``"compute_seconds"`` or ``"gpu_seconds"`` (diffusers, ComfyUI), ``"usd"`` (an
    aggregator that bills in dollars), and zero of any unit for previs.
    """

    amount: Decimal
    unit: str


@dataclass(frozen=True)
class RenderResult:
    """A finished render: a complete file inside the work folder the caller gave."""

    path: Path
    model: str | None = None
    model_hash: str | None = None
    parameters: dict[str, Any] = field(
        default_factory=dict
    )  # as actually used, recorded on the take
    # The exact graph sent (a ComfyUI API-format JSON file in the work folder): the queue
    # stores it content-addressed with the take, so the take can be made again from it.
    workflow: Path | None = None
    # What this take cost, as the backend measured or was billed (None: it cannot say).
    cost: Cost | None = None


@dataclass(frozen=True)
class WorkflowChoice:
    """Which workflow a take would be sent with (``Generator.workflow_for``), for a dry run.

    Attributes:
        source: The template's file as resolved, "the inline table ..." for one given in
            configuration or parameters, or "the exact graph kept with take 1B/1" for a replay.
        chosen_by: What chose it: "the shot", "render --workflow", "workflows.image.refs1"...
        sha256: The graph's hash (canonical JSON), the recipe's ``workflow_sha256``.
    """

    source: str
    chosen_by: str
    sha256: str


class RenderError(SetpieceError):
    """A render failed. ``transient`` errors are retried with back-off; others fail the take."""

    code = "render_failed"

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class GeneratorUnavailable(RenderError):
    """The generator's server or service cannot be reached: an outage, not a failed take.

    The queue pauses the generator's jobs and tries again with back-off, without spending
    their attempts, for ``[render] outage_minutes``; only then does it fail them with this
    message. ``waiting_for`` names what it waits for ("ComfyUI at http://gpu1:8188").
    """

    code = "generator_unavailable"

    def __init__(self, message: str, *, waiting_for: str | None = None) -> None:
        super().__init__(message, transient=True)
        self.waiting_for = waiting_for


Progress = Callable[[float], None]  # fraction done, 0..1


class Generator(ABC):
    """A backend that makes takes. Subclasses set ``name`` and ``default_capabilities`` and
    implement ``render``.

    Optional: ``Settings`` (a frozen dataclass extending ``GeneratorSettings``: the keys
    of ``[generators.NAME]``), ``requires`` (modules that must import, checked without
    importing them), ``install_hint``, ``capabilities`` (override when they depend on the
    configured model), ``check`` (call ``super().check`` first), ``render_batch``, ``close``.

    A generator is made with its table (or its ``Settings`` already read) and the project
    folder, ``project_dir``, that relative paths in the settings are read against; both
    are optional, so ``Generator()`` is one with default settings.

    ``origin`` says what the backend is, and so what its takes are in the C2PA manifest
    and the AI-use disclosure: ``Origin.TRAINED`` (a trained model: diffusion, hosted video
    models), ``Origin.ALGORITHM`` (a procedure that draws, no model: previs) or
    ``Origin.CAPTURED`` (a camera). It is recorded on every take the backend renders. A
    backend that does not declare it, a third party's from an entry point included, is
    ``TRAINED``: an undeclared generator's pictures are disclosed as AI-generated, never less.
    """

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    install_hint: ClassVar[str | None] = None
    default_capabilities: ClassVar[Capabilities]
    origin: ClassVar[Origin] = Origin.TRAINED
    Settings: ClassVar[type[GeneratorSettings]] = GeneratorSettings
    # True where a take's ``parameters["workflow"]`` (``render --workflow``, a shot's
    # workflow) chooses what runs: ComfyUI's graphs.
    takes_workflows: ClassVar[bool] = False

    def __init__(
        self,
        settings: GeneratorSettings | Mapping[str, Any] | None = None,
        *,
        project_dir: Path | None = None,
    ) -> None:
        """Args:
        settings: The ``[generators.NAME]`` table, or its ``Settings`` already read.
        project_dir: The project folder; relative paths in the settings start there.

        Raises:
            InvalidInputError: The table has an unknown key or a bad value (exit 2).
        """
        if settings is None or isinstance(settings, Mapping):
            settings = self.load_settings(settings)
        elif not isinstance(settings, self.Settings):
            raise InvalidInputError(
                f"generator {self.name} takes {self.Settings.__name__}, "
                f"not {type(settings).__name__}"
            )
        self.settings = settings
        self.project_dir = project_dir

    @classmethod
    def load_settings(cls, table: Mapping[str, Any] | None) -> GeneratorSettings:
        """Reads ``[generators.NAME]`` into ``Settings`` with the one configuration loader.

        Raises:
            InvalidInputError: Not a frozen dataclass extending ``GeneratorSettings``
                (the plugin's fault, named), an unknown key, a value of the wrong type or
                refused by the class: ``setpiece.toml [generators.NAME] key: ...``.
        """
        settings_class = cls.Settings
        if not (
            isinstance(settings_class, type)
            and is_dataclass(settings_class)
            and issubclass(settings_class, GeneratorSettings)
        ):
            raise InvalidInputError(
                f"generator {cls.name}: its Settings must be a dataclass extending "
                "GeneratorSettings"
            )
        try:
            return load_section(settings_class, table, section=f"generators.{cls.name}")
        except NameError as exc:  # an annotation the plugin's module cannot resolve
            raise InvalidInputError(
                f"generator {cls.name}: its Settings cannot be read ({exc})"
            ) from None

    @classmethod
    def missing(cls) -> list[str]:
        """Modules this backend needs that are not installed (found without importing them)."""
        from importlib.util import find_spec

        return [module for module in cls.requires if find_spec(module) is None]

    @classmethod
    def missing_settings(cls, settings: GeneratorSettings) -> list[str]:
        """What must still be set before this backend can render: setpiece.toml keys as
        ``[generators.NAME] key``, environment variables by name. Empty: configured.

        Backends whose defaults cannot work (a hosted service without a key, a server
        with no address of its own) override this; it must not touch the network.
        """
        return []

    def reachable(self) -> bool | None:
        """Whether the backend's server answers and accepts its key, asked without spending
        anything (no task started, nothing uploaded); None when it has no server.

        Raises:
            RenderError: Why it cannot be reached or refuses the key (the message says).
        """
        return None

    def capabilities(self) -> Capabilities:
        return self.default_capabilities

    def check(self, request: RenderRequest) -> None:
        """Refuses a request beyond this backend's capabilities, before anything is sent.

        Raises:
            InvalidInputError: The mode, size, length or references are not supported.
        """
        caps = self.capabilities()
        if request.mode not in caps.modes:
            modes = ", ".join(sorted(m.value for m in caps.modes))
            raise InvalidInputError(
                f"generator {self.name} cannot do {request.mode.value}: it does {modes}"
            )
        if request.width > caps.max_width or request.height > caps.max_height:
            raise InvalidInputError(
                f"generator {self.name} makes at most {caps.max_width}x{caps.max_height}, "
                f"not {request.width}x{request.height}"
            )
        if request.is_video and caps.max_frames is not None and request.frames > caps.max_frames:
            raise InvalidInputError(
                f"generator {self.name} makes at most {caps.max_frames} frames, "
                f"not {request.frames}"
            )
        if request.is_video and caps.max_seconds is not None:
            seconds = Fraction(request.frames) / Fraction(request.fps)
            if seconds > Fraction(caps.max_seconds):
                raise InvalidInputError(
                    f"generator {self.name} makes clips of at most {caps.max_seconds:g} s, "
                    f"not {float(seconds):.4g} s ({request.frames} frames at "
                    f"{float(request.fps):g} fps): shorten the shot or use another generator"
                )
        if request.references and not caps.reference_images:
            raise InvalidInputError(f"generator {self.name} takes no reference images")

    def quote(self, request: RenderRequest) -> Cost | None:
        """What ``request`` will cost, in this backend's own unit, before anything is spent.

        Called by ``render --dry-run``, the ``[render] confirm_over`` prompt and the budget
        check at enqueue, once per take, after ``check``; it must not touch the network or
        spend anything. A hosted backend prices the request from its rate table
        (:func:`setpiece.generate.rates.read_rates`); previs returns a zero ``Cost``.

        Returns:
            The estimate, or None for "cannot quote" (the default): a backend billed by
            measured compute time (diffusers, ComfyUI) cannot know it in advance; the cost
            service then estimates from this generator's earlier takes in the project (mean
            cost per second of output) or says it has no quote.

        Raises:
            InvalidInputError: The model has no rate (named), so no price is invented.
        """
        return None

    def billing_units(self) -> tuple[str, ...]:
        """The units a take this backend cannot quote may cost in (``Cost.unit``); none by
        default. A take with no quote and no estimate still weighs on a ``[budget]`` limit
        in one of them: once spent and queued reach it, the render is refused
        (``production.cost.check_budget``), since the take's cost is unknown but not zero.
        """
        return ()

    def workflow_for(self, request: RenderRequest) -> WorkflowChoice | None:
        """The workflow ``request`` would be sent with, after ``check``: None for a backend
        that runs no workflows (the default). Reads files only; sends nothing.

        Raises:
            InvalidInputError: The workflow cannot be read.
        """
        return None

    @abstractmethod
    def render(
        self, request: RenderRequest, workdir: Path, progress: Progress | None = None
    ) -> RenderResult:
        """Makes one take into ``workdir`` and returns where the finished file is.

        Raises:
            RenderError: The render failed (``transient`` says whether to retry).
        """

    def render_batch(
        self, requests: Sequence[RenderRequest], workdir: Path, progress: Progress | None = None
    ) -> list[RenderResult]:
        """Makes several takes at once, results in request order, each file distinct.

        Backends that gain from batching (diffusers: takes of one shot share a prompt) override
        this; the default renders one by one. The queue batches only requests that differ in
        seed alone.
        """
        results = []
        for index, request in enumerate(requests):
            results.append(self.render(request, workdir, None))
            if progress:
                progress((index + 1) / len(requests))
        return results

    def close(self) -> None:  # noqa: B027 - optional hook: most backends hold nothing
        """Releases what the backend holds (a loaded model, a connection)."""
