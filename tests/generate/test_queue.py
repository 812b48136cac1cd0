"""The render queue and prompt composition, with small generators registered in the test.

The generators here are real Generator subclasses writing real PNGs; what they stand in for
is only the model. Backends of their own are tested in test_<backend>.py.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.generate.base import (
    Capabilities,
    Generator,
    Mode,
    RenderError,
    RenderRequest,
    RenderResult,
)
from setpiece.generate.queue import enqueue, run_queue
from setpiece.generate.registry import _REGISTERED, register
from setpiece.model.enums import BibleKind, TakeKind
from setpiece.model.orm import RenderJob, utcnow
from setpiece.production import bible, records, scenes, shots, takes
from setpiece.production.context import Production
from setpiece.production.fsck import fsck
from setpiece.production.views import dumps_views

CALLS: list[RenderRequest] = []
FAILURES: dict[str, list[RenderError]] = {}


class Solid(Generator):
    """Paints a still whose colour comes from the seed; fails as FAILURES[prompt] says."""

    name = "solid"
    default_capabilities = Capabilities(
        modes=frozenset({Mode.TEXT_TO_IMAGE, Mode.IMAGE_TO_VIDEO}),
        reference_images=True,
        max_frames=48,
    )

    def render(self, request: RenderRequest, workdir: Path, progress=None) -> RenderResult:
        CALLS.append(request)
        planned = FAILURES.get(request.prompt)
        if planned:
            raise planned.pop(0)
        if request.parameters.get("escape"):
            outside = workdir.parent / "outside.png"
            Image.new("RGB", (8, 8)).save(outside)
            return RenderResult(outside)
        color = (request.seed % 256, (request.seed >> 8) % 256, (request.seed >> 16) % 256)
        path = workdir / f"solid-{request.seed}.png"
        Image.new("RGB", (request.width // 20, request.height // 20), color).save(path)
        return RenderResult(path, model="solid-1", model_hash="abc", parameters={"painted": True})


@pytest.fixture(autouse=True)
def _solid():
    register(Solid)
    CALLS.clear()
    FAILURES.clear()
    yield
    _REGISTERED.pop("solid", None)


@pytest.fixture
def film(production: Production, make) -> Production:
    bible.add_entry(
        production,
        BibleKind.CHARACTER,
        "ANNA",
        description="conductor, navy coat",
        refs=[make.still()],
    )
    bible.add_entry(production, BibleKind.LOCATION, "TRAIN", description="1950s sleeper carriage")
    scenes.add_scene(production, "INT. TRAIN - NIGHT", number="1")
    shots.add_shot(
        production,
        "1",
        "1A",
        description="Anna checks the tickets",
        size="MCU",
        angle="low",
        lens_mm=50,
        camera_move="push-in",
        subjects=shots.parse_subjects("ANNA@left-fg"),
    )
    shots.add_shot(production, "1", "1B", description="The corridor", size="WS")
    return production


def fast(production: Production, **kwargs):
    return run_queue(production, backoff=lambda attempt: 0.0, poll_s=0.01, **kwargs)


def test_takes_are_made_with_their_recipe(film: Production) -> None:
    queued = enqueue(film, ["1A"], takes=3, generator="solid")
    assert [t.number for t in queued.takes] == [1, 2, 3]
    assert {t.status for t in takes.list_takes(film, "1A")} == {"pending"}
    report = fast(film)
    assert (report.done, report.failed) == (3, 0)
    made = takes.list_takes(film, "1A")
    assert {t.status for t in made} == {"ready"} and all(t.media for t in made)
    seeds = [t.recipe.seed for t in made]
    assert len(set(seeds)) == 3
    recipe = made[0].recipe
    assert recipe.backend == "solid" and recipe.model == "solid-1" and recipe.model_hash == "abc"
    assert recipe.parameters == {"painted": True, "origin": "trained"}  # undeclared: trained
    assert (
        recipe.prompt is not None
        and "medium close-up of ANNA (conductor, navy coat)" in recipe.prompt
    )
    assert (
        "on the left in the foreground" in recipe.prompt and "low angle, 50mm lens" in recipe.prompt
    )
    assert "Train, night, 1950s sleeper carriage" in recipe.prompt
    anna = bible.get_entry(film, BibleKind.CHARACTER, "ANNA")
    assert recipe.references == [anna.refs[0].sha256]
    assert CALLS[0].references and CALLS[0].references[0].is_file()
    assert CALLS[0].parameters["reference_tags"] == ["ANNA"]
    assert shots.get_shot(film, "1A").status == "wip"
    assert fsck(film).ok
    assert fast(film).done == 0, "a finished take is never made again"


def test_pinned_seed_and_overrides(film: Production) -> None:
    shots.set_shot_prompt(film, "1A", "+ rain on the windows")
    enqueue(film, ["1A"], takes=2, generator="solid", seed=42)
    enqueue(film, ["1B"], generator="solid", prompt="a corridor, nobody there")
    fast(film)
    first, second = takes.list_takes(film, "1A")
    assert (first.recipe.seed, second.recipe.seed) == (42, 43)
    assert first.recipe.prompt and first.recipe.prompt.endswith("rain on the windows")
    assert takes.list_takes(film, "1B")[0].recipe.prompt == "a corridor, nobody there"


def test_dry_run_shows_and_writes_nothing(film: Production) -> None:
    plan = enqueue(film, all_shots=True, generator="solid", dry_run=True)
    assert [t.shot for t in plan.takes] == ["1A", "1B"] and plan.takes[0].request["prompt"]
    assert takes.list_takes(film) == []


@pytest.mark.parametrize("count", [0, -1, 101])
def test_bad_take_counts(film: Production, count: int) -> None:
    with pytest.raises(InvalidInputError, match="take count"):
        enqueue(film, ["1A"], takes=count, generator="solid")


def test_kinds_are_take_kinds_and_words_alike(film: Production) -> None:
    word = enqueue(film, ["1A"], generator="previs", kind="video", seed=3, dry_run=True)
    kind = enqueue(film, ["1A"], generator="previs", kind=TakeKind.VIDEO, seed=3, dry_run=True)
    assert word == kind and kind.takes[0].request["mode"] == "text-to-video"
    with pytest.raises(InvalidInputError, match="kind 'hologram' is not image or video"):
        enqueue(film, ["1A"], generator="solid", kind="hologram")
    assert takes.list_takes(film) == []


def test_reports_print_their_fields_in_order(film: Production) -> None:
    plan = enqueue(film, ["1A"], generator="solid", seed=9, dry_run=True)
    printed = json.loads(dumps_views(plan))
    assert list(printed) == ["dry_run", "takes", "request", "resumed", "failed", "quote"]
    assert printed["dry_run"] is True
    assert list(printed["takes"][0]) == [
        "shot",
        "number",
        "take",
        "generator",
        "request",
        "workflow",  # the workflow it would be sent with; None: solid runs none
    ]
    assert printed["takes"][0]["workflow"] is None
    assert printed["takes"][0]["request"] == plan.takes[0].request
    assert printed["takes"][0]["request"]["fps"] == "24/1"
    queued = enqueue(film, ["1A"], generator="solid", seed=9)
    report = fast(film)
    printed = json.loads(dumps_views({"queued": queued.takes, "run": report}))
    assert printed["queued"][0]["number"] == 1 and printed["queued"][0]["take"]
    assert printed["run"] == {
        "done": 1,
        "failed": 0,
        "retried": 0,
        "failures": [],
        "paused": 0,
    }


def test_capability_refused_at_once(film: Production) -> None:
    with pytest.raises(InvalidInputError, match="solid cannot do text-to-video"):
        enqueue(film, ["1A"], generator="solid", kind="video")
    with pytest.raises(NotFoundError, match="no generator 'nope'"):
        enqueue(film, ["1A"], generator="nope")
    assert takes.list_takes(film) == []


def test_transient_failures_are_retried(film: Production) -> None:
    queued = enqueue(film, ["1B"], generator="solid", prompt="flaky")
    FAILURES["flaky"] = [
        RenderError("429 slow down", transient=True),
        RenderError("503", transient=True),
    ]
    report = fast(film)
    assert (report.done, report.retried, report.failed) == (1, 2, 0)
    assert takes.get_take(film, queued.takes[0].take or "").status == "ready"


def test_permanent_failure_fails_the_take_with_the_reason(film: Production) -> None:
    queued = enqueue(film, ["1B"], generator="solid", prompt="doomed")
    FAILURES["doomed"] = [RenderError("task FAILED: content moderation")]
    report = fast(film)
    assert (report.done, report.failed) == (0, 1)
    take = takes.get_take(film, queued.takes[0].take or "")
    assert take.status == "failed" and take.media is None
    events = records.history(film, "take", take.id)
    assert events[-1].action == "failed" and "content moderation" in (events[-1].note or "")
    assert list(film.store.iter_keys()) == [
        bible.get_entry(film, BibleKind.CHARACTER, "ANNA").refs[0].path.split("/media/", 1)[1]
    ]


def test_transient_failures_give_up_after_max_attempts(film: Production) -> None:
    enqueue(film, ["1B"], generator="solid", prompt="down")
    FAILURES["down"] = [RenderError("connection refused", transient=True) for _ in range(10)]
    report = fast(film)
    assert report.failed == 1 and report.retried == 4


def test_a_file_outside_the_work_folder_is_refused(film: Production) -> None:
    queued = enqueue(film, ["1B"], generator="solid")
    with film.transaction() as session:
        job = session.query(RenderJob).one()
        job.request = {**job.request, "parameters": {"escape": True}}
    fast(film)
    assert takes.get_take(film, queued.takes[0].take or "").status == "failed"


def test_a_dead_workers_job_is_picked_up_again(film: Production) -> None:
    queued = enqueue(film, ["1B"], generator="solid")
    with film.transaction() as session:
        job = session.query(RenderJob).one()
        job.state, job.lease_owner, job.attempts = "running", "dead-host:1:abc", 1
        job.lease_expires_at = utcnow() - timedelta(seconds=1)
    assert fast(film).done == 1
    assert takes.get_take(film, queued.takes[0].take or "").status == "ready"


def test_keyframe_to_motion(film: Production) -> None:
    still = enqueue(film, ["1A"], generator="solid").takes[0].take or ""
    fast(film)
    motion = enqueue(film, ["1A"], generator="solid", from_take="1A/1")
    take = takes.get_take(film, motion.takes[0].take or "")
    assert take.recipe.parent == still and take.kind == "video"
    assert motion.takes[0].request["mode"] == "image-to-video"
    with pytest.raises(InvalidInputError, match="render exactly the shot"):
        enqueue(film, ["1B"], generator="solid", from_take="1A/1")


def test_unknown_style_and_template_placeholders(film: Production) -> None:
    with pytest.raises(NotFoundError, match="no style 'Noir'"):
        enqueue(film, ["1A"], generator="solid", style="Noir")
    bible.add_entry(film, BibleKind.STYLE, "Noir", description="high contrast black and white")
    plan = enqueue(film, ["1A"], generator="solid", style="Noir", dry_run=True)
    assert plan.takes[0].request["prompt"].endswith("Noir: high contrast black and white.")


def test_every_attempt_carries_the_same_idempotency_key(film: Production) -> None:
    enqueue(film, ["1B"], generator="solid", prompt="again")
    FAILURES["again"] = [RenderError("503", transient=True)]
    fast(film)
    keys = [call.idempotency_key for call in CALLS]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    with film.transaction() as session:
        assert session.query(RenderJob).one().idempotency_key == keys[0]


class Batchy(Solid):
    """Records how it was called: batches of takes, and how many instances were made."""

    name = "batchy"
    batches: list[int] = []
    instances = 0

    def __init__(self, settings=None, *, project_dir=None) -> None:
        super().__init__(settings, project_dir=project_dir)
        Batchy.instances += 1

    def render_batch(self, requests, workdir, progress=None):
        Batchy.batches.append(len(requests))
        return [self.render(request, workdir) for request in requests]


def test_takes_of_one_shot_render_as_batches_on_a_reused_backend(film: Production) -> None:
    register(Batchy)
    Batchy.batches, Batchy.instances = [], 0
    try:
        film.config.settings["generators"] = {"batchy": {"batch_size": 3}}
        enqueue(film, ["1A"], takes=5, generator="batchy")
        enqueue(film, ["1B"], takes=1, generator="batchy")
        Batchy.instances = 0  # enqueue makes one to check capabilities; count the run's alone
        report = fast(film)
        assert report.done == 6
        assert sorted(Batchy.batches) == [2, 3], "1A in batches of 3 and 2; 1B alone"
        assert Batchy.instances == 1, "the backend (a loaded model) is reused, not made per take"
        made = takes.list_takes(film, "1A")
        assert len({t.media.sha256 for t in made if t.media}) == 5
    finally:
        _REGISTERED.pop("batchy", None)


class _DatabaseDown:
    """A project whose database went away: every transaction fails as a driver would."""

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop

    def transaction(self, **_: object) -> Any:
        from sqlalchemy.exc import OperationalError

        if self.stop is not None:
            self.stop.set()
        raise OperationalError(
            "UPDATE render_jobs SET ...",
            {},
            Exception("connection to postgresql://ana:s3cret@db:5432/film failed\nmore detail"),
        )


def test_a_failing_heartbeat_is_logged_with_what_it_means(caplog) -> None:
    from setpiece.generate.queue._worker import _heartbeats

    stop = threading.Event()
    with caplog.at_level(logging.WARNING, logger="setpiece.generate.queue._worker"):
        _heartbeats(_DatabaseDown(stop), "me:1:abc", {7: None}, 0.03, stop)  # type: ignore[arg-type, dict-item]
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "renewing the lease of 1 job(s) failed (OperationalError" in message
    assert "renders finished here are thrown away" in message
    assert "s3cret" not in message and "postgresql://***@db" in message


def test_a_failing_release_is_logged_not_raised(caplog) -> None:
    from setpiece.generate.queue._worker import _release

    with caplog.at_level(logging.WARNING, logger="setpiece.generate.queue._worker"):
        _release(_DatabaseDown(), "me:1:abc", {7: None, 8: None})  # type: ignore[arg-type, dict-item]
    (record,) = caplog.records
    message = record.getMessage()
    assert "giving back 2 job(s) in flight failed" in message
    assert "another worker renders them again" in message and "s3cret" not in message


def test_a_render_at_another_rate_never_falls_short_of_the_shot(film: Production) -> None:
    """25 planned frames at 24 fps rendered at 12 fps: 13 frames (12.5 was rounded to even,
    12, and the retimed take ended a frame short of the shot)."""
    from fractions import Fraction

    from setpiece.production.shots import set_shot_duration

    set_shot_duration(film, "1A", 25)
    plan = enqueue(film, ["1A"], generator="previs", kind="video", fps=Fraction(12), dry_run=True)
    assert plan.takes[0].request["frames"] == 13
    set_shot_duration(film, "1A", 24)
    plan = enqueue(film, ["1A"], generator="previs", kind="video", fps=Fraction(12), dry_run=True)
    assert plan.takes[0].request["frames"] == 12
