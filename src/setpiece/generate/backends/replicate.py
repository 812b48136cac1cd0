"""Replicate: hosted image and video models by id (Kling, Veo, Luma, Wan, Hailuo, FLUX...).

One aggregator backend, so that model choice is not tied to one vendor: a model is an id in
configuration (``owner/name``, or ``owner/name:version`` for a pinned version), and a model
that disappears is replaced by editing ``setpiece.toml``, not the code.

Why Replicate (``replicate``) and not fal (``fal-client``), read from both SDKs' source
(replicate 1.0.7, fal-client 1.0.3; docs/aggregator-replicate.md has the protocol):

- Replicate's client takes ``base_url`` (and ``REPLICATE_BASE_URL``), and every call it
  makes, the file uploads included, goes to that one address: the backend is tested with
  the real SDK against a local server. fal-client builds ``https://`` URLs from host names
  read once at import (``FAL_RUN_HOST``), uploads to fixed hosts (``rest.fal.ai``,
  ``v3.fal.media``) and falls back to backup domains: it cannot be pointed at a local
  server without patching its internals.
- Replicate's client needs httpx, pydantic and packaging, which Setpiece already has;
  fal-client adds aiofiles, asyncstdlib, httpx-sse, msgpack and websockets.
- Both price per output for their own "official" models; Replicate also bills other
  models by the second of hardware time, which its answer reports
  (``metrics.predict_time``): that is the one cost an answer carries. Neither answer
  carries a price.

A render uploads the first frame and references (``POST /v1/files``), creates a
prediction, polls it (``starting`` -> ``processing`` -> ``succeeded`` | ``failed`` |
``canceled``) and downloads its output at once (output URLs expire after an hour).

Configuration (``[generators.replicate]``; unknown keys refused)::

    image_model        None     the model for stills (text-to-image, with references)
    video_model        None     the model for clips (text- and image-to-video)
    models             {}       per model id, how a request maps to its inputs
                                (``ReplicateModel``: input names, sizes, durations)
    rates              {}       per model id, USD per image, per second of video, or per
                                second of hardware time (``billed = "predict_time"``)
    poll_interval_s    1        between two ``GET /v1/predictions/{id}``
    timeout_s          900      whole render; past it the prediction is cancelled
    request_timeout_s  60       one HTTP request
    poll_error_limit   5        transient errors in a row tolerated while polling
    base_url           None     the SDK's (REPLICATE_BASE_URL, else api.replicate.com)
    concurrency        2        takes rendered at once (the render queue's)

Decisions:

- Cost is in USD, Replicate's own unit, from the rate table read by the shared reader
  (:mod:`setpiece.generate.rates`). No default rates: neither the shared notes nor the
  SDK's documentation write Replicate prices with a date, so a model without a rate is
  refused, named, before anything is sent. A model billed by hardware time
  (``billed = "predict_time"``) is priced from the answer's ``metrics.predict_time``; an
  answer without it is flagged on the take (``parameters["cost_missing"]``, cost None,
  a warning), never priced by guess: the take is made and paid for, so it is kept.
- The model comes from the request when it names one (a recipe made again), else from
  ``image_model``/``video_model`` by kind.
- The token comes from ``REPLICATE_API_TOKEN`` at render time. It is never recorded, logged
  or put in a message (scrubbed from any server text quoted), never sent to the output
  hosts (downloads use a client of their own, without it), and a pickled generator carries
  no client and so no token.
- The SDK retries GET, PUT and DELETE on 429, 503 and 504 by itself (its RetryTransport,
  up to 10 tries); creates and cancels are POSTs and are not. The render queue owns
  retrying a take; polling rides out ``poll_error_limit`` transient errors, and an
  unreachable Replicate until ``timeout_s``, since the prediction runs on there, paid for.
- A render that ends before its prediction does (time-out, error, interrupt) cancels it
  (``POST /v1/predictions/{id}/cancel``), so nothing is billed for an orphan.
- A failed prediction is permanent: Replicate's ``error`` is the model's own failure
  (bad input, a safety filter), which the same input will meet again.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from setpiece.config import WHERE, setting
from setpiece.errors import InvalidInputError
from setpiece.generate.backends._hosted import package_version, poll, scrub
from setpiece.generate.backends.runway import nearest_duration, nearest_ratio
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
from setpiece.generate.rates import RateTable, read_rates

if TYPE_CHECKING:
    import httpx
    from replicate.client import Client

__all__ = ["ReplicateGenerator", "ReplicateModel", "ReplicateSettings", "model_route"]

log = logging.getLogger(__name__)

TOKEN_ENV = "REPLICATE_API_TOKEN"
UNIT = "usd"
# owner/name, or owner/name:version (Replicate's identifier, replicate/identifier.py).
_MODEL_ID = re.compile(
    r"(?P<owner>[A-Za-z0-9][\w.-]*)/(?P<name>[A-Za-z0-9][\w.-]*)(?::(?P<version>\w+))?"
)
_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".mp4", ".mov", ".webm"}
_ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21")
_OVER = ("succeeded", "failed", "canceled")


@dataclass(frozen=True)
class ReplicateModel:
    """How a request maps onto one model's inputs: ``[generators.replicate.models."ID"]``.

    Every Replicate model has its own input schema (its API page lists it). An input name
    left unset is not sent; ``fixed`` inputs are sent as they are. A model with no table
    gets the defaults: the prompt as ``prompt``, the seed as ``seed``, nothing else.

    Attributes:
        prompt: The prompt's input.
        negative_prompt: The negative prompt's input, if the model takes one.
        seed: The seed's input ("" when the model takes none: its takes are not repeatable).
        init_image: The first frame's input (image-to-video); unset: no image-to-video.
        needs_init_image: The model makes clips from a first frame only (no text-to-video).
        references: The reference images' input; unset: the model takes none.
        reference_list: Send the references as a list (else one image, the first).
        max_references: How many references the model takes.
        aspect_ratio: The aspect ratio's input ("16:9"), the nearest of ``aspect_ratios``.
        aspect_ratios: The ratios the model accepts.
        width, height: The size's inputs, for models that take pixels.
        duration: The clip length's input, whole seconds, the nearest of ``durations``.
        durations: The seconds the model accepts (empty: frames / fps, rounded).
        frames, fps: Frame count and rate inputs, for models that take them.
        max_seconds: The longest clip it makes (None: no limit known).
        billed: ``output`` (per image or per second of video, Replicate's official models)
            or ``predict_time`` (per second of hardware time, from the answer's metrics).
        fixed: Inputs sent as they are (``{ resolution = "720p" }``).
    """

    prompt: str = "prompt"
    negative_prompt: str | None = None
    seed: str = "seed"
    init_image: str | None = None
    needs_init_image: bool = False
    references: str | None = None
    reference_list: bool = False
    max_references: int = setting(1, low=1)
    aspect_ratio: str | None = None
    aspect_ratios: tuple[str, ...] = _ASPECT_RATIOS
    width: str | None = None
    height: str | None = None
    duration: str | None = None
    durations: tuple[int, ...] = ()
    frames: str | None = None
    fps: str | None = None
    max_seconds: float | None = setting(None, positive=True)
    billed: str = setting("output", choices=("output", "predict_time"))
    fixed: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.prompt.strip():
            raise ValueError("prompt: the name of the model's prompt input, not empty")
        for seconds in self.durations:
            if seconds <= 0:
                raise ValueError(f"durations: whole seconds above 0, not {seconds!r}")
        for ratio in self.aspect_ratios:
            if not re.fullmatch(r"[1-9]\d*:[1-9]\d*", ratio):
                raise ValueError(f'aspect_ratios: entries look like "16:9", not {ratio!r}')
        if not self.aspect_ratios:
            raise ValueError("aspect_ratios: at least one ratio")
        if self.needs_init_image and not self.init_image:
            raise ValueError("needs_init_image: set init_image, the first frame's input, too")


@dataclass(frozen=True)
class ReplicateSettings(GeneratorSettings):
    """``[generators.replicate]``, checked once (the module docstring lists the keys)."""

    concurrency: int = setting(2, low=1, help="takes rendered at once (Replicate's own queue)")
    image_model: str | None = setting(None, help="the model for stills: owner/name[:version]")
    video_model: str | None = setting(None, help="the model for clips: owner/name[:version]")
    models: dict[str, ReplicateModel] = field(default_factory=dict)
    rates: dict[str, Any] = field(default_factory=dict)
    poll_interval_s: float = setting(1.0, positive=True)
    timeout_s: float = setting(900.0, positive=True)
    request_timeout_s: float = setting(60.0, positive=True)
    poll_error_limit: int = setting(5, low=0)
    base_url: str | None = None

    def __post_init__(self) -> None:
        for key in ("image_model", "video_model"):
            model = getattr(self, key)
            if model is not None and model_route(model) is None:
                raise ValueError(
                    f"{key}: a Replicate model id, owner/name[:version], not {model!r}"
                )
        for model in self.models:
            if model_route(model) is None:
                raise ValueError(f"models: {model!r} is not a model id (owner/name[:version])")
        if self.base_url is not None and not self.base_url.strip():
            raise ValueError("base_url: a URL, or left out")
        self.rate_table()  # a negative or non-numeric rate is refused here, named

    def rate_table(self) -> RateTable:
        """The ``rates`` table, read by the shared reader (USD; no defaults).

        Raises:
            InvalidInputError: A rate that is negative, not a number, or not finite.
        """
        return read_rates(self.rates, generator="replicate", unit=UNIT)

    def inputs(self, model: str) -> ReplicateModel:
        return self.models.get(model) or ReplicateModel()


def model_route(model: str) -> tuple[str, str, str | None] | None:
    """(owner, name, version or None) of a model id, or None if it is not one."""
    match = _MODEL_ID.fullmatch(model.strip())
    if match is None:
        return None
    return match["owner"], match["name"], match["version"]


@dataclass(frozen=True)
class _Plan:
    """What will be sent, worked out before anything is."""

    model: str
    inputs: ReplicateModel
    body: dict[str, Any]  # the model's input, files still to upload
    duration: int | None


@dataclass
class _Prediction:
    """A prediction on Replicate's side; ``over`` once it has ended there."""

    id: str
    over: bool = False


class ReplicateGenerator(Generator):
    """Replicate's hosted models by id: stills (with references), text- and image-to-video."""

    name: ClassVar[str] = "replicate"
    Settings: ClassVar[type[GeneratorSettings]] = ReplicateSettings
    settings: ReplicateSettings
    origin: ClassVar[Origin] = Origin.TRAINED
    requires: ClassVar[tuple[str, ...]] = ("replicate",)
    install_hint: ClassVar[str | None] = "pip install 'setpiece[replicate]'"
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        modes=frozenset({Mode.TEXT_TO_IMAGE, Mode.TEXT_TO_VIDEO, Mode.IMAGE_TO_VIDEO}),
        reference_images=True,
        seeds=True,
    )

    def __init__(
        self,
        settings: GeneratorSettings | Mapping[str, Any] | None = None,
        *,
        project_dir: Path | None = None,
    ) -> None:
        super().__init__(settings, project_dir=project_dir)
        self._sdk: Client | None = None
        self._http: httpx.Client | None = None  # downloads: other hosts, never the token

    def billing_units(self) -> tuple[str, ...]:
        """US dollars: a model billed by hardware time cannot be quoted, but bills in them."""
        return (UNIT,)

    def __getstate__(self) -> dict[str, Any]:
        # Ray and process pools pickle generators: no live clients, and with them no token.
        return {**self.__dict__, "_sdk": None, "_http": None}

    @classmethod
    def missing_settings(cls, settings: GeneratorSettings) -> list[str]:
        """The token (environment only, never setpiece.toml) and at least one model."""
        missing = [] if os.environ.get(TOKEN_ENV, "").strip() else [TOKEN_ENV]
        if isinstance(settings, ReplicateSettings) and not (
            settings.image_model or settings.video_model
        ):
            missing.append("[generators.replicate] image_model or video_model")
        return missing

    def reachable(self) -> bool | None:
        """Asks Replicate whose token this is (``GET /v1/account``): free, 401 for a bad one.

        Raises:
            RenderError: No token, a token refused, or no answer.
        """
        client = self._client()
        with self._errors("checking the API token"):
            client.accounts.current()
        return True

    def capabilities(self) -> Capabilities:
        s = self.settings
        modes: set[Mode] = set()
        references, max_seconds = False, None
        if s.image_model:
            modes.add(Mode.TEXT_TO_IMAGE)
            references = s.inputs(s.image_model).references is not None
        if s.video_model:
            video = s.inputs(s.video_model)
            if not video.needs_init_image:
                modes.add(Mode.TEXT_TO_VIDEO)
            if video.init_image is not None:
                modes.add(Mode.IMAGE_TO_VIDEO)
            max_seconds = video.max_seconds or (
                float(max(video.durations)) if video.durations else None
            )
        if not modes:  # nothing configured: what it can be configured to do (check refuses)
            return self.default_capabilities
        return Capabilities(
            modes=frozenset(modes), reference_images=references, seeds=True, max_seconds=max_seconds
        )

    def model_for(self, request: RenderRequest) -> str:
        """The model that makes ``request``: the request's own, else the kind's configured one.

        Raises:
            InvalidInputError: None configured for this kind, or not a model id.
        """
        key = "video_model" if request.is_video else "image_model"
        model = request.model or getattr(self.settings, key)
        if not model:
            raise InvalidInputError(
                f"{WHERE} [generators.replicate] {key} is not set: name the Replicate model"
                f" that makes {'clips' if request.is_video else 'stills'} (owner/name)"
            )
        if model_route(model) is None:
            raise InvalidInputError(
                f"{model!r} is not a Replicate model id: write owner/name or owner/name:version"
            )
        return model

    def check(self, request: RenderRequest) -> None:
        """Refuses what the model would refuse or cannot price, before anything is sent.

        Raises:
            InvalidInputError: Mode, size, references or first frame the model does not take,
                or a model with no rate (named).
        """
        # First what says more than "cannot do text-to-video": which key or model is missing.
        model = self.model_for(request)
        inputs = self.settings.inputs(model)
        where = f'[generators.replicate.models."{model}"]'
        if request.mode is Mode.TEXT_TO_VIDEO and inputs.needs_init_image:
            raise InvalidInputError(
                f"model {model} makes clips from a first frame only (needs_init_image in"
                f" {where}): render --from a still take"
            )
        super().check(request)
        if request.width <= 0 or request.height <= 0:
            raise InvalidInputError(f"size must be positive, not {request.width}x{request.height}")
        if request.references:
            if inputs.references is None:
                raise InvalidInputError(
                    f"model {model} takes no reference images: set references (its input's"
                    f" name) in {where} if it does, or render without them"
                )
            if len(request.references) > inputs.max_references:
                raise InvalidInputError(
                    f"model {model} takes at most {inputs.max_references} reference images,"
                    f" not {len(request.references)} (max_references in {where})"
                )
        if request.mode is Mode.IMAGE_TO_VIDEO:
            if request.init_image is None:
                raise InvalidInputError("image-to-video needs an init image (render --from TAKE)")
            if inputs.init_image is None:
                raise InvalidInputError(
                    f"model {model} takes no first frame: set init_image (its input's name)"
                    f" in {where} if it does"
                )
        self.settings.rate_table().rate(model)  # no rate: refused, named (no invented price)

    def quote(self, request: RenderRequest) -> Cost | None:
        """What ``request`` will cost, in USD, from the rate table; nothing is sent.

        Returns:
            The price of one image, or of the seconds of video that will be asked for;
            None for a model billed by hardware time (known only from the answer).

        Raises:
            InvalidInputError: The model has no rate (named), or no model is configured.
        """
        model = self.model_for(request)
        table = self.settings.rate_table()
        rate = table.rate(model)
        inputs = self.settings.inputs(model)
        if inputs.billed == "predict_time":
            return None
        if not request.is_video:
            return Cost(amount=rate, unit=UNIT)
        return table.for_seconds(model, _billed_seconds(request, inputs))

    def render(
        self, request: RenderRequest, workdir: Path, progress: Progress | None = None
    ) -> RenderResult:
        """Uploads the images, creates the prediction, polls it, downloads its output.

        Raises:
            InvalidInputError: The request is beyond what the model takes (see ``check``).
            RenderError: Replicate refused or failed; ``transient`` says whether to retry.
        """
        self.check(request)
        plan = self._plan(request)
        deadline = time.monotonic() + self.settings.timeout_s
        client = self._client()
        body = dict(plan.body)
        body.update(self._upload(client, request, plan))
        answer = self._create(client, plan.model, body)
        prediction = _Prediction(str(answer.id))
        try:
            answer = self._wait(client, prediction, deadline, progress)
            outputs = _output_urls(answer.output)
            if not outputs:
                raise RenderError(
                    f"Replicate prediction {prediction.id} of {plan.model} succeeded without"
                    " an output file",
                    transient=True,
                )
            path = self._download(prediction.id, outputs[0], workdir, request, deadline)
        except BaseException:
            if not prediction.over:
                self._cancel(client, prediction.id)
            raise
        if progress:
            progress(1.0)
        metrics = answer.metrics if isinstance(answer.metrics, dict) else {}
        parameters: dict[str, Any] = {
            "mode": request.mode.value,
            "model": plan.model,
            "version": answer.version,
            "input": _recorded(body),
            "seed": request.seed,
            "prediction_id": prediction.id,
            "outputs": len(outputs),
            "sdk_version": package_version("replicate"),
        }
        if isinstance(metrics.get("predict_time"), int | float):
            parameters["predict_time_s"] = metrics["predict_time"]
        if plan.duration is not None:
            parameters["duration"] = plan.duration
            parameters["requested_seconds"] = round(float(request.frames / request.fps), 3)
        cost = self._cost(request, plan, len(outputs), metrics, prediction.id, parameters)
        return RenderResult(path=path, model=plan.model, parameters=parameters, cost=cost)

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk._client.close()
            self._sdk = None
        if self._http is not None:
            self._http.close()
            self._http = None

    # Steps ---------------------------------------------------------------------------------

    def _plan(self, request: RenderRequest) -> _Plan:
        model = self.model_for(request)
        inputs = self.settings.inputs(model)
        body: dict[str, Any] = dict(inputs.fixed)
        body[inputs.prompt] = request.prompt
        if inputs.negative_prompt and request.negative_prompt:
            body[inputs.negative_prompt] = request.negative_prompt
        if inputs.seed:
            body[inputs.seed] = request.seed
        if inputs.aspect_ratio:
            body[inputs.aspect_ratio] = nearest_ratio(
                request.width, request.height, inputs.aspect_ratios
            )
        if inputs.width and inputs.height:
            body[inputs.width], body[inputs.height] = request.width, request.height
        duration = None
        if request.is_video:
            if inputs.duration:
                duration = _whole_seconds(request, inputs)
                body[inputs.duration] = duration
            if inputs.frames:
                body[inputs.frames] = request.frames
            if inputs.fps:
                body[inputs.fps] = float(request.fps)
        return _Plan(model=model, inputs=inputs, body=body, duration=duration)

    def _client(self) -> Client:
        if self._sdk is None:
            token = os.environ.get(TOKEN_ENV, "")
            if not token.strip():
                raise RenderError(
                    f"no Replicate API token: set {TOKEN_ENV} to a token from"
                    " replicate.com/account/api-tokens (Setpiece reads it from the environment"
                    " and never stores it)"
                )
            if token != token.strip():
                raise RenderError(f"{TOKEN_ENV} has spaces or a newline around it: remove them")
            import httpx
            from replicate.client import Client

            timeout = self.settings.request_timeout_s
            self._sdk = Client(
                api_token=token,
                base_url=self.settings.base_url,
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            )
        return self._sdk

    def _upload(self, client: Client, request: RenderRequest, plan: _Plan) -> dict[str, Any]:
        """The first frame and references, uploaded (``POST /v1/files``), as input URLs."""
        sent: dict[str, Any] = {}
        inputs = plan.inputs
        with self._errors("uploading the init image or references"):
            if request.mode is Mode.IMAGE_TO_VIDEO and inputs.init_image:
                assert request.init_image is not None  # check() made sure
                sent[inputs.init_image] = self._file_url(client.files.create(request.init_image))
            if request.references and inputs.references:
                urls = [self._file_url(client.files.create(p)) for p in request.references]
                sent[inputs.references] = urls if inputs.reference_list else urls[0]
        return sent

    @staticmethod
    def _file_url(created: Any) -> str:
        url = (getattr(created, "urls", None) or {}).get("get")
        if not isinstance(url, str) or not url:
            raise RenderError("Replicate answered an upload without the file's URL", transient=True)
        return url

    def _create(self, client: Client, model: str, body: dict[str, Any]) -> Any:
        route = model_route(model)
        assert route is not None  # model_for() made sure
        owner, name, version = route
        with self._errors(f"creating a prediction of {model}", model=model):
            if version is None:
                answer: Any = client.models.predictions.create(model=f"{owner}/{name}", input=body)
            else:
                answer = client.predictions.create(version=version, input=body)
        if not getattr(answer, "id", None):
            raise RenderError(
                "Replicate answered the create request without a prediction id: a proxy in"
                " the way? (retrying)",
                transient=True,
            )
        log.info("replicate: prediction %s created (%s)", answer.id, model)
        return answer

    def _wait(
        self, client: Client, prediction: _Prediction, deadline: float, progress: Progress | None
    ) -> Any:
        """Polls until the prediction ends; returns its last answer when it succeeded.

        Replicate unreachable while the prediction runs is polled through until the deadline,
        not counted against ``poll_error_limit``: abandoning it would pay for the take twice.
        """

        def fetch() -> Any:
            with self._errors(f"polling prediction {prediction.id}"):
                return client.predictions.get(prediction.id)

        def judge(answer: Any) -> Any:
            prediction.over = answer.status in _OVER
            if answer.status == "succeeded":
                return answer
            if answer.status == "failed":
                reason = " ".join(str(answer.error or "no reason given").split())
                raise RenderError(
                    self._scrub(
                        f"Replicate prediction {prediction.id} failed: {reason[:300]}"
                        " (change the prompt or inputs; a retry will not help)"
                    )
                )
            if answer.status == "canceled":
                raise RenderError(
                    f"Replicate prediction {prediction.id} was canceled (by someone else,"
                    " or from the dashboard): render again to make the take"
                )
            if progress and answer.status == "processing":
                done = answer.progress
                if done is not None:
                    progress(min(max(float(done.percentage), 0.0), 0.99))
            return None

        return poll(
            fetch,
            judge,
            service="replicate",
            deadline=deadline,
            interval_s=self.settings.poll_interval_s,
            error_limit=self.settings.poll_error_limit,
            too_long=f"Replicate prediction {prediction.id} did not finish within"
            f" {self.settings.timeout_s:g} s (config timeout_s): cancelling it",
        )

    def _download(
        self, prediction_id: str, url: str, workdir: Path, request: RenderRequest, deadline: float
    ) -> Path:
        """Fetches the output to a temporary name, then moves it into place; the client used
        carries no token (the output is on another host)."""
        import httpx

        suffix = Path(urlsplit(url).path).suffix.lower()
        if suffix not in _SUFFIXES:
            suffix = ".mp4" if request.is_video else ".png"
        workdir.mkdir(parents=True, exist_ok=True)
        final = workdir / f"replicate-{prediction_id}{suffix}"
        partial = workdir / f".{final.name}.part"
        timeout = max(1.0, min(self.settings.request_timeout_s, deadline - time.monotonic()))
        try:
            if self._http is None:
                self._http = httpx.Client(follow_redirects=True)
            with self._http.stream("GET", url, timeout=timeout) as response:
                if response.status_code != 200:
                    raise RenderError(
                        f"the output of Replicate prediction {prediction_id} answered HTTP"
                        f" {response.status_code} (output URLs expire after an hour)",
                        transient=True,
                    )
                with partial.open("wb") as file:
                    for chunk in response.iter_bytes(1 << 20):
                        file.write(chunk)
            if partial.stat().st_size == 0:
                raise RenderError(
                    f"the output of Replicate prediction {prediction_id} is empty", transient=True
                )
            os.replace(partial, final)
            return final
        except httpx.HTTPError as exc:
            raise RenderError(
                f"downloading the output of Replicate prediction {prediction_id} failed:"
                f" {type(exc).__name__}",
                transient=True,
            ) from exc
        except OSError as exc:
            raise RenderError(f"cannot write {final}: {exc.strerror}") from exc
        finally:
            partial.unlink(missing_ok=True)

    def _cost(
        self,
        request: RenderRequest,
        plan: _Plan,
        outputs: int,
        metrics: Mapping[str, Any],
        prediction_id: str,
        parameters: dict[str, Any],
    ) -> Cost | None:
        """The take's cost in USD: the rate times what was billed (images, seconds of video,
        or the answer's seconds of hardware time). An answer without the hardware time it is
        billed by is flagged on the take, never priced by guess."""
        table = self.settings.rate_table()
        model = plan.model
        if plan.inputs.billed == "output":
            if request.is_video:
                return table.for_seconds(model, _billed_seconds(request, plan.inputs))
            return table.for_images(model, outputs)
        seconds = metrics.get("predict_time")
        if (
            isinstance(seconds, int | float)
            and not isinstance(seconds, bool)
            and math.isfinite(seconds)
            and seconds >= 0
        ):
            return Cost(amount=table.rate(model) * Decimal(str(seconds)), unit=UNIT)
        problem = (
            f"Replicate's answer for prediction {prediction_id} of model {model} has no"
            ' metrics.predict_time, which this model is billed by (billed = "predict_time"):'
            " the take's cost is unknown; see the prediction on replicate.com"
        )
        parameters["cost_missing"] = problem
        log.warning("replicate: %s", problem)
        return None

    def _cancel(self, client: Client, prediction_id: str) -> None:
        try:
            client.predictions.cancel(prediction_id)
            log.info("replicate: prediction %s cancelled", prediction_id)
        except Exception as exc:
            log.warning(
                "replicate: could not cancel prediction %s (%s): cancel it on replicate.com",
                prediction_id,
                type(exc).__name__,
            )

    def _scrub(self, text: str) -> str:
        sdk_token = self._sdk._api_token if self._sdk is not None else None
        return scrub(text, sdk_token, os.environ.get(TOKEN_ENV))

    @contextmanager
    def _errors(self, action: str, *, model: str | None = None) -> Iterator[None]:
        """Turns the SDK's and httpx's errors into RenderErrors: 429, 5xx and no answer retry."""
        import httpx
        from replicate.exceptions import ReplicateError

        try:
            yield
        except ReplicateError as exc:
            raise self._refusal(exc, action, model) from exc
        except httpx.TimeoutException as exc:
            raise RenderError(
                f"Replicate did not answer in time while {action}", transient=True
            ) from exc
        except httpx.TransportError as exc:
            host = exc.request.url.host if _has_request(exc) else "its server"
            raise GeneratorUnavailable(
                f"cannot reach Replicate at {host} while {action}",
                waiting_for=f"Replicate at {host}",
            ) from exc
        except (json.JSONDecodeError, ValueError, TypeError) as exc:
            # pydantic's ValidationError is a ValueError: an answer of the wrong shape.
            raise RenderError(
                f"Replicate answered with something unexpected while {action}"
                f" ({type(exc).__name__})",
                transient=True,
            ) from exc

    def _refusal(self, exc: Any, action: str, model: str | None) -> RenderError:
        status = exc.status or 0
        detail = " ".join(str(exc.detail or exc.title or "no detail given").split())[:300]
        if status == 401:
            return RenderError(
                f"Replicate rejected the API token: set {TOKEN_ENV} to a valid token"
                f" (HTTP 401 while {action})"
            )
        if status == 404 and model is not None:
            return RenderError(
                self._scrub(
                    f"Replicate has no model {model} (HTTP 404: {detail}): check the id in"
                    " [generators.replicate] image_model / video_model on replicate.com"
                )
            )
        if status == 422 and model is not None:
            return RenderError(
                self._scrub(
                    f"Replicate refused model {model} or its input (HTTP 422: {detail}): check"
                    " the model's version and the input names in"
                    f' [generators.replicate.models."{model}"]'
                )
            )
        transient = status in (408, 409, 429) or status >= 500
        what = {
            402: "refused for billing (add credit or a payment method on replicate.com)",
            403: "refused access",
            404: "found no such resource",
            429: "is rate-limiting this token",
        }.get(status, "refused the request" if status < 500 else "had a server error")
        return RenderError(
            self._scrub(f"Replicate {what} (HTTP {status}) while {action}: {detail}"),
            transient=transient,
        )


def _has_request(exc: Any) -> bool:
    try:
        exc.request  # noqa: B018 - httpx raises RuntimeError when the error has no request
    except RuntimeError:
        return False
    return True


def _whole_seconds(request: RenderRequest, inputs: ReplicateModel) -> int:
    seconds = Fraction(request.frames) / Fraction(request.fps)
    if inputs.durations:
        return nearest_duration(seconds, inputs.durations)
    return max(1, round(seconds))


def _billed_seconds(request: RenderRequest, inputs: ReplicateModel) -> Fraction:
    """The seconds of video a model billed per output second charges: the whole seconds
    sent when it takes a duration, else frames / fps."""
    if inputs.duration:
        return Fraction(_whole_seconds(request, inputs))
    return Fraction(request.frames) / Fraction(request.fps)


def _output_urls(output: Any) -> list[str]:
    """The file URLs of an output: one URL, a list of them, or a dict of them."""
    if isinstance(output, str):
        return [output] if output.startswith(("https://", "http://")) else []
    if isinstance(output, Mapping):
        return [u for v in output.values() for u in _output_urls(v)]
    if isinstance(output, Sequence):
        return [u for item in output for u in _output_urls(item)]
    return []


def _recorded(body: Mapping[str, Any]) -> dict[str, Any]:
    """The input as sent, for the recipe (uploaded files are Replicate file URLs)."""
    return {key: list(v) if isinstance(v, tuple) else v for key, v in body.items()}
