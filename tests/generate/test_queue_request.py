"""The stored form of a render request (generate/queue/_request.py), and moving its media."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from setpiece.generate.base import Mode, RenderRequest, ShotBrief, SubjectBrief
from setpiece.generate.queue import request_from_json, request_to_json
from setpiece.generate.queue._request import relocated

_SHAS = {"first.png": "aa11", "anna.png": "bb22", "train.jpg": "cc33"}  # file -> content hash


def _request() -> RenderRequest:
    brief = ShotBrief(
        code="1A",
        scene="1",
        heading="INT. TRAIN - NIGHT",
        description="Anna checks the tickets",
        size="MCU",
        subjects=(SubjectBrief("ANNA", "character", "navy coat", "left", "fg", (10, 20, 30)),),
    )
    return RenderRequest(
        mode=Mode.IMAGE_TO_VIDEO,
        prompt="Anna, tickets",
        seed=7,
        width=320,
        height=180,
        fps=Fraction(24000, 1001),
        frames=48,
        negative_prompt="blur",
        init_image=Path("/somewhere/first.png"),
        references=(Path("/refs/anna.png"), Path("/refs/train.jpg")),
        model="m-1",
        parameters={"reference_tags": ["ANNA", "TRAIN"]},
        brief=brief,
    )


def test_a_request_survives_its_stored_form() -> None:
    request = _request()
    stored = request_to_json(request, init_sha="aa11", reference_shas=["bb22", "cc33"])
    assert stored["fps"] == "24000/1001" and stored["init_image"] == "aa11"
    assert stored["references"] == ["bb22", "cc33"]
    back = request_from_json(stored, lambda sha: Path("/store") / sha)
    assert back.init_image == Path("/store/aa11")
    assert back.references == (Path("/store/bb22"), Path("/store/cc33"))
    assert back == relocated(request, lambda path: Path("/store") / _SHAS[path.name])


def test_relocated_moves_only_the_media() -> None:
    request = _request()
    moved = relocated(request, lambda path: Path("/tmp/in") / path.name)
    assert moved.init_image == Path("/tmp/in/first.png")
    assert moved.references == (Path("/tmp/in/anna.png"), Path("/tmp/in/train.jpg"))
    assert (moved.prompt, moved.seed, moved.brief) == (request.prompt, request.seed, request.brief)
    still = RenderRequest(mode=Mode.TEXT_TO_IMAGE, prompt="p", seed=1, width=8, height=8)
    assert relocated(still, lambda path: Path("/never")) == still
