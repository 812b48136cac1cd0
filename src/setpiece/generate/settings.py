"""The render side's own tables of setpiece.toml: ``[prompts]``, ``[render]`` and ``[ray]``.

Each is a frozen dataclass read by :func:`setpiece.config.load_section`, so its defaults
live here once and a wrong key or value is refused the way every other section's is::

    [prompts]
    template = "{framing} of {subjects}. {description}. {setting}. {camera}. {style}"
    negative = "blurry, extra fingers, watermark"
    style = "Noir"

    [render]
    lease_seconds = 60          # how long a silent worker keeps a job
    outage_minutes = 10         # how long jobs wait for a generator that cannot be reached
    confirm_over = { credits = 0, usd = 0 }  # a render quoted above these asks (or --yes)

    [ray]
    address = "ray://render-head.studio.lan:10001"
    gpus_per_task = 1

The generators' own tables (``[generators.NAME]``) are declared by each backend.

The prompt template is read here, once, by its own small grammar rather than
``str.format``: ``format`` would let ``{__class__.__mro__}`` or ``{framing.x}`` reach
into Python objects and fail with a bare ``ValueError`` on ``{framing``. A template is
text with placeholders ``{name}``, each one of ``PROMPT_FIELDS`` exactly (no attribute
or index access, no conversion, no format spec), and ``{{`` / ``}}`` for braces of its
own; anything else is refused, naming the placeholder, when the ``[prompts]`` table is
loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from setpiece.config import load_section, setting

__all__ = [
    "DEFAULT_TEMPLATE",
    "PROMPT_FIELDS",
    "ConfirmOver",
    "PromptSettings",
    "RaySettings",
    "RenderSettings",
    "fill_template",
    "prompt_settings",
    "ray_settings",
    "read_template",
    "render_settings",
]

DEFAULT_TEMPLATE = "{framing} of {subjects}. {description}. {setting}. {camera}. {style}"
PROMPT_FIELDS = (
    "framing",
    "subjects",
    "description",
    "setting",
    "camera",
    "style",
    "shot",
    "scene",
    "heading",
)
# A doubled brace, a placeholder without braces inside it, or a brace on its own.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def read_template(template: str) -> list[tuple[str, str | None]]:
    """A prompt template as its parts: (text, None) for text, ("", name) for a placeholder.

    Args:
        template: The ``[prompts]`` template.

    Returns:
        The parts in order; a placeholder's name is one of ``PROMPT_FIELDS``.

    Raises:
        ValueError: A brace left open or on its own, or a placeholder that is not one of
            ``PROMPT_FIELDS`` exactly, naming it and what to write instead.
    """
    parts: list[tuple[str, str | None]] = []
    at = 0
    for match in _TOKEN.finditer(template):
        parts.append((template[at : match.start()], None))
        at = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append((token[0], None))
        elif match.group(1) is not None:
            parts.append(("", _field(match.group(1))))
        elif token == "{":
            rest = template[match.start() : match.start() + 30]
            raise ValueError(
                f"{rest!r} opens a placeholder that is not closed: write {{name}} with one "
                f"of {', '.join(PROMPT_FIELDS)}, or {{{{ for a brace of its own"
            )
        else:
            raise ValueError(
                f"a '}}' without its '{{' at character {match.start() + 1}: write }}}} for "
                "a brace of its own"
            )
    parts.append((template[at:], None))
    return [part for part in parts if part != ("", None)]


def _field(inside: str) -> str:
    """The placeholder ``{inside}``'s field name, if it names one and nothing more."""
    if inside in PROMPT_FIELDS:
        return inside
    fields = ", ".join(PROMPT_FIELDS)
    base = re.split(r"[.\[!:]", inside, maxsplit=1)[0].strip()
    if base in PROMPT_FIELDS:
        raise ValueError(
            f"placeholder {{{inside}}} is not allowed: a placeholder is a plain name (no "
            f"attribute, index, conversion or format), write {{{base}}}"
        )
    if not inside.strip():
        raise ValueError(f"placeholder {{{inside}}} names nothing: use one of {fields}")
    raise ValueError(f"unknown placeholder {{{inside}}}: use {fields}")


def fill_template(template: str, values: dict[str, str]) -> str:
    """The template with each placeholder replaced by its value.

    Args:
        template: The ``[prompts]`` template.
        values: A value for each of ``PROMPT_FIELDS``.

    Raises:
        ValueError: The template is not one ``read_template`` accepts.
    """
    return "".join(values[name] if name else text for text, name in read_template(template))


