"""The ``comfyui`` generator: takes made by a ComfyUI server, from a workflow the project keeps.

What the workflow does (which model, text or video, how the reference is used)
is the user's; Setpiece fills the take into its placeholders (see
``_comfyui_workflow``), queues it with ``POST /prompt``, follows it over the
WebSocket, lists the results from ``/history`` and downloads one file with
``/view``. Input images go up through ``/upload/image`` first.

Decisions:

* **A retry finds its earlier run.** The ``prompt_id`` is a UUID4 made from the
  take's ``idempotency_key``; before queueing, the queue and the history are
  asked for it, so a render retried after a crash attaches to the run still
  going, or downloads the one already finished, instead of paying twice.
* **The WebSocket is for speed, the history for truth.** Messages are filtered
  by ``prompt_id``; when the socket says nothing for ``poll_s`` seconds, drops,
  or cannot be opened (a proxy), the history is polled, so a lost message
  never hangs a take. The whole run is bounded by ``timeout_s``, after which
  the prompt is interrupted (or taken off the queue) and the error is transient.
* **Retry or not** is decided in ``_comfyui_client``: down, slow, 429, 5xx and
  out of memory are transient; a refused workflow, a failing node, an
  interrupted run and answers that are not ComfyUI's are not.
* **No partial media**: downloads go to a temporary name in the work folder and
  are renamed when complete and non-empty.
* **Only saved files are takes.** A 200 whose ``node_errors`` is not empty is a
  refused workflow (the server would run only its valid outputs: a preview, text),
  so the prompt is stopped and the take fails naming the nodes; files of type
  ``temp`` (PreviewImage) are never a take.
* **A video take stays a video at the request's rate**: animated WebP and PNG,
  WEBM and MP4 outputs are read by ``_comfyui_media`` at the save node's fps.
* **The graph sent is kept**: after substitution it is written beside the take
  (``RenderResult.workflow``), and the queue stores it content-addressed with the
  take (the recipe's ``workflow_media``); ``render --from-recipe`` sends it again as it
  was (``parameters["workflow_exact"]``). A take's recipe names the template's file as
  ``workflow_path`` (a replay keeps its original's), never as ``workflow``, which in a
  request is what to run (``_recipe_parameters``).
* **Which workflow** a take gets is chosen, and its placeholders checked, in
  ``check``, which the queue calls for every take before anything is queued
  (``_comfyui_workflow.choose_workflow``).
* **Clients**: httpx for HTTP (time-outs per phase, streaming downloads,
  multipart, well kept, already used by other backends) and ``websockets``' sync
  client for the socket (``recv(timeout=)`` makes the wait loop a plain loop,
  no event loop or callback thread; the most used Python WebSocket library).
  Both are the optional ``comfyui`` extra, imported only inside a render.

Configuration (``[generators.comfyui]``, read into ``ComfyUISettings``; unknown keys
are refused): ``url`` (default ``http://127.0.0.1:8188``), ``workflow`` (API-format
JSON; relative to the project folder; the fallback), ``workflows`` (a table by take
kind, ``image``, ``video``, ``image_to_video``, each a file or a table by number of
references, ``refs0``, ``refs1``...), ``model`` (the ``{{model}}``), ``timeout_s`` (600), ``connect_timeout_s`` (5, also the
up-check), ``http_timeout_s`` (60), ``poll_s`` (5), ``headers`` (sent with every
request), ``output_node`` (which save node's file is the take, when several).
Request parameters ``workflow`` and ``output_node`` override them per take.

Cost: compute seconds, measured by the server, in ``gpu_seconds`` when its
``/system_stats`` lists a GPU device and ``compute_seconds`` otherwise: the time between the
run's ``execution_start`` and ``execution_success`` in its history (milliseconds stamps);
when the history gives no stamps, the wall time from queueing the prompt to its outputs.
``quote`` stays None: the render queue estimates from the generator's earlier takes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from setpiece.config import setting
from setpiece.generate.backends._comfyui_media import as_take
from setpiece.generate.backends._comfyui_workflow import (
    Workflow,
    WorkflowError,
    check_output_kind,
    check_workflows_table,
    choose_workflow,
    fill_workflow,
    load_workflow,
    placeholder_values,
    workflow_fps,
)
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
    WorkflowChoice,
)

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

    from setpiece.generate.backends._comfyui_client import ComfyClient

__all__ = [
    "ComfyUIGenerator",
    "ComfyUISettings",
    "WorkflowError",
    "load_workflow",
    "prompt_id_for",
]

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8188"
_STILL_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
_VIDEO_SUFFIXES = frozenset({".mp4", ".webm", ".mov", ".mkv", ".avi", ".gif"})
# Binary WebSocket frames: 4-byte event type (1: an image), 4-byte format (1: JPEG, 2: PNG).
_BINARY_IMAGE = 1
_BINARY_FORMATS = {1: ".jpg", 2: ".png"}
_OOM = re.compile(r"out of memory|allocation on device", re.IGNORECASE)


def prompt_id_for(idempotency_key: object | None) -> str:
    """The ``prompt_id`` of a take: a UUID4 from its idempotency key, or a random one."""
    if idempotency_key is None or idempotency_key == "":
        return str(uuid.uuid4())
    digest = hashlib.sha256(f"setpiece-comfyui:{idempotency_key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


@dataclass(frozen=True)
class ComfyUISettings(GeneratorSettings):
    """``[generators.comfyui]`` (the module docstring lists the keys)."""

    url: str = DEFAULT_URL
    workflow: Any = None  # a path (relative to the project folder) or an API-format table
    model: str | None = None
    timeout_s: float = setting(600.0, positive=True)
    connect_timeout_s: float = setting(5.0, positive=True)
    http_timeout_s: float = setting(60.0, positive=True)
    poll_s: float = setting(5.0, positive=True)
    headers: dict[str, str] = field(default_factory=dict)
    output_node: str | None = None
    workflows: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        url = self.url.rstrip("/")
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(
                f"url: {url!r} is not an http:// or https:// address; e.g. {DEFAULT_URL}"
            )
        object.__setattr__(self, "url", url)
        if self.workflow is not None and not isinstance(self.workflow, str | Mapping):
            raise ValueError(
                f"workflow: expected a path or a table, got {type(self.workflow).__name__}"
            )
        object.__setattr__(self, "workflows", check_workflows_table(self.workflows))


class _Watch:
    """Follows one prompt's WebSocket messages: progress, its end, and images sent in frames."""

    def __init__(self, prompt_id: str, workflow: Workflow, progress: Progress | None) -> None:
        self.prompt_id = prompt_id
        self.workflow = workflow
        self.progress = progress
        self.reported = 0.0
        self.node: str | None = None
        self.succeeded = False
        self.running = False  # an earlier try's prompt is still queued or running
        self.finished = False  # `executing` with node null: the history is written
        self.frames: list[tuple[str, bytes]] = []
        self.sent: dict[str, Any] | None = None  # the graph queued, after substitution
        self.entry: dict[str, Any] | None = None  # the finished run's history entry

    def feed(self, message: str | bytes) -> None:
        """Takes one frame.

        Raises:
            RenderError: The run failed or was interrupted.
        """
        if isinstance(message, bytes):
            self._binary(message)
            return
        try:
            event = json.loads(message)
        except json.JSONDecodeError:
            log.debug("ignoring a WebSocket text frame that is not JSON: %.80s", message)
            return
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            return
        kind, data = event.get("type"), event["data"]
        if data.get("prompt_id") != self.prompt_id:
            return
        if kind == "executing":
            node = data.get("node")
            self.node = None if node is None else str(node)
            if node is None:
                self.finished = True
        elif kind == "progress":
            value, maximum = data.get("value"), data.get("max")
            if isinstance(value, int | float) and isinstance(maximum, int | float) and maximum > 0:
                self.report(min(value / maximum, 0.99))
        elif kind == "execution_success":
            self.succeeded = True
        elif kind == "execution_error":
            raise execution_error(data)
        elif kind == "execution_interrupted":
            raise interrupted_error(data)

    def _binary(self, frame: bytes) -> None:
        if len(frame) <= 8 or self.node is None:
            return
        if self.workflow.class_type(self.node) != "SaveImageWebsocket":
            return  # a sampler's preview, not a result
        event = int.from_bytes(frame[:4], "big")
        suffix = _BINARY_FORMATS.get(int.from_bytes(frame[4:8], "big"))
        if event == _BINARY_IMAGE and suffix:
            self.frames.append((suffix, frame[8:]))

    def report(self, fraction: float) -> None:
        # Monotonic: a second sampler starting at step 0 does not send the bar back.
        if self.progress is not None and fraction > self.reported:
            self.reported = fraction
            self.progress(fraction)


