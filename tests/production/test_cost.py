"""Quotes, budgets and spend (production/cost.py), on SQLite and PostgreSQL, with Runway's stub.

Hosted takes are real renders through the Runway backend against the stub server; rates
for ``gen4_image`` and ``gen4.5`` are made-up test figures (they have no written default).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from setpiece.errors import InvalidInputError
from setpiece.generate.queue import enqueue, run_queue
from setpiece.model.orm import Take
from setpiece.production import scenes, shots
from setpiece.production.context import Production
from setpiece.production.cost import budget_settings, budget_status, spend

RATES = {"gen4_image": 8, "gen4.5": 2}  # credits per image / per second (test figures)


@pytest.fixture
def runway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("runwayml")
    from generate.runway_stub import RunwayStub

    secret = "key_" + "5e" * 64
    monkeypatch.setenv("RUNWAYML_API_SECRET", secret)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "RUNWAYML_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with RunwayStub(secret) as stub:
        yield stub


def configure(production: Production, database_url: str | None, **tables: Any) -> Production:
    """The project reopened with these setpiece.toml tables added."""
    path = production.config.root / "setpiece.toml"
    path.write_text(path.read_text() + "\n" + tomli_w.dumps(tables))
    return Production.open(production.config.root, database_url=database_url, actor="ana")


@pytest.fixture
def film(production: Production, database_url: str | None, runway: Any) -> Iterator[Any]:
    scenes.add_scene(production, "INT. TRAIN - NIGHT", number="1")
    scenes.add_scene(production, "EXT. PLATFORM - DAY", number="2")
    for scene, code in (("1", "1A"), ("1", "1B"), ("2", "2A")):
        shots.add_shot(production, scene, code, description=f"shot {code}", size="WS")

    def reopen(rates: dict[str, Any] = RATES, **tables: Any) -> Production:
        runway_table = {"base_url": runway.url, "poll_interval_s": 0.01, "rates": rates}
        return configure(production, database_url, generators={"runway": runway_table}, **tables)

    yield reopen


def render_all(production: Production) -> None:
    report = run_queue(production, backoff=lambda attempt: 0.0, poll_s=0.01)
    assert report.failed == 0, report.failures


def test_hosted_takes_record_their_cost_and_spend_is_grouped(film: Any) -> None:
    production = film()
    quoted = enqueue(production, ["1A", "1B"], generator="runway", takes=2)
    assert quoted.quote is not None
    assert quoted.quote.to_json()["credits"]["amount"] == "32"  # 4 stills at 8
    enqueue(production, ["2A"], generator="runway", kind="video")  # 48 frames: 2 s at 2/s
    enqueue(production, ["2A"], generator="previs")
    render_all(production)

    by_scene = spend(production, "scene")
    assert [(r.key, r.unit, r.amount, r.takes) for r in by_scene.rows] == [
        ("1", "credits", "32", 4),
        ("2", "credits", "4", 1),
        ("2", "compute_seconds", "0", 1),
    ]
    assert by_scene.totals == {"credits": "36", "compute_seconds": "0"}
    by_shot = spend(production, "shot")
    assert [(r.key, r.amount) for r in by_shot.rows if r.unit == "credits"] == [
        ("1A", "16"),
        ("1B", "16"),
        ("2A", "4"),
    ]
    by_generator = spend(production, "generator")
    assert {(r.key, r.unit): r.amount for r in by_generator.rows} == {
        ("runway", "credits"): "36",
        ("previs", "compute_seconds"): "0",
    }
    by_day = spend(production, "day")
    assert len({r.key for r in by_day.rows}) == 1 and by_day.rows[0].key.count("-") == 2
    with pytest.raises(InvalidInputError, match="--by 'week': give one of scene, shot"):
        spend(production, "week")


def test_a_render_over_the_project_budget_is_refused_with_the_quote(film: Any) -> None:
    production = film(budget={"credits": 20})
    enqueue(production, ["1A"], generator="runway", takes=2)  # 16 of 20, queued
    with pytest.raises(InvalidInputError) as caught:  # the queued takes count: 16 + 8 > 20
        enqueue(production, ["1B"], generator="runway")
    message = str(caught.value)
    assert "quoted at 8 credits, over [budget] credits = 20 (4 remaining)" in message
    with production.transaction(read_only=True) as session:
        assert session.query(Take).count() == 2  # nothing half-written
    render_all(production)
    status = budget_status(production)
    assert [(b.unit, b.spent, b.queued, b.remaining) for b in status.lines] == [
        ("credits", "16", "0", "4")
    ]


def test_a_render_within_the_project_budget_but_over_the_per_render_one(film: Any) -> None:
    production = film(budget={"credits": 5000, "render": {"credits": 10}})
    with pytest.raises(InvalidInputError, match=r"quoted at 16 credits, over \[budget.render\]"):
        enqueue(production, ["1A", "1B"], generator="runway")
    assert enqueue(production, ["1A"], generator="runway").takes  # 8: fits both


def test_a_dry_run_shows_the_quote_and_the_budget_left(film: Any) -> None:
    production = film(budget={"credits": 100})
    plan = enqueue(production, ["1A"], generator="runway", takes=3, dry_run=True)
    assert plan.quote is not None
    (line,) = plan.quote.units
    assert (line.unit, line.amount, line.takes, line.project_remaining) == (
        "credits",
        "24",
        3,
        "100",
    )
    assert plan.quote.lines() == [
        "quote: 24 credits for 3 take(s); project budget: 100 of 100 remaining"
    ]


def test_a_model_with_no_rate_is_refused_naming_it(film: Any) -> None:
    production = film(rates={"gen4_image": 8})  # no rate for gen4.5, and no default
    with pytest.raises(InvalidInputError, match=r"no rate for model 'gen4\.5'"):
        enqueue(production, ["1A"], generator="runway", kind="video")
    with production.transaction(read_only=True) as session:
        assert session.query(Take).count() == 0


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"credits": 0}, "[budget] credits: expected a number above 0, or left out, got 0"),
        ({"credits": -5}, "[budget] credits: expected a number above 0"),
        ({"credits": "lots"}, "[budget] credits: expected a number above 0"),
        ({"render": {"credits": 0}}, "[budget.render] credits: expected a number above 0"),
        ({"credit": 5}, "[budget]: unknown key 'credit'"),
    ],
)
def test_a_bad_budget_is_refused(table: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        budget_settings({"budget": table})
    assert words in str(caught.value)


def test_budgets_are_per_unit_never_converted() -> None:
    budget = budget_settings({"budget": {"credits": 5000, "compute_seconds": 36000}})
    assert budget.limits() == {"credits": Decimal(5000), "compute_seconds": Decimal(36000)}
    assert budget.render.limits() == {}


def test_two_renders_at_once_cannot_both_spend_the_last_of_a_budget(
    film: Any, database_url: str | None
) -> None:
    root = Path(film(budget={"credits": 12}).config.root)  # room for one still at 8, not two
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def one(shot: str) -> None:
        production = Production.open(root, database_url=database_url, actor="ana")
        try:
            barrier.wait()
            enqueue(production, [shot], generator="runway")
            outcomes.append("queued")
        except InvalidInputError as exc:
            outcomes.append(f"refused: {exc}")
        finally:
            production.close()

    threads = [threading.Thread(target=one, args=(s,)) for s in ("1A", "1B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(o.split(":")[0] for o in outcomes) == ["queued", "refused"], outcomes
    assert "4 remaining" in next(o for o in outcomes if o.startswith("refused"))


def test_a_retry_is_weighed_against_the_budget_at_its_stored_quote(film: Any) -> None:
    from sqlalchemy import select

    from setpiece.model.orm import RenderJob
    from setpiece.production.jobs import cancel_job, retry_job

    production = film(budget={"credits": 20})
    enqueue(production, ["1A"], generator="runway", takes=2)  # 16 credits quoted
    with production.transaction(read_only=True) as session:
        jobs = list(session.scalars(select(RenderJob.id).order_by(RenderJob.id)))
    for job in jobs:
        cancel_job(production, job)  # failed takes: not queued, not spent
    enqueue(production, ["1B"], generator="runway")  # 8 queued
    retry_job(production, jobs[0])  # 8 + 8 = 16 of 20
    with pytest.raises(InvalidInputError, match=r"quoted at 8 credits, over \[budget\] credits"):
        retry_job(production, jobs[1])  # 16 + 8 = 24: a retried hosted take is paid again
    with production.transaction(read_only=True) as session:
        assert session.get(RenderJob, jobs[1]).state == "cancelled"  # nothing moved


def test_a_budget_in_a_unit_an_unquotable_generator_bills_in_is_weighed(
    production: Production, database_url: str | None
) -> None:
    """ComfyUI cannot quote and, with no earlier take, has no estimate; a compute_seconds
    limit that spent and queued already reach still refuses it."""
    from generate.test_comfyui import TXT2IMG

    (production.config.root / "still.json").write_text(json.dumps(TXT2IMG))
    scenes.add_scene(production, "INT. TRAIN - NIGHT", number="1")
    for code in ("1A", "1B"):
        shots.add_shot(production, "1", code, description=f"shot {code}", size="WS")
    comfyui = {"url": "http://127.0.0.1:9", "workflow": "still.json"}
    production = configure(
        production, database_url, generators={"comfyui": comfyui}, budget={"compute_seconds": 60}
    )
    enqueue(production, ["1A"], generator="previs")
    render_all(production)
    with production.transaction() as session:  # measured at 40 s (as another machine would)
        session.query(Take).update({Take.cost_amount: "40", Take.cost_unit: "compute_seconds"})
    planned = enqueue(production, ["1B"], generator="comfyui", dry_run=True)
    assert planned.quote is not None and planned.quote.unquoted == 1
    assert enqueue(production, ["1B"], generator="comfyui").takes  # 40 of 60: it may run

    with production.transaction() as session:
        session.query(Take).filter(Take.backend == "previs").update({Take.cost_amount: "60"})
    with pytest.raises(InvalidInputError) as caught:
        enqueue(production, ["1B"], generator="comfyui", again=True)
    assert (
        "this render's 1 take(s) cannot be quoted before it runs; 60 of 60 compute_seconds "
        "spent (queued takes included): [budget] compute_seconds = 60 is reached"
    ) in str(caught.value)
    with production.transaction(read_only=True) as session:
        assert session.query(Take).count() == 2  # nothing more queued


def test_generators_that_cannot_quote_say_what_they_bill_in() -> None:
    from setpiece.generate.backends.comfyui import ComfyUIGenerator
    from setpiece.generate.backends.diffusers import DiffusersGenerator
    from setpiece.generate.backends.previs import PrevisGenerator

    assert DiffusersGenerator({"device": "cuda:1"}).billing_units() == ("gpu_seconds",)
    assert DiffusersGenerator({"device": "cpu"}).billing_units() == ("compute_seconds",)
    assert DiffusersGenerator().billing_units() == ("gpu_seconds", "compute_seconds")  # auto
    assert ComfyUIGenerator({"workflow": "still.json"}).billing_units() == (
        "gpu_seconds",
        "compute_seconds",
    )  # which one, the server says when it answers (as diffusers on "auto")
    assert PrevisGenerator().billing_units() == ()  # it always quotes
