"""Runway: stills and shots from Runway's hosted models, through the official ``runwayml`` SDK.

Runway renders on its own servers: a render here creates a task, polls it, and
downloads its output at once (output URLs expire within a day or two). Three
modes: text-to-image with tagged reference images (character consistency: a
reference tagged ``anna`` is named ``@anna`` in the prompt), image-to-video
(the init image goes up through an ephemeral upload) and text-to-video.

Configuration (``[generators.runway]``, read into ``RunwaySettings``; unknown keys are
refused); every key is optional:

    image_model           "gen4_image"   text-to-image model
    video_model           "gen4_turbo"   image-to-video model
    text_video_model      "gen4.5"       text-to-video model
    image_ratios          gen4_image's 16 sizes    the requested width x height maps to the
    video_ratios          gen4_turbo's 6 sizes     nearest of these (aspect first, then area)
    text_video_ratios     1280:720, 720:1280
    video_durations       2..10          whole seconds the video models accept: frames/fps
    text_video_durations  2..10          is rounded to the nearest one, and both are recorded
    max_references        3              reference images per still
    poll_interval_s       2              between two ``GET /v1/tasks/{id}``
    timeout_s             600            whole render; past it the task is cancelled
    request_timeout_s     60             one HTTP request
    poll_error_limit      5              transient errors in a row tolerated while polling
                                         (Runway unreachable is polled through until timeout_s:
                                         its task runs on there, paid for)
    base_url              None           the SDK's (RUNWAYML_BASE_URL, else Runway's)
    transient_failure_codes  INTERNAL, INPUT_PREPROCESSING.INTERNAL
    concurrency           2              takes rendered at once (the render queue's)
    rates                 DEFAULT_RATES  credits per second of video (per image for stills)
                                         by model: ``[generators.runway.rates]``, over the
                                         dated defaults below; a model with none is refused

Decisions:

- The SDK never retries (``max_retries=0``): the render queue owns retrying, so
  a take is not retried twice over. Polling is the exception: a 429 or 5xx on
  ``GET /v1/tasks/{id}`` is retried here (``poll_error_limit``), since giving up
  would throw away a task Runway is still rendering and charging for.
- Polling is done here, not with the SDK's ``wait_for_task_output``, which
  sleeps about 6 s between polls and cannot report progress.
- A render that ends before its task does (time-out, error, interrupt) cancels
  the task with ``DELETE /v1/tasks/{id}``, so no credits go to an orphan.
- Failed tasks are permanent except for the ``failureCode`` values listed in
  ``transient_failure_codes`` (an entry ending in ``.*`` is a prefix). Runway's
  task-failure guide (docs.dev.runwayml.com/errors/task-failures; the SDK lists
  no codes) says ``SAFETY.*`` and ``INPUT_PREPROCESSING.SAFETY.*`` must not be
  retried, and that ``INTERNAL.BAD_OUTPUT.*`` may be retried but is unlikely to
  succeed (permanent here: each retry costs credits). ``INPUT_PREPROCESSING.INTERNAL``
  (moderation itself failed) and ``INTERNAL`` are trouble on Runway's side that a
  retry may cure; anything else (``ASSET.INVALID``...) needs other input.
- Cost is in credits: the model's rate times the whole seconds billed (the duration sent,
  not the seconds asked for), or times one image for a still; ``quote`` and the take's
  recorded cost use the same rule. Runway's task answer carries no cost, so the take's
  cost is this computed amount. Defaults (``DEFAULT_RATES``) are only those written with
  their date and source; ``gen4_image`` and ``gen4.5`` have none written there, so they need
  a rate in ``[generators.runway.rates]`` before they render.
- The API secret comes from ``RUNWAYML_API_SECRET`` at render time. It is never
  recorded, logged or put in a message, and is scrubbed from any server text
  that is quoted; a pickled generator carries no client and no secret.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from setpiece.config import setting
from setpiece.errors import InvalidInputError
from setpiece.generate.backends._hosted import package_version, poll, scrub
from setpiece.generate.base import (
    Capabilities,
    Cost,
    Generator,
    GeneratorSettings,
    GeneratorUnavailable,
    Mode,
    Origin,
    Progress,
    RenderError,
    RenderRequest,
    RenderResult,
)
from setpiece.generate.rates import RateDefaults, RateTable, read_rates

if TYPE_CHECKING:
    import httpx
    from runwayml import RunwayML

__all__ = [
    "DEFAULT_RATES",
    "RunwayGenerator",
    "RunwaySettings",
    "derive_tag",
    "nearest_duration",
    "nearest_ratio",
    "tag_prompt",
]

log = logging.getLogger(__name__)

SECRET_ENV = "RUNWAYML_API_SECRET"
MAX_SEED = 4_294_967_295  # Runway's seeds are unsigned 32-bit integers
# Ephemeral uploads take 512 bytes to 200 MB (docs.dev.runwayml.com/assets/uploads).
UPLOAD_MIN_BYTES = 512
UPLOAD_MAX_BYTES = 200 * 1024 * 1024
_TAG_RULE = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,15}")  # Runway: 3-16 characters, a letter first
_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".mp4", ".mov"}

GEN4_IMAGE_RATIOS = (
    "1920:1080", "1080:1920", "1024:1024", "1360:768", "1080:1080", "1168:880",
    "1440:1080", "1080:1440", "1808:768", "2112:912", "1280:720", "720:1280",
    "720:720", "960:720", "720:960", "1680:720",
)  # fmt: skip

_VIDEO_RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
_DURATIONS = tuple(range(2, 11))

# Credits per second of video output. Source: /work/shared/notes/runway-api.md "Prices",
# figures reported in 2025 by secondary sources (one API credit sold at 0.01 USD). No
# rate is written there for gen4_image or gen4.5: they have no default.
DEFAULT_RATES = RateDefaults(
    rates={
        "gen4": Decimal(12),
        "gen4_turbo": Decimal(5),
        "gen4_aleph": Decimal(15),
        "act_two": Decimal(5),
    },
    as_of="2025",
    source="Runway API prices as reported in 2025 by secondary sources (shared notes)",
)


@dataclass(frozen=True)
class RunwaySettings(GeneratorSettings):
    """``[generators.runway]``, checked once (the module docstring lists the keys)."""

    concurrency: int = setting(2, low=1, help="takes rendered at once (Runway's own queue)")
    image_model: str = "gen4_image"
    video_model: str = "gen4_turbo"
    text_video_model: str = "gen4.5"
    image_ratios: tuple[str, ...] = GEN4_IMAGE_RATIOS
    video_ratios: tuple[str, ...] = _VIDEO_RATIOS
    text_video_ratios: tuple[str, ...] = ("1280:720", "720:1280")
    video_durations: tuple[int, ...] = _DURATIONS
    text_video_durations: tuple[int, ...] = _DURATIONS
    max_references: int = setting(3, low=1)
    poll_interval_s: float = setting(2.0, positive=True)
    timeout_s: float = setting(600.0, positive=True)
    request_timeout_s: float = setting(60.0, positive=True)
    poll_error_limit: int = setting(5, low=0)
    base_url: str | None = None
    transient_failure_codes: tuple[str, ...] = ("INTERNAL", "INPUT_PREPROCESSING.INTERNAL")
    rates: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rate_table()  # a negative or non-numeric rate is refused when read
        for key in ("image_model", "video_model", "text_video_model"):
            _text(key, getattr(self, key))
        if self.base_url is not None:
            _text("base_url", self.base_url)
        for key in ("image_ratios", "video_ratios", "text_video_ratios"):
            _ratios(key, getattr(self, key))
        for key in ("video_durations", "text_video_durations"):
            for seconds in _sequence(key, getattr(self, key)):
                if seconds <= 0:
                    raise ValueError(f"{key}: whole seconds above 0, not {seconds!r}")
        for code in _sequence("transient_failure_codes", self.transient_failure_codes):
            _text("transient_failure_codes", code)

    def rate_table(self) -> RateTable:
        """``[generators.runway.rates]`` over ``DEFAULT_RATES``, in credits.

        Raises:
            InvalidInputError: A rate is negative or not a number (named).
        """
        return read_rates(self.rates, generator="runway", unit="credits", defaults=DEFAULT_RATES)


def _sequence(key: str, value: Any) -> Sequence[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"{key}: a non-empty list, not {value!r}")
    return value


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: a non-empty string, not {value!r}")
    return value


def _ratios(key: str, value: Any) -> tuple[str, ...]:
    for ratio in _sequence(key, value):
        if not isinstance(ratio, str) or not re.fullmatch(r"[1-9]\d*:[1-9]\d*", ratio):
            raise ValueError(f'{key}: entries look like "1280:720", not {ratio!r}')
    return tuple(value)


# The pure parts: sizes, durations, tags -------------------------------------------------


def nearest_ratio(width: int, height: int, ratios: Sequence[str]) -> str:
    """The accepted ``"W:H"`` closest to ``width`` x ``height``: aspect first, then area."""

    def distance(ratio: str) -> tuple[float, float]:
        w, h = (int(n) for n in ratio.split(":"))
        return (
            round(abs(math.log((width / height) / (w / h))), 6),
            abs(math.log((width * height) / (w * h))),
        )

    return min(ratios, key=distance)


def nearest_duration(seconds: Fraction, durations: Sequence[int]) -> int:
    """The accepted whole-second duration closest to ``seconds`` (the shorter one on a tie)."""
    return min(durations, key=lambda d: (abs(d - seconds), d))


def derive_tag(name: str) -> str:
    """A Runway reference tag from a character's name: "Anna Karenina" -> "anna_karenina".

    Lower case, runs of other characters become "_", at most 16 characters, a letter first
    (else "ref_" goes in front), at least 3 (else padded with "_").
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    tag = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    if not tag[:1].isalpha():
        tag = f"ref_{tag}"
    return tag[:16].rstrip("_").ljust(3, "_")