def execution_error(data: Mapping[str, Any]) -> RenderError:
    """The error for an ``execution_error`` message: transient only when memory ran out."""
    kind = str(data.get("exception_type") or "error")
    message = " ".join(str(data.get("exception_message") or "").split())
    oom = (
        "OutOfMemory" in kind
        or kind.rsplit(".", 1)[-1] == "MemoryError"
        or bool(_OOM.search(message))
    )
    where = f"node {data.get('node_id', '?')} ({data.get('node_type', '?')})"
    advice = (
        "; it ran out of memory, and will be retried"
        if oom
        else "; fix the workflow or its inputs and render again"
    )
    return RenderError(f"ComfyUI failed in {where}: {kind}: {message}{advice}", transient=oom)


def interrupted_error(data: Mapping[str, Any]) -> RenderError:
    where = f"node {data.get('node_id', '?')} ({data.get('node_type', '?')})"
    return RenderError(
        f"the ComfyUI run was interrupted at {where} by someone at the server; render again"
    )


def billed_unit(stats: Mapping[str, Any]) -> str:
    """``gpu_seconds`` when the server runs on an accelerator, else ``compute_seconds``.

    ``GET /system_stats`` lists the server's torch devices with their ``type``: ``cpu`` on
    a server started with ``--cpu``, ``cuda`` (or ``xpu``, ``mps``...) on one with a GPU.
    """
    devices = stats.get("devices")
    kinds = (
        {
            str(device.get("type") or "").lower()
            for device in devices or []
            if isinstance(device, Mapping)
        }
        if isinstance(devices, list)
        else set()
    )
    return "gpu_seconds" if kinds - {"", "cpu"} else "compute_seconds"


