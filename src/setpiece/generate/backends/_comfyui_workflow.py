"""ComfyUI workflow templates: loading, checking and filling them per take.

A template is a workflow in ComfyUI's *API format* (``{node_id: {"class_type",
"inputs"}}``, what 'Save (API Format)' writes) with named placeholders in its
string values. A placeholder that is a whole string value takes the value's own
type (``"seed": "{{seed}}"`` becomes the integer); one inside a longer string is
written as text. Every check runs before anything is sent, so a bad template
costs no GPU time and fails the take for good (``WorkflowError`` is both an
``InvalidInputError`` and a permanent ``RenderError``).

Placeholders: ``{{prompt}}``, ``{{negative}}`` (empty when the request has
none), ``{{seed}}``, ``{{width}}``, ``{{height}}``, ``{{frames}}``, ``{{fps}}``
(an integer, or a float for 24000/1001), ``{{model}}``, ``{{init_image}}``, and
``{{reference_image}}``, ``{{reference_image_2}}``, ... for the request's
references in order. ``{{prompt}}`` and ``{{seed}}`` are required, so a
template that ignores the take cannot pass; so is ``{{init_image}}`` for
image-to-image and image-to-video, and one reference placeholder per reference
given. A placeholder the request cannot fill, or one that Setpiece does not
know (a typo), is refused rather than left in.

Which template a take gets is decided here too (``choose_workflow``): the take's own
(``render --workflow``, the shot's workflow), else ``[generators.comfyui.workflows]``
by take kind (``image``, ``video``, ``image_to_video``), each a file or a table by
number of references (``refs0``, ``refs1``...), else ``workflow``. A template whose
save nodes are all of the other kind (a ``SaveImage`` only, for a video take) is
refused before it is queued (``check_output_kind``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from setpiece.errors import InvalidInputError
from setpiece.generate.base import Mode, RenderError, RenderRequest

__all__ = [
    "KINDS",
    "Workflow",
    "WorkflowError",
    "check_output_kind",
    "choose_workflow",
    "fill_workflow",
    "load_workflow",
    "placeholder_values",
    "take_kind",
    "workflow_fps",
]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_WHOLE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_REFERENCE = re.compile(r"^reference_image(?:_([0-9]+))?$")
_SIMPLE = frozenset(
    {"prompt", "negative", "seed", "width", "height", "frames", "fps", "model", "init_image"}
)
_EXPORT_HINT = (
    "in ComfyUI, export it with Workflow > Export (API) in the new menu, or 'Save (API "
    "Format)' in the old one (shown once 'Enable Dev mode Options' is on in the settings)"
)
KINDS = ("image", "video", "image_to_video")
_REFS_KEY = re.compile(r"^refs([0-9]+)$")
# Save nodes of ComfyUI's core (and VideoHelperSuite's), by what they save. A template with
# only still savers cannot make a video take, and the reverse; custom savers are not judged.
_STILL_SAVERS = frozenset({"SaveImage", "SaveImageWebsocket", "PreviewImage"})
_VIDEO_SAVERS = frozenset(
    {"SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveWEBM", "SaveVideo", "VHS_VideoCombine"}
)


class WorkflowError(InvalidInputError, RenderError):
    """The template or the take's inputs cannot make this take; retrying will not help."""

    code = "invalid_workflow"


@dataclass(frozen=True)
class Workflow:
    """A checked API-format template.

    Args:
        nodes: The parsed template, node id to node.
        source: Where it came from (a path, or "request parameters").
        sha256: Hash of its canonical JSON, recorded on the take.
        placeholders: The placeholder names it uses.
    """

    nodes: dict[str, Any]
    source: str
    sha256: str
    placeholders: frozenset[str]

    def class_type(self, node_id: str) -> str | None:
        node = self.nodes.get(node_id)
        return node.get("class_type") if isinstance(node, dict) else None


