"""The render side's own tables of setpiece.toml: ``[prompts]``, ``[render]`` and ``[ray]``.

Each is a frozen dataclass read by :func:`setpiece.config.load_section`, so its defaults
live here once and a wrong key or value is refused the way every other section's is::

    [prompts]
    template = "{framing} of {subjects}. {description}. {setting}. {camera}. {style}"
    negative = "blurry, extra fingers, watermark"
    style = "Noir"

    [render]
    lease_seconds = 60          # how long a silent worker keeps a job

    [ray]
    address = "ray://render-head.studio.lan:10001"
    gpus_per_task = 1

The generators' own tables (``[generators.NAME]``) are declared by each backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from setpiece.config import load_section, setting

__all__ = [
    "DEFAULT_TEMPLATE",
    "PromptSettings",
    "RaySettings",
    "RenderSettings",
    "prompt_settings",
    "ray_settings",
    "render_settings",
]

DEFAULT_TEMPLATE = "{framing} of {subjects}. {description}. {setting}. {camera}. {style}"


@dataclass(frozen=True)
class PromptSettings:
    """How a shot's prompt is composed (:func:`setpiece.generate.prompts.compose`).

    Attributes:
        template: The prompt's template; its placeholders are checked when composing.
            Left empty, the default template.
        negative: The negative prompt given to every render, or None.
        style: A Style entry of the bible used unless the render names another, or None.
    """

    template: str = setting(DEFAULT_TEMPLATE, help="the prompt's template")
    negative: str | None = setting(None, help="the negative prompt of every render")
    style: str | None = setting(None, help="a Style entry of the bible")


@dataclass(frozen=True)
class RenderSettings:
    """The render queue's own settings.

    Attributes:
        lease_seconds: How long a worker that stopped sending heartbeats keeps a job
            before another worker may take it over.
    """

    lease_seconds: float = setting(
        60.0, low=1, high=86400, help="how long a silent worker keeps a job"
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
        InvalidInputError: An unknown key or a value of the wrong type, named as
            ``setpiece.toml [prompts] key``.
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