def tag_prompt(prompt: str, mentions: Mapping[str, str]) -> str:
    """Rewrites each mention of a name (whole words, any case) as ``@tag``.

    ``mentions`` maps a name ("Anna Karenina") to its tag ("anna_karenina"); longer names go
    first, so "Anna Karenina" wins over "Anna". Text already tagged is left alone.
    """
    for name in sorted(mentions, key=len, reverse=True):
        words = [re.escape(word) for word in re.split(r"[\s_\-]+", name.strip()) if word]
        if not words:
            continue
        pattern = r"(?<![@\w])" + r"[\s_\-]+".join(words) + r"(?!\w)"
        prompt = re.sub(pattern, "@" + mentions[name], prompt, flags=re.IGNORECASE)
    return prompt


def _references(request: RenderRequest, limit: int) -> list[tuple[str, str]]:
    """(tag, name) for each reference: from ``parameters["reference_tags"]``, else file stems.

    A ``reference_tags`` entry may be a tag ("anna") or a name ("Anna Karenina"); either way the
    tag is derived from it and the entry is what the prompt mentions. A stem that is not a name
    (a media hash) gets ``ref1``, ``ref2``... and rewrites nothing.
    """
    given = request.parameters.get("reference_tags")
    if given is not None:
        if isinstance(given, str) or not isinstance(given, Sequence):
            raise InvalidInputError("reference_tags must be a list of names, one per reference")
        if len(given) != len(request.references):
            raise InvalidInputError(
                f"reference_tags has {len(given)} names for {len(request.references)} references:"
                " give one per reference image, in order"
            )
        if not all(isinstance(n, str) and n.strip() for n in given):
            raise InvalidInputError(f"reference_tags must be non-empty names, not {list(given)!r}")
        names = list(given)
    else:
        names = [re.sub(r"[_\-]+", " ", p.stem) for p in request.references]
    pairs: list[tuple[str, str]] = []
    for index, name in enumerate(names, start=1):
        if given is None and not name[:1].isalpha():
            name = ""
        tag = derive_tag(name) if name else f"ref{index}"
        taken = {t for t, _ in pairs}
        base, n = tag, 2
        while tag in taken:
            tag = f"{base[: 16 - len(str(n)) - 1]}_{n}"
            n += 1
        assert _TAG_RULE.fullmatch(tag), tag
        pairs.append((tag, name))
    if len(pairs) > limit:
        raise InvalidInputError(
            f"runway takes at most {limit} reference images, not {len(pairs)}"
            " (config max_references)"
        )
    return pairs


