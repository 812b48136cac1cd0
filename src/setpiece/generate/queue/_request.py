"""A render request's stored form: what a job row holds, and how it becomes a request again.

A job outlives the process that queued it, so its request is stored as JSON with media named
by content hash, never by a path that only one machine can read; ``request_from_json`` turns
the hashes back into readable files wherever the job runs. ``relocated`` moves a request's
media: Ray's executor ships them to its task under plain names and the task puts them back
on its own disk (``generate/ray_executor.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from setpiece.generate.base import Mode, RenderRequest, ShotBrief, SubjectBrief

__all__ = ["relocated", "request_from_json", "request_to_json"]


def request_to_json(
    request: RenderRequest, *, init_sha: str | None, reference_shas: Sequence[str]
) -> dict[str, Any]:
    """A request as stored on the job: media by content hash, never by path."""
    brief = request.brief
    return {
        "mode": request.mode.value,
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "seed": request.seed,
        "width": request.width,
        "height": request.height,
        "fps": f"{request.fps.numerator}/{request.fps.denominator}",
        "frames": request.frames,
        "init_image": init_sha,
        "references": list(reference_shas),
        "model": request.model,
        "parameters": request.parameters,
        "brief": None
        if brief is None
        else {
            **{
                k: getattr(brief, k)
                for k in (
                    "code",
                    "scene",
                    "heading",
                    "description",
                    "size",
                    "angle",
                    "lens_mm",
                    "camera_move",
                    "int_ext",
                    "location",
                    "time_of_day",
                    "style",
                    "location_description",
                )
            },
            "subjects": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "description": s.description,
                    "side": s.side,
                    "depth": s.depth,
                    "color": list(s.color) if s.color else None,
                }
                for s in brief.subjects
            ],
        },
    }


def request_from_json(data: dict[str, Any], media: Callable[[str], Path]) -> RenderRequest:
    """Rebuilds a request; ``media`` turns a content hash into a readable local file."""
    brief_data = data.get("brief")
    brief = None
    if brief_data:
        subjects = tuple(
            SubjectBrief(
                name=s["name"],
                kind=s["kind"],
                description=s.get("description", ""),
                side=s.get("side"),
                depth=s.get("depth"),
                color=tuple(s["color"]) if s.get("color") else None,
            )
            for s in brief_data.get("subjects", [])
        )
        brief = ShotBrief(
            **{k: v for k, v in brief_data.items() if k != "subjects"}, subjects=subjects
        )
    num, _, den = str(data["fps"]).partition("/")
    return RenderRequest(
        mode=Mode(data["mode"]),
        prompt=data["prompt"],
        negative_prompt=data.get("negative_prompt"),
        seed=int(data["seed"]),
        width=int(data["width"]),
        height=int(data["height"]),
        fps=Fraction(int(num), int(den or 1)),
        frames=int(data["frames"]),
        init_image=media(data["init_image"]) if data.get("init_image") else None,
        references=tuple(media(sha) for sha in data.get("references", [])),
        model=data.get("model"),
        parameters=dict(data.get("parameters") or {}),
        brief=brief,
    )


def relocated(request: RenderRequest, where: Callable[[Path], Path]) -> RenderRequest:
    """The request with its first frame and references moved to ``where(path)``."""
    return replace(
        request,
        init_image=where(request.init_image) if request.init_image is not None else None,
        references=tuple(where(path) for path in request.references),
    )