@dataclass(frozen=True)
class PromptSettings:
    """How a shot's prompt is composed (:func:`setpiece.generate.prompts.compose`).

    Attributes:
        template: The prompt's template (``read_template``'s grammar), checked when the
            table is loaded. Left empty, the default template.
        negative: The negative prompt given to every render, or None.
        style: A Style entry of the bible used unless the render names another, or None.
    """

    template: str = setting(DEFAULT_TEMPLATE, help="the prompt's template")
    negative: str | None = setting(None, help="the negative prompt of every render")
    style: str | None = setting(None, help="a Style entry of the bible")

    def __post_init__(self) -> None:
        try:
            read_template(self.template)
        except ValueError as exc:
            raise ValueError(f"template: {exc}") from None


@dataclass(frozen=True)
class ConfirmOver:
    """``[render] confirm_over``: per unit, the quote above which a render asks first.

    By default any hosted render that costs something (credits or dollars) asks, so a new
    user sees the quote before spending; compute time never asks unless given a figure.
    """

    credits: float | None = setting(0.0, low=0, help="Runway credits")
    usd: float | None = setting(0.0, low=0, help="US dollars")
    compute_seconds: float | None = setting(None, low=0, help="compute seconds")
    gpu_seconds: float | None = setting(None, low=0, help="GPU-seconds")


@dataclass(frozen=True)
class RenderSettings:
    """The render queue's own settings.

    Attributes:
        lease_seconds: How long a worker that stopped sending heartbeats keeps a job
            before another worker may take it over.
        outage_minutes: How long a generator's jobs wait, paused, for its server to answer
            again (a restart, a network cut) before they fail with the reason.
        outage_retry_seconds: The longest wait between two tries during an outage; the
            waits double from one second up to it.
        confirm_over: Per unit, the quote above which ``render`` asks before it starts
            (a terminal) or needs ``--yes``.
        kind: What a render makes when nobody says: ``image`` (a frame a take, cheap, the
            storyboard) or ``video`` (a clip of the planned length). The one default of
            ``setpiece make``, ``setpiece render``, the API and the board's render form.
    """

    lease_seconds: float = setting(
        60.0, low=1, high=86400, help="how long a silent worker keeps a job"
    )
    outage_minutes: float = setting(
        10.0,
        low=0,
        high=10080,
        help="how long jobs wait for a generator that cannot be reached before they fail",
    )
    outage_retry_seconds: float = setting(
        30.0,
        positive=True,
        high=3600,
        help="the longest wait between two tries of a generator that cannot be reached",
    )
    confirm_over: ConfirmOver = field(default_factory=ConfirmOver)
    kind: str = setting(
        "image",
        choices=("image", "video"),
        help="what make, render and the board render when --kind is not given",
    )


@dataclass(frozen=True)
class RaySettings:
    """Where ``setpiece render --executor ray`` sends its tasks.

    Attributes:
        address: The cluster (``ray://host:10001``); None starts a local Ray instance.
        num_cpus: CPUs of that local instance.
        gpus_per_task: GPUs one render task asks for (0 on CPU machines).
        cpus_per_task: CPUs one render task asks for.
    """

    address: str | None = None
    num_cpus: int = setting(1, low=1)
    gpus_per_task: float = setting(0.0, low=0)
    cpus_per_task: float = setting(1.0, positive=True)


def prompt_settings(settings: dict[str, Any] | None) -> PromptSettings:
    """The ``[prompts]`` table of a parsed setpiece.toml over the defaults.

    Raises:
        InvalidInputError: An unknown key, a value of the wrong type or a template that
            ``read_template`` refuses, named as ``setpiece.toml [prompts] key``.
    """
    return load_section(PromptSettings, (settings or {}).get("prompts"), section="prompts")


def render_settings(settings: dict[str, Any] | None) -> RenderSettings:
    """The ``[render]`` table of a parsed setpiece.toml over the defaults.

    Raises:
        InvalidInputError: An unknown key, or a value of the wrong type or out of range,
            named as ``setpiece.toml [render] key``.
    """
    return load_section(RenderSettings, (settings or {}).get("render"), section="render")


def ray_settings(settings: dict[str, Any] | None) -> RaySettings:
    """The ``[ray]`` table of a parsed setpiece.toml over the defaults.

    Raises:
        InvalidInputError: An unknown key, or a value of the wrong type or out of range,
            named as ``setpiece.toml [ray] key``.
    """
    return load_section(RaySettings, (settings or {}).get("ray"), section="ray")