# The generator ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What will be sent, worked out before anything is."""

    model: str
    ratio: str
    prompt_text: str
    duration: int | None
    references: list[tuple[str, str]]  # (tag, name)


@dataclass
class _Task:
    """A task on Runway's side; ``over`` once it has ended there (nothing left to cancel)."""

    id: str
    over: bool = False


class RunwayGenerator(Generator):
    """Runway's hosted models: text-to-image (with tagged references), image- and text-to-video."""

    name: ClassVar[str] = "runway"
    Settings: ClassVar[type[GeneratorSettings]] = RunwaySettings
    settings: RunwaySettings
    origin: ClassVar[Origin] = Origin.TRAINED
    requires: ClassVar[tuple[str, ...]] = ("runwayml",)
    install_hint: ClassVar[str | None] = "pip install 'setpiece[runway]'"
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        modes=frozenset({Mode.TEXT_TO_IMAGE, Mode.IMAGE_TO_VIDEO, Mode.TEXT_TO_VIDEO}),
        reference_images=True,
        seeds=True,
        max_seconds=10.0,
    )

    def __init__(
        self,
        settings: GeneratorSettings | Mapping[str, Any] | None = None,
        *,
        project_dir: Path | None = None,
    ) -> None:
        super().__init__(settings, project_dir=project_dir)
        self._sdk: RunwayML | None = None
        self._http: httpx.Client | None = None  # downloads: output URLs are on other hosts

    def __getstate__(self) -> dict[str, Any]:
        # Ray and process pools pickle generators: no live clients, and with them no secret.
        return {**self.__dict__, "_sdk": None, "_http": None}

    @classmethod
    def missing_settings(cls, settings: GeneratorSettings) -> list[str]:
        """The API secret, read from the environment only (never from setpiece.toml)."""
        return [] if os.environ.get(SECRET_ENV, "").strip() else [SECRET_ENV]

    def reachable(self) -> bool | None:
        """Asks Runway for the key's organisation (``GET /v1/organization``): free, and
        refused with HTTP 401 when the key is not valid.

        Raises:
            RenderError: No key, a key refused, or no answer.
        """
        client = self._client()
        with self._errors("checking the API secret"):
            client.organization.retrieve()
        return True

    def capabilities(self) -> Capabilities:
        s = self.settings
        return Capabilities(
            modes=self.default_capabilities.modes,
            reference_images=True,
            seeds=True,
            max_seconds=float(max(*s.video_durations, *s.text_video_durations)),
        )

    def check(self, request: RenderRequest) -> None:
        """Refuses what Runway would refuse, before anything is uploaded or paid for.

        Raises:
            InvalidInputError: Mode, size, references, init image or seed not acceptable.
        """
        super().check(request)
        if request.width <= 0 or request.height <= 0:
            raise InvalidInputError(f"size must be positive, not {request.width}x{request.height}")
        if request.references and request.mode is not Mode.TEXT_TO_IMAGE:
            raise InvalidInputError(
                f"runway takes reference images for text-to-image only, not {request.mode.value}:"
                " make a still with them and give it as the init image"
            )
        if request.mode is Mode.IMAGE_TO_VIDEO and request.init_image is None:
            raise InvalidInputError("runway image-to-video needs an init image (the first frame)")
        if request.mode is not Mode.IMAGE_TO_VIDEO and request.init_image is not None:
            raise InvalidInputError(f"runway {request.mode.value} takes no init image")
        if not 0 <= request.seed <= MAX_SEED:
            raise InvalidInputError(f"runway seeds run from 0 to {MAX_SEED}, not {request.seed}")
        if request.mode is not Mode.IMAGE_TO_VIDEO and not request.prompt.strip():
            raise InvalidInputError(f"runway {request.mode.value} needs a prompt")
        for path in (*request.references, *filter(None, [request.init_image])):
            try:
                size = path.stat().st_size
            except OSError as exc:
                raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from exc
            if not UPLOAD_MIN_BYTES <= size <= UPLOAD_MAX_BYTES:
                raise InvalidInputError(
                    f"{path} is {size} bytes: Runway takes uploads of 512 bytes to 200 MB"
                )
        _references(request, self.settings.max_references)

    def _plan(self, request: RenderRequest) -> _Plan:
        """The model, ratio, duration, tags and prompt text that ``render`` will send."""
        s = self.settings
        if request.mode is Mode.TEXT_TO_IMAGE:
            model, ratios, durations = s.image_model, s.image_ratios, None
        elif request.mode is Mode.IMAGE_TO_VIDEO:
            model, ratios, durations = s.video_model, s.video_ratios, s.video_durations
        else:
            model, ratios, durations = (
                s.text_video_model,
                s.text_video_ratios,
                s.text_video_durations,
            )
        references = _references(request, s.max_references) if request.references else []
        prompt = tag_prompt(request.prompt, {name: tag for tag, name in references if name})
        return _Plan(
            model=request.model or model,
            ratio=nearest_ratio(request.width, request.height, ratios),
            prompt_text=prompt,
            duration=nearest_duration(Fraction(request.frames) / request.fps, durations)
            if durations
            else None,
            references=references,
        )

    def quote(self, request: RenderRequest) -> Cost:
        """The credits this request will cost: rate x whole seconds billed, or x 1 still.

        Raises:
            InvalidInputError: The model has no rate in ``[generators.runway.rates]``.
        """
        return self._price(self._plan(request))

    def _price(self, plan: _Plan) -> Cost:
        rates = self.settings.rate_table()
        if plan.duration is None:
            return rates.for_images(plan.model, 1)
        return rates.for_seconds(plan.model, plan.duration)

    def render(
        self, request: RenderRequest, workdir: Path, progress: Progress | None = None
    ) -> RenderResult:
        """Creates the task, polls it, downloads its output into ``workdir``.

        Raises:
            InvalidInputError: The request is beyond what Runway takes (see ``check``).
            RenderError: Runway refused or failed; ``transient`` says whether a retry may help.
        """
        self.check(request)
        plan = self._plan(request)
        cost = self._price(plan)  # refused before anything is sent: no rate, no render
        deadline = time.monotonic() + self.settings.timeout_s
        client = self._client()
        task = _Task(self._create(client, request, plan))
        try:
            output = self._wait(client, task, deadline, progress)
            path = self._download(client, task.id, output, workdir, request, deadline)
        except BaseException:
            if not task.over:
                self._cancel(client, task.id)
            raise
        if progress:
            progress(1.0)
        parameters: dict[str, Any] = {
            "mode": request.mode.value,
            "model": plan.model,
            "prompt_text": plan.prompt_text,
            "ratio": plan.ratio,
            "seed": request.seed,
            "task_id": task.id,
            "api_version": client.runway_version,
            "sdk_version": package_version("runwayml"),
        }
        if request.mode is Mode.TEXT_TO_IMAGE:
            parameters["reference_tags"] = [tag for tag, _ in plan.references]
            parameters["reference_files"] = [p.name for p in request.references]
        if plan.duration is not None:
            parameters["duration"] = plan.duration
            parameters["requested_seconds"] = round(float(request.frames / request.fps), 3)
        return RenderResult(path=path, model=plan.model, parameters=parameters, cost=cost)

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()
            self._sdk = None
        if self._http is not None:
            self._http.close()
            self._http = None

    # Steps ---------------------------------------------------------------------------------

    def _client(self) -> RunwayML:
        if self._sdk is None:
            secret = os.environ.get(SECRET_ENV, "")
            if not secret.strip():
                raise RenderError(
                    f"no Runway API secret: set {SECRET_ENV} to a key from the Runway developer"
                    " portal (Setpiece reads it from the environment and never stores it)"
                )
            if secret != secret.strip():
                raise RenderError(f"{SECRET_ENV} has spaces or a newline around it: remove them")
            from runwayml import RunwayML

            self._sdk = RunwayML(
                api_key=secret,
                base_url=self.settings.base_url,
                max_retries=0,  # the render queue retries, with back-off
                timeout=self.settings.request_timeout_s,
            )
        return self._sdk

    def _create(self, client: RunwayML, request: RenderRequest, plan: _Plan) -> str:
        body: dict[str, Any] = {"model": plan.model, "ratio": plan.ratio, "seed": request.seed}
        if plan.prompt_text.strip():
            body["prompt_text"] = plan.prompt_text
        if plan.duration is not None:
            body["duration"] = plan.duration
        with self._errors("uploading the init image or references"):
            if request.mode is Mode.IMAGE_TO_VIDEO:
                assert request.init_image is not None  # check() made sure
                body["prompt_image"] = client.uploads.create_ephemeral(file=request.init_image).uri
            if plan.references:
                body["reference_images"] = [
                    {"uri": client.uploads.create_ephemeral(file=path).uri, "tag": tag}
                    for path, (tag, _) in zip(request.references, plan.references, strict=True)
                ]
        with self._errors(f"creating the {request.mode.value} task"):
            if request.mode is Mode.TEXT_TO_IMAGE:
                created: Any = client.text_to_image.create(**body)
            elif request.mode is Mode.IMAGE_TO_VIDEO:
                created = client.image_to_video.create(**body)
            else:
                created = client.text_to_video.create(**body)
        task_id = getattr(created, "id", None)
        if not isinstance(task_id, str) or not task_id:
            raise RenderError(
                "Runway answered the create request without a task id: a proxy in the way?"
                " (retrying)",
                transient=True,
            )
        log.info("runway: task %s created (%s, %s)", task_id, plan.model, plan.ratio)
        return task_id

    def _wait(
        self, client: RunwayML, task: _Task, deadline: float, progress: Progress | None
    ) -> list[str]:
        """Polls until the task ends; returns its output URLs.

        Runway unreachable while its task runs (an outage, a network cut) is polled through
        until the task's deadline, not counted against ``poll_error_limit``: the task is paid
        for and still running there, and abandoning it would pay for the take twice.
        """
        task_id = task.id

        def fetch() -> Any:
            with self._errors(f"polling task {task_id}"):
                details: Any = client.tasks.retrieve(task_id)
            if not isinstance(getattr(details, "status", None), str):
                raise RenderError(
                    f"Runway answered the poll of task {task_id} with no status", transient=True
                )
            return details

        def judge(details: Any) -> list[str] | None:
            status = details.status
            task.over = status in ("SUCCEEDED", "FAILED", "CANCELLED")
            if status == "SUCCEEDED":
                output = getattr(details, "output", None)
                if not output or not all(isinstance(u, str) for u in output):
                    raise RenderError(
                        f"Runway task {task_id} succeeded without an output", transient=True
                    )
                return list(output)
            if status == "FAILED":
                raise self._failure(task_id, details)
            if status == "CANCELLED":
                raise RenderError(
                    f"Runway task {task_id} was cancelled (by someone else, or from the"
                    " developer portal): render again to make the take"
                )
            if status == "RUNNING" and progress:
                fraction = getattr(details, "progress", None)
                if isinstance(fraction, int | float):
                    progress(min(max(float(fraction), 0.0), 0.99))
            return None

        return poll(
            fetch,
            judge,
            service="runway",
            deadline=deadline,
            interval_s=self.settings.poll_interval_s,
            error_limit=self.settings.poll_error_limit,
            too_long=f"Runway task {task_id} did not finish within {self.settings.timeout_s:g} s"
            " (config timeout_s): cancelling it",
        )

    def _failure(self, task_id: str, task: Any) -> RenderError:
        code = getattr(task, "failure_code", None) or None
        reason = " ".join(str(getattr(task, "failure", "") or "no reason given").split())
        transient = code is not None and any(
            code == entry or (entry.endswith(".*") and code.startswith(entry[:-1]))
            for entry in self.settings.transient_failure_codes
        )
        advice = "retrying" if transient else "change the prompt or inputs; a retry will not help"
        if code is None:
            advice = "Runway gave no failure code"
        return RenderError(
            self._scrub(f"Runway task {task_id} failed ({code or 'no code'}): {reason} ({advice})"),
            transient=transient,
        )

    def _download(
        self,
        client: RunwayML,
        task_id: str,
        output: list[str],
        workdir: Path,
        request: RenderRequest,
        deadline: float,
    ) -> Path:
        """Fetches ``output[0]`` to a temporary name, then moves it into place.

        A failed fetch is tried once more with fresh URLs (the task fetched again), as Runway
        advises for expired ones; nothing partial is left behind either way.
        """
        import httpx

        suffix = Path(urlsplit(output[0]).path).suffix.lower()
        if suffix not in _SUFFIXES:
            suffix = ".mp4" if request.is_video else ".png"
        workdir.mkdir(parents=True, exist_ok=True)
        final = workdir / f"runway-{task_id}{suffix}"
        partial = workdir / f".{final.name}.part"
        timeout = max(1.0, min(self.settings.request_timeout_s, deadline - time.monotonic()))
        for attempt in (1, 2):
            try:
                if self._http is None:
                    self._http = httpx.Client(follow_redirects=True)
                with self._http.stream("GET", output[0], timeout=timeout) as response:
                    if response.status_code != 200:
                        raise RenderError(
                            f"Runway's output of task {task_id} answered HTTP"
                            f" {response.status_code} (the URL may have expired)",
                            transient=True,
                        )
                    with partial.open("wb") as file:
                        for chunk in response.iter_bytes(1 << 20):
                            file.write(chunk)
                if partial.stat().st_size == 0:
                    raise RenderError(f"Runway's output of task {task_id} is empty", transient=True)
                os.replace(partial, final)
                return final
            except (RenderError, httpx.HTTPError, OSError) as exc:
                partial.unlink(missing_ok=True)
                if isinstance(exc, OSError):
                    raise RenderError(f"cannot write {final}: {exc.strerror}") from exc
                error = (
                    exc
                    if isinstance(exc, RenderError)
                    else RenderError(
                        f"downloading the output of Runway task {task_id} failed:"
                        f" {type(exc).__name__}",
                        transient=True,
                    )
                )
                if attempt == 2:
                    raise error from exc
                log.warning("runway: %s; fetching the task again for fresh URLs", error)
                with self._errors(f"fetching task {task_id} again"):
                    task: Any = client.tasks.retrieve(task_id)
                output = list(getattr(task, "output", None) or output)
        raise AssertionError("unreachable")

    def _cancel(self, client: RunwayML, task_id: str) -> None:
        try:
            client.tasks.delete(task_id)
            log.info("runway: task %s cancelled", task_id)
        except Exception as exc:
            log.warning(
                "runway: could not cancel task %s (%s): cancel it in the developer portal",
                task_id,
                type(exc).__name__,
            )

    def _secret(self) -> str | None:
        return self._sdk.api_key if self._sdk is not None else os.environ.get(SECRET_ENV)

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secret())

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turns the SDK's and httpx's errors into RenderErrors: 429, 5xx and no answer retry."""
        import httpx
        import runwayml

        try:
            yield
        except runwayml.AuthenticationError as exc:
            raise RenderError(
                f"Runway rejected the API secret: set {SECRET_ENV} to a valid key"
                f" (HTTP 401 while {action})"
            ) from exc
        except runwayml.APIStatusError as exc:
            status = exc.status_code
            transient = status in (408, 429) or status >= 500
            what = {
                403: "refused access (the key's organisation may lack this model or credits)",
                404: "found no such resource",
                429: "is rate-limiting this key",
            }.get(status, "refused the request" if status < 500 else "had a server error")
            raise RenderError(
                self._scrub(f"Runway {what} (HTTP {status}) while {action}: {_detail(exc.body)}"),
                transient=transient,
            ) from exc
        except runwayml.APITimeoutError as exc:
            raise RenderError(
                f"Runway did not answer in time while {action}", transient=True
            ) from exc
        except runwayml.APIConnectionError as exc:
            raise GeneratorUnavailable(
                f"cannot reach Runway at {exc.request.url.host} while {action}",
                waiting_for=f"Runway at {exc.request.url.host}",
            ) from exc
        except httpx.TransportError as exc:  # the upload's second leg uses a bare httpx client
            raise RenderError(
                f"network error while {action}: {type(exc).__name__}", transient=True
            ) from exc
        except json.JSONDecodeError as exc:
            raise RenderError(
                f"Runway answered with something that is not JSON while {action}", transient=True
            ) from exc


def _detail(body: object) -> str:
    """Runway's own words from an error body ({"error": ...}), on one short line."""
    if isinstance(body, dict):
        body = body.get("error") or body.get("message") or body
    text = " ".join(str(body).split()) if body else "no detail given"
    return text if len(text) <= 300 else text[:297] + "..."