def load_workflow(
    spec: str | Path | Mapping[str, Any], base_dir: Path | None = None, *, template: bool = True
) -> Workflow:
    """Reads and checks an API-format template.

    Args:
        spec: A path to a JSON file, or the workflow itself as a mapping.
        base_dir: The folder relative paths are read from (default: the current one).
        template: False for a graph sent before (a recipe's), whose text is not searched
            for placeholders: a prompt may contain braces.

    Returns:
        The checked template.

    Raises:
        WorkflowError: The file is missing, not JSON, the UI format, or has nodes without
            ``class_type``.
    """
    if isinstance(spec, Mapping):
        source = "the workflow in the request parameters"
        data: Any = dict(spec)
    else:
        path = Path(spec).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise WorkflowError(
                f"workflow {path} does not exist; give an API-format JSON file (the comfyui "
                "generator's 'workflow' or 'workflows', a shot's, or render --workflow)"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkflowError(f"cannot read workflow {path}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise WorkflowError(
                f"workflow {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); {_EXPORT_HINT}"
            ) from None
    nodes = _check_api_format(data, source)
    canonical = json.dumps(nodes, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    names = frozenset(_PLACEHOLDER.findall(canonical)) if template else frozenset()
    unknown = sorted(name for name in names if name not in _SIMPLE and not _REFERENCE.match(name))
    if unknown:
        known = ", ".join("{{" + n + "}}" for n in sorted(_SIMPLE)) + ", {{reference_image_N}}"
        guesses = [
            "{{" + close[0] + "}}"
            for n in unknown
            if (close := difflib.get_close_matches(n, [*_SIMPLE, "reference_image"], 1, 0.6))
        ]
        hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
        raise WorkflowError(
            f"workflow {source} uses unknown placeholder(s) "
            + ", ".join("{{" + n + "}}" for n in unknown)
            + f"{hint}; Setpiece fills {known}"
        )
    for name in names:
        match = _REFERENCE.match(name)
        if match and match.group(1) is not None and int(match.group(1)) < 2:
            raise WorkflowError(
                f"workflow {source} uses {{{{{name}}}}}; the first reference is "
                "{{reference_image}}, the next ones {{reference_image_2}}, {{reference_image_3}}..."
            )
    return Workflow(
        nodes=nodes,
        source=source,
        sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        placeholders=names,
    )


def _check_api_format(data: Any, source: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise WorkflowError(
            f"workflow {source} is a JSON {type(data).__name__}, not an API-format workflow "
            f"(an object of nodes); {_EXPORT_HINT}"
        )
    if isinstance(data.get("nodes"), list) and "links" in data:
        raise WorkflowError(
            f"workflow {source} is in ComfyUI's UI format (with 'nodes' and 'links'), "
            f"not the API format that the server runs; {_EXPORT_HINT}"
        )
    if set(data) == {"prompt"} or ("prompt" in data and "client_id" in data):
        raise WorkflowError(
            f"workflow {source} is a whole /prompt request body; keep only the object under "
            "its 'prompt' key"
        )
    if not data:
        raise WorkflowError(f"workflow {source} has no nodes; {_EXPORT_HINT}")
    without = sorted(
        str(node_id)
        for node_id, node in data.items()
        if not (isinstance(node, dict) and isinstance(node.get("class_type"), str))
    )
    if len(without) == len(data):
        raise WorkflowError(
            f"workflow {source} has no node with a class_type, so it is not an API-format "
            f"workflow; {_EXPORT_HINT}"
        )
    if without:
        raise WorkflowError(
            f"workflow {source}: node(s) {', '.join(without)} have no class_type; "
            "every node of an API-format workflow names its class"
        )
    bad_inputs = sorted(
        str(node_id)
        for node_id, node in data.items()
        if not isinstance(node.get("inputs", {}), dict)
    )
    if bad_inputs:
        raise WorkflowError(
            f"workflow {source}: the inputs of node(s) {', '.join(bad_inputs)} are not an object"
        )
    return data


def _number(value: Fraction) -> int | float:
    return value.numerator if value.denominator == 1 else float(value)


def placeholder_values(
    workflow: Workflow,
    request: RenderRequest,
    init_image: str | None,
    references: list[str],
) -> dict[str, Any]:
    """The value of every placeholder the template uses, checked against the request.

    Args:
        workflow: The checked template.
        request: The take to make.
        init_image: The uploaded init image's name on the server, if any.
        references: The uploaded references' names, in request order.

    Raises:
        WorkflowError: A required placeholder is missing, or the request cannot fill one.
    """
    required = {"prompt", "seed"}
    if request.mode in (Mode.IMAGE_TO_IMAGE, Mode.IMAGE_TO_VIDEO):
        required.add("init_image")
    if request.references:
        required.add("reference_image")
    missing = sorted(required - workflow.placeholders)
    if missing:
        why = {
            "prompt": "the take's prompt",
            "seed": "the take's seed",
            "init_image": f"the init image of this {request.mode.value} take",
            "reference_image": "the reference images given",
        }
        raise WorkflowError(
            f"workflow {workflow.source} has no "
            + ", ".join("{{" + n + "}}" for n in missing)
            + " placeholder, so it cannot use "
            + ", ".join(why[n] for n in missing)
            + "; put it where that input goes (e.g. a LoadImage 'image' or a text 'text' value)"
        )
    values: dict[str, Any] = {
        "prompt": request.prompt,
        "negative": request.negative_prompt or "",
        "seed": request.seed,
        "width": request.width,
        "height": request.height,
        "frames": request.frames,
        "fps": _number(request.fps),
    }
    if "model" in workflow.placeholders:
        if not request.model:
            raise WorkflowError(
                f"workflow {workflow.source} uses {{{{model}}}} but no model is configured; "
                "set the generator's model"
            )
        values["model"] = request.model
    if "init_image" in workflow.placeholders:
        if init_image is None:
            raise WorkflowError(
                f"workflow {workflow.source} uses {{{{init_image}}}} but this "
                f"{request.mode.value} take has no init image; give one or use a "
                "workflow without it"
            )
        values["init_image"] = init_image
    slots = sorted(
        1 if m.group(1) is None else int(m.group(1))
        for name in workflow.placeholders
        if (m := _REFERENCE.match(name))
    )
    if len(references) > len(slots):
        raise WorkflowError(
            f"workflow {workflow.source} takes {len(slots)} reference image(s) but the take "
            f"has {len(references)}; add {{{{reference_image_{len(slots) + 1}}}}}... "
            "or give fewer references"
        )
    for slot in slots:
        name = "reference_image" if slot == 1 else f"reference_image_{slot}"
        if slot > len(references):
            raise WorkflowError(
                f"workflow {workflow.source} uses {{{{{name}}}}} but the take has "
                f"{len(references)} reference image(s)"
            )
        values[name] = references[slot - 1]
    return values


def fill_workflow(workflow: Workflow, values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the template with every placeholder replaced.

    Args:
        workflow: The checked template.
        values: From ``placeholder_values``.

    Returns:
        The API-format prompt to send.
    """

    def fill(item: Any) -> Any:
        if isinstance(item, str):
            whole = _WHOLE.match(item)
            if whole:
                return values[whole.group(1)]
            return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), item)
        if isinstance(item, dict):
            return {key: fill(value) for key, value in item.items()}
        if isinstance(item, list):
            return [fill(value) for value in item]
        return item

    filled: dict[str, Any] = fill(workflow.nodes)
    return filled


def take_kind(request: RenderRequest) -> str:
    """The key of ``[generators.comfyui.workflows]`` for this take."""
    if request.mode is Mode.IMAGE_TO_VIDEO:
        return "image_to_video"
    return "video" if request.is_video else "image"


def check_workflows_table(table: Any) -> dict[str, Any]:
    """``[generators.comfyui.workflows]`` checked: kinds to a file or to ``refsN`` = file.

    Raises:
        ValueError: An unknown kind or key, or a value that is not a path.
    """
    if not isinstance(table, Mapping):
        raise ValueError(f"workflows: expected a table, got {type(table).__name__}")
    for kind, value in table.items():
        if kind not in KINDS:
            raise ValueError(f"workflows: unknown take kind {kind!r}; use {', '.join(KINDS)}")
        if isinstance(value, str):
            continue
        if not isinstance(value, Mapping):
            raise ValueError(
                f"workflows.{kind}: expected a file or a table of refs0, refs1..., "
                f"got {type(value).__name__}"
            )
        for key, path in value.items():
            if not _REFS_KEY.match(str(key)):
                raise ValueError(
                    f"workflows.{kind}: unknown key {key!r}; name them by number of "
                    "references: refs0, refs1, refs2..."
                )
            if not isinstance(path, str):
                raise ValueError(
                    f"workflows.{kind}.{key}: expected a file, got {type(path).__name__}"
                )
    return dict(table)


def choose_workflow(
    request: RenderRequest, table: Mapping[str, Any], fallback: Any
) -> tuple[Any, str]:
    """The template for this take and where that choice came from.

    Returns:
        (a path or an inline table, where it came from: "the shot", "render --workflow",
        "the take's workflow" (given in the parameters), "workflows.KIND[.refsN]" or
        "workflow").

    Raises:
        WorkflowError: Nothing is configured for this take.
    """
    given = request.parameters.get("workflow")
    if given is not None:
        return given, str(request.parameters.get("workflow_from") or "the take's workflow")
    kind = take_kind(request)
    entry = table.get(kind)
    refs = f"refs{len(request.references)}"
    if isinstance(entry, str):
        return entry, f"workflows.{kind}"
    if isinstance(entry, Mapping) and refs in entry:
        return entry[refs], f"workflows.{kind}.{refs}"
    if fallback is not None:
        if isinstance(entry, Mapping):  # say why the table did not answer
            n = len(request.references)
            return fallback, (
                f"workflow, as workflows.{kind} has no {refs} for the take's {n} "
                f"reference image(s): it has {', '.join(sorted(entry)) or 'nothing'}"
            )
        return fallback, "workflow"
    what = f"{request.mode.value} take with {len(request.references)} reference image(s)"
    what = ("an " if what[0] in "aeiou" else "a ") + what
    if isinstance(entry, Mapping):
        have = ", ".join(sorted(entry)) or "nothing"
        raise WorkflowError(
            f"no ComfyUI workflow for {what}: [generators.comfyui.workflows] {kind} has "
            f"{have}; add {refs} = \"FILE\", or a 'workflow' to fall back on"
        )
    raise WorkflowError(
        f"no ComfyUI workflow for {what}: set [generators.comfyui.workflows] {kind} = "
        "\"FILE\" (or a table by refs0, refs1...), the generator's 'workflow', or "
        "render --workflow FILE"
    )


def check_output_kind(workflow: Workflow, video: bool) -> None:
    """Refuses a template whose known save nodes all save the other kind of take.

    Raises:
        WorkflowError: Only still savers for a video take, or only video savers for a still.
    """
    classes = {str(node.get("class_type")) for node in workflow.nodes.values()}
    stills, videos = classes & _STILL_SAVERS, classes & _VIDEO_SAVERS
    if video and stills and not videos and not classes - _STILL_SAVERS - _KNOWN_OTHERS:
        raise WorkflowError(
            f"workflow {workflow.source} saves stills only ({', '.join(sorted(stills))}) but "
            "this is a video take; end it with SaveWEBM, SaveVideo or SaveAnimatedWEBP, or set "
            "[generators.comfyui.workflows] video"
        )
    if not video and videos and not stills and not classes - _VIDEO_SAVERS - _KNOWN_OTHERS:
        raise WorkflowError(
            f"workflow {workflow.source} saves video only ({', '.join(sorted(videos))}) but "
            "this is a still take; end it with SaveImage, or set "
            "[generators.comfyui.workflows] image"
        )


# Core nodes that save nothing: with only these and still savers, a graph makes no video.
_KNOWN_OTHERS = frozenset(
    {
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "EmptyImage",
        "EmptyLatentImage",
        "KSampler",
        "KSamplerAdvanced",
        "VAEDecode",
        "VAEEncode",
        "LoadImage",
        "ImageScale",
        "LoraLoader",
        "ControlNetLoader",
        "ControlNetApply",
        "CreateVideo",
        "PreviewAny",
    }
)
_RATE_INPUTS = ("fps", "frame_rate")


def workflow_fps(workflow: Workflow, node_id: str, request: RenderRequest) -> Fraction:
    """The frame rate a save node writes: its own ``fps`` (or ``frame_rate``) input, or
    that of the node its ``video`` comes from (SaveVideo reads CreateVideo's); the
    request's rate when that input is ``{{fps}}`` or not found."""
    seen: set[str] = set()
    current: str | None = node_id
    while current is not None and current not in seen:
        seen.add(current)
        node = workflow.nodes.get(current)
        inputs = node.get("inputs", {}) if isinstance(node, dict) else {}
        for name in _RATE_INPUTS:
            value = inputs.get(name)
            if isinstance(value, str) and _WHOLE.match(value):
                return Fraction(request.fps)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                if abs(float(value) - float(request.fps)) < 1e-6:
                    return Fraction(request.fps)
                return Fraction(value).limit_denominator(1001)
        link = inputs.get("video") or inputs.get("images")
        current = str(link[0]) if isinstance(link, list) and len(link) == 2 else None
    return Fraction(request.fps)