def execution_seconds(entry: Mapping[str, Any] | None) -> float | None:
    """Seconds the server spent on the run, from its history's ``execution_start`` and
    ``execution_success`` timestamps (milliseconds); None when either is missing."""
    status = entry.get("status") if isinstance(entry, Mapping) else None
    stamps: dict[str, float] = {}
    for item in status.get("messages") or [] if isinstance(status, Mapping) else []:
        if isinstance(item, list) and len(item) == 2 and isinstance(item[1], Mapping):
            stamp = item[1].get("timestamp")
            if isinstance(stamp, int | float) and not isinstance(stamp, bool):
                stamps[str(item[0])] = float(stamp)
    if "execution_start" not in stamps or "execution_success" not in stamps:
        return None
    return max(0.0, (stamps["execution_success"] - stamps["execution_start"]) / 1000)


def _history_outcome(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The outputs of a finished run, None while unfinished.

    Raises:
        RenderError: The run ended in an error.
    """
    if entry is None:
        return None
    status = entry.get("status")
    if isinstance(status, dict) and status.get("status_str") == "error":
        for item in status.get("messages") or []:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict):
                if item[0] == "execution_error":
                    raise execution_error(item[1])
                if item[0] == "execution_interrupted":
                    raise interrupted_error(item[1])
        raise RenderError("the ComfyUI run ended in an error without saying which; see its log")
    completed = status.get("completed") if isinstance(status, dict) else "outputs" in entry
    if not completed:
        return None
    outputs = entry.get("outputs", {})
    if not isinstance(outputs, dict):
        raise RenderError(f"ComfyUI history lists outputs in an unexpected shape: {outputs!r:.120}")
    return outputs


def _node_order(node_id: str) -> tuple[int, int, str]:
    return (0, int(node_id), "") if node_id.isdigit() else (1, 0, node_id)


def _suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return suffix if suffix[1:].isalnum() else ""


def choose_output(
    outputs: Mapping[str, Any], video: bool, output_node: str | None
) -> tuple[str, dict[str, Any]] | None:
    """The file that is the take: of the wanted kind, saved (not a preview), first node first."""
    found: list[tuple[int, tuple[int, int, str], int, str, dict[str, Any]]] = []
    for node_id, node_out in outputs.items():
        if output_node is not None and str(node_id) != output_node:
            continue
        if not isinstance(node_out, dict):
            continue
        animated = node_out.get("animated") or []
        for key in ("videos", "gifs", "images"):
            items = node_out.get(key) or []
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                if not (isinstance(item, dict) and isinstance(item.get("filename"), str)):
                    continue
                suffix = _suffix(item["filename"])
                if suffix not in _STILL_SUFFIXES | _VIDEO_SUFFIXES:
                    continue
                is_video = (
                    key != "images"
                    or suffix in _VIDEO_SUFFIXES
                    or (
                        isinstance(animated, list)
                        and index < len(animated)
                        and animated[index] is True
                    )
                )
                if is_video != video or item.get("type", "output") != "output":
                    continue  # a `temp` file is a preview, never a take
                found.append((0, _node_order(str(node_id)), index, str(node_id), item))
    if not found:
        return None
    best = min(found, key=lambda f: f[:3])
    return best[3], best[4]


def _recipe_parameters(request: RenderRequest, spec: Any, exact: bool) -> dict[str, Any]:
    """The take's parameters, its workflow named without ambiguity.

    The request's ``workflow`` is what to run (a path, an inline table, or in a replay the
    exact graph); the recipe says instead ``workflow_path``, the file the template was read
    from (a replay keeps its original take's; None for an inline table), and
    ``workflow_template``, an inline table given instead of a file. The exact graph sent is
    ``workflow_media``, added when the queue stores it (``generate.queue._recipe``).
    """
    parameters = dict(request.parameters)
    parameters.pop("workflow", None)
    parameters.pop("workflow_exact", None)
    if not exact:
        parameters["workflow_path"] = spec if isinstance(spec, str) else None
        if isinstance(spec, Mapping):
            parameters["workflow_template"] = dict(spec)
    else:
        parameters.setdefault("workflow_path", None)
    return parameters


def _previews(outputs: Mapping[str, Any]) -> list[str]:
    """The nodes that left only temporary files (previews)."""
    return [
        str(node_id)
        for node_id, out in outputs.items()
        if isinstance(out, dict)
        and any(
            isinstance(item, dict) and item.get("type") == "temp"
            for key in ("images", "gifs", "videos")
            for item in (out.get(key) or [])
            if isinstance(out.get(key), list)
        )
    ]


class ComfyUIGenerator(Generator):
    """Makes takes with a ComfyUI server and an API-format workflow template.

    Args:
        settings: ``[generators.comfyui]``: ``url``, ``workflow``, ``model``, ``timeout_s``,
            ``connect_timeout_s``, ``http_timeout_s``, ``poll_s``, ``headers``,
            ``output_node``, ``concurrency`` (module docstring).
        project_dir: The project folder, where a relative ``workflow`` path starts.

    Raises:
        InvalidInputError: A configuration value is unusable.
    """

    name: ClassVar[str] = "comfyui"
    Settings: ClassVar[type[GeneratorSettings]] = ComfyUISettings
    settings: ComfyUISettings
    origin: ClassVar[Origin] = Origin.TRAINED
    requires: ClassVar[tuple[str, ...]] = ("httpx", "websockets")
    install_hint: ClassVar[str | None] = "pip install 'setpiece[comfyui]'"
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        modes=frozenset(Mode),
        reference_images=True,
        seeds=True,
    )
    takes_workflows: ClassVar[bool] = True

    def __init__(
        self,
        settings: GeneratorSettings | Mapping[str, Any] | None = None,
        *,
        project_dir: Path | None = None,
    ) -> None:
        super().__init__(settings, project_dir=project_dir)

    def billing_units(self) -> tuple[str, ...]:
        """Seconds measured by the server (it cannot quote): ``gpu_seconds`` on a GPU
        server, ``compute_seconds`` on a CPU one (``billed_unit``); which one is known only
        once the server answers, so both are weighed."""
        return ("gpu_seconds", "compute_seconds")

    @classmethod
    def missing_settings(cls, settings: GeneratorSettings) -> list[str]:
        """A workflow: without one the server has nothing to run."""
        workflow = getattr(settings, "workflow", None)
        return ["[generators.comfyui] workflow"] if workflow is None else []

    def reachable(self) -> bool | None:
        """Asks the server for ``GET /system_stats`` (runs nothing).

        Raises:
            RenderError: The server does not answer, or refuses the headers.
        """
        from setpiece.generate.backends._comfyui_client import ComfyClient

        s = self.settings
        with ComfyClient(
            s.url,
            headers=s.headers,
            connect_timeout=s.connect_timeout_s,
            http_timeout=s.connect_timeout_s,
        ) as client:
            client.system_stats()
        return True

    def render(
        self, request: RenderRequest, workdir: Path, progress: Progress | None = None
    ) -> RenderResult:
        """Makes one take on the ComfyUI server into ``workdir``.

        Raises:
            InvalidInputError: The request is beyond the capabilities.
            WorkflowError: The workflow or the inputs cannot make this take (nothing was sent).
            RenderError: The server is down, refused the workflow, failed or timed out.
        """
        self.check(request)
        settings = self.settings
        exact = bool(request.parameters.get("workflow_exact"))
        spec, chosen = choose_workflow(request, settings.workflows, settings.workflow)
        workflow = load_workflow(spec, self.project_dir, template=not exact)
        # Every refusal before any request: the names are placeholders until uploaded.
        inputs = self._inputs(request, workflow, exact)
        if not exact:
            placeholder_values(workflow, request, *self._names(inputs))
        output_node = request.parameters.get("output_node", settings.output_node)
        output_node = None if output_node is None else str(output_node)
        if output_node is not None and output_node not in workflow.nodes:
            raise WorkflowError(
                f"output_node {output_node!r} is not a node of workflow {workflow.source}"
            )
        key = request.idempotency_key or request.parameters.get("idempotency_key")
        prompt_id = prompt_id_for(key)
        workdir.mkdir(parents=True, exist_ok=True)

        from setpiece.generate.backends._comfyui_client import ComfyClient

        with ComfyClient(
            settings.url,
            headers=settings.headers,
            connect_timeout=settings.connect_timeout_s,
            http_timeout=settings.http_timeout_s,
        ) as client:
            stats = client.system_stats()
            system = stats.get("system")
            version = system.get("comfyui_version") if isinstance(system, dict) else None
            watch = _Watch(prompt_id, workflow, progress)
            outputs = self._earlier(client, watch) if key is not None else None
            started = time.monotonic()
            if outputs is None:
                outputs = self._run(client, request, workflow, inputs, watch, exact)
            wall = time.monotonic() - started
            path, item = self._save(client, outputs, watch, request, output_node, workdir)
        fps = workflow_fps(workflow, str(item.get("node")), request)
        path = as_take(path, request, fps, f"comfyui-{watch.prompt_id}")
        sent = _write_sent(watch, workdir)
        watch.report(1.0)
        parameters = _recipe_parameters(request, spec, exact)
        parameters.update(
            workflow_choice=chosen,
            workflow_sha256=workflow.sha256,
            prompt_id=watch.prompt_id,
            comfyui_version=version,
            output=item,
        )
        if request.is_video:
            parameters["fps"] = f"{fps.numerator}/{fps.denominator}"
        seconds = execution_seconds(watch.entry)
        cost = Cost(
            amount=Decimal(f"{seconds if seconds is not None else wall:.3f}"),
            unit=billed_unit(stats),
        )
        parameters["cost_measured_by"] = "history" if seconds is not None else "wall time"
        return RenderResult(
            path=path, model=request.model, parameters=parameters, workflow=sent, cost=cost
        )

    def check(self, request: RenderRequest) -> None:
        """Refuses a take beyond the capabilities, or one no configured workflow can make.

        The workflow is chosen (``choose_workflow``), read, and its placeholders checked
        against the take, so a shot no workflow fits is refused before it is queued.

        Raises:
            InvalidInputError: The request is beyond the capabilities.
            WorkflowError: No workflow, or the chosen one cannot make this take.
        """
        super().check(request)
        try:
            exact = bool(request.parameters.get("workflow_exact"))
            spec, chosen = choose_workflow(request, self.settings.workflows, self.settings.workflow)
            workflow = load_workflow(spec, self.project_dir, template=not exact)
            if not exact:
                init = "init" if request.init_image is not None else None
                references = [f"reference-{i}" for i in range(len(request.references))]
                try:
                    placeholder_values(workflow, request, init, references)
                except WorkflowError as exc:
                    raise WorkflowError(f"{exc} (chosen by {chosen})") from None
            check_output_kind(workflow, request.is_video)
        except WorkflowError as exc:
            shot = request.brief.code if request.brief is not None else None
            if shot:
                raise WorkflowError(f"shot {shot}: {exc}") from None
            raise

    def workflow_for(self, request: RenderRequest) -> WorkflowChoice:
        """The workflow this take would be sent with: its file (or an inline graph, or the
        exact graph of the take replayed), what chose it, and its hash.

        Raises:
            WorkflowError: No workflow, or it cannot be read.
        """
        exact = bool(request.parameters.get("workflow_exact"))
        spec, chosen = choose_workflow(request, self.settings.workflows, self.settings.workflow)
        workflow = load_workflow(spec, self.project_dir, template=not exact)
        if exact:
            source = "the exact graph kept with the take replayed"
        elif isinstance(spec, Mapping):
            source = "an inline graph"
        else:
            source = workflow.source
        return WorkflowChoice(source=source, chosen_by=chosen, sha256=workflow.sha256)

    # -- steps ----------------------------------------------------------------------

    @staticmethod
    def _earlier(client: ComfyClient, watch: _Watch) -> dict[str, Any] | None:
        """The outputs of an earlier try at this take that finished, else None (and
        ``watch.running`` set when it is still running or waiting)."""
        queued = client.queued()
        outputs = None
        if watch.prompt_id in queued:
            watch.running = True
            watch.sent = queued[watch.prompt_id]
        else:
            entry = client.history(watch.prompt_id)
            with contextlib.suppress(RenderError):  # an earlier try failed: run again
                outputs = _history_outcome(entry)
            if outputs is not None:
                watch.sent = _history_graph(entry)
                watch.entry = entry
        if watch.running or outputs is not None:
            log.info("ComfyUI prompt %s found from an earlier try: resuming", watch.prompt_id)
        return outputs

    @staticmethod
    def _inputs(request: RenderRequest, workflow: Workflow, exact: bool) -> list[tuple[str, Path]]:
        """The image files to upload, as (placeholder, path), each checked to exist."""
        wanted: list[tuple[str, Path]] = []
        if request.init_image is not None and (exact or "init_image" in workflow.placeholders):
            wanted.append(("init_image", request.init_image))
        for index, reference in enumerate(request.references):
            wanted.append(
                ("reference_image" if index == 0 else f"reference_image_{index + 1}", reference)
            )
        for label, path in wanted:
            if not Path(path).is_file():
                raise WorkflowError(f"the {label.replace('_', ' ')} {path} is not a file")
        return wanted

    @staticmethod
    def _names(pairs: Sequence[tuple[str, object]]) -> tuple[str | None, list[str]]:
        """The init image's name and the references' names, from (placeholder, name) pairs."""
        names = {label: str(value) for label, value in pairs}
        references = [
            value for label, value in names.items() if label.startswith("reference_image")
        ]
        return names.get("init_image"), references

    def _run(
        self,
        client: ComfyClient,
        request: RenderRequest,
        workflow: Workflow,
        inputs: list[tuple[str, Path]],
        watch: _Watch,
        exact: bool,
    ) -> dict[str, Any]:
        """Queues the prompt (unless already running) and waits for its outputs."""
        client_id = uuid.uuid4().hex
        with client.events(client_id) as events:
            if not watch.running:
                uploaded = [(label, client.upload(Path(path))) for label, path in inputs]
                if exact:
                    prompt = _renamed(workflow.nodes, inputs, uploaded)
                else:
                    values = placeholder_values(workflow, request, *self._names(uploaded))
                    prompt = fill_workflow(workflow, values)
                watch.sent = prompt
                served = client.submit(prompt, client_id, watch.prompt_id)
                if served != watch.prompt_id:  # a server too old to take our id
                    log.info("ComfyUI runs prompt %s as %s", watch.prompt_id, served)
                    watch.prompt_id = served
            return self._wait(client, events, watch)

    def _wait(
        self, client: ComfyClient, events: ClientConnection | None, watch: _Watch
    ) -> dict[str, Any]:
        from websockets.exceptions import ConnectionClosed

        settings = self.settings
        deadline = time.monotonic() + settings.timeout_s
        ended = False  # the server said the run is over (success or failure)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RenderError(
                        f"ComfyUI did not finish prompt {watch.prompt_id} within "
                        f"{settings.timeout_s:g} s (timeout_s); it was interrupted",
                        transient=True,
                    )
                if events is not None and not watch.finished:
                    try:
                        message = events.recv(timeout=min(remaining, settings.poll_s))
                    except TimeoutError:
                        message = None  # quiet for poll_s: ask the history
                    except ConnectionClosed as exc:
                        log.warning("ComfyUI's WebSocket closed (%s); polling its history", exc)
                        events, message = None, None
                    if message is not None:
                        try:
                            watch.feed(message)
                        except RenderError:
                            ended = True
                            raise
                        if not watch.finished:
                            continue
                else:
                    time.sleep(min(0.1 if watch.finished else settings.poll_s, remaining))
                entry = client.history(watch.prompt_id)
                try:
                    outputs = _history_outcome(entry)
                except RenderError:
                    ended = True
                    raise
                if outputs is not None:
                    ended = True
                    watch.entry = entry
                    return outputs
        except BaseException:
            if not ended:
                client.cancel(watch.prompt_id)
            raise

    def _save(
        self,
        client: ComfyClient,
        outputs: dict[str, Any],
        watch: _Watch,
        request: RenderRequest,
        output_node: str | None,
        workdir: Path,
    ) -> tuple[Path, dict[str, Any]]:
        """Downloads the take's file (or writes the image sent over the socket)."""
        chosen = choose_output(outputs, request.is_video, output_node)
        stem = f"comfyui-{watch.prompt_id}"
        if chosen is not None:
            node_id, item = chosen
            path = workdir / f"{stem}{_suffix(item['filename'])}"
            client.download(item, path)
            record = {
                "node": node_id,
                "filename": item["filename"],
                "subfolder": item.get("subfolder", ""),
                "type": item.get("type", "output"),
            }
            return path, record
        if watch.frames and not request.is_video:
            suffix, content = watch.frames[0]
            path = workdir / f"{stem}{suffix}"
            _write_atomically(path, content)
            return path, {"node": "websocket", "filename": path.name}
        kind = "a video" if request.is_video else "an image"
        previews = _previews(outputs)
        if previews and (output_node is None or output_node in previews):
            raise RenderError(
                f"the ComfyUI workflow left only temporary previews (node(s) "
                f"{', '.join(previews)}), which are never a take; save {kind} with "
                + ("SaveWEBM or SaveVideo" if request.is_video else "SaveImage")
            )
        listed = ", ".join(
            f"{node} ({', '.join(k for k in out if isinstance(out, dict))})"
            for node, out in outputs.items()
            if isinstance(out, dict)
        )
        raise RenderError(
            f"the ComfyUI workflow finished without saving {kind}"
            + (f" from node {output_node}" if output_node else "")
            + f" (outputs: {listed or 'none'}); end it with a save node "
            + ("(SaveWEBM, SaveVideo, SaveAnimatedWEBP)" if request.is_video else "(SaveImage)")
        )


def _history_graph(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The graph a history entry says was queued: ``prompt`` is [number, id, graph, ...]."""
    item = entry.get("prompt") if isinstance(entry, dict) else None
    if isinstance(item, list) and len(item) > 2 and isinstance(item[2], dict):
        return item[2]
    return None


def _renamed(
    nodes: dict[str, Any], inputs: list[tuple[str, Path]], uploaded: list[tuple[str, str]]
) -> dict[str, Any]:
    """A graph sent before, its inputs' names replaced by what the server named them now.

    Uploads are named by content (``ComfyClient.upload``), so the names are the same
    unless the server renamed a file to avoid another of that name.
    """
    from setpiece.generate.backends._comfyui_client import upload_name

    names = {upload_name(path): new for (_, path), (_, new) in zip(inputs, uploaded, strict=True)}

    def swap(item: Any) -> Any:
        if isinstance(item, str):
            return names.get(item, item)
        if isinstance(item, dict):
            return {key: swap(value) for key, value in item.items()}
        if isinstance(item, list):
            return [swap(value) for value in item]
        return item

    swapped: dict[str, Any] = swap(nodes)
    return swapped


def _write_sent(watch: _Watch, workdir: Path) -> Path | None:
    """The graph sent, as canonical JSON beside the take (the same graph, the same bytes)."""
    if watch.sent is None:
        return None
    path = workdir / f"comfyui-{watch.prompt_id}.workflow.json"
    text = json.dumps(watch.sent, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    _write_atomically(path, text.encode())
    return path


def _write_atomically(path: Path, content: bytes) -> None:
    import os
    import tempfile

    if not content:
        raise RenderError(f"ComfyUI sent an empty file for {path.name}")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".comfyui-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
