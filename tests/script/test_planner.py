"""Shot planning: the rule-based planner, the plugin registry, and `shot plan` on a project."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from setpiece.errors import NotFoundError
from setpiece.production import shots, takes
from setpiece.production.context import Production
from setpiece.production.views import dumps_views, jsonable
from setpiece.script.importer import import_script
from setpiece.script.planner import (
    PlannedShot,
    RulePlanner,
    SceneToPlan,
    ShotPlanner,
    get_planner,
    register,
)
from setpiece.script.planning import PlanReport, plan_shots

SCRIPT = """INT. KITCHEN - NIGHT

ANNA slices bread with a KNIFE.

ANNA
We should leave before the storm comes in tonight.

BEN
Not without the map.

ANNA
Then find it.

INT. KITCHEN - NIGHT

BEN searches a drawer.

BEN
Got it.

EXT. ROAD - NIGHT

The car drives into the rain.
"""


def scene(body: list[dict[str, object]], **kw: object) -> SceneToPlan:
    values: dict[str, object] = dict(
        number="1",
        heading="INT. KITCHEN - NIGHT",
        int_ext="INT",
        location="KITCHEN",
        eighths=4,
        body=body,
        characters=["ANNA", "BEN"],
        props=["KNIFE"],
        previous_location=None,
    )
    values.update(kw)
    return SceneToPlan(**values)  # type: ignore[arg-type]


BODY = [
    {"type": "action", "text": "ANNA slices bread with a KNIFE."},
    {"type": "character", "text": "ANNA", "name": "ANNA"},
    {"type": "dialogue", "text": "We should leave before the storm comes in tonight."},
    {"type": "character", "text": "BEN (O.S.)", "name": "BEN"},
    {"type": "parenthetical", "text": "(calling)"},
    {"type": "dialogue", "text": "Not without the map."},
]


def test_rules_give_master_two_shot_overs_singles_and_inserts() -> None:
    plan = RulePlanner().plan(scene(BODY))
    assert [(p.kind, p.size) for p in plan] == [
        ("master", "WS"),
        ("two-shot", "MS"),
        ("over-the-shoulder", "MCU"),
        ("over-the-shoulder", "MCU"),
        ("single", "MCU"),
        ("single", "MCU"),
        ("insert", "CU"),
    ]
    master, two, *_ = plan
    assert master.duration == 30.0  # 4 eighths at a minute a page
    assert two.duration == round((9 + 4) / 2.5 + 1, 1)
    singles = {p.subjects[0].name: p.duration for p in plan if p.kind == "single"}
    assert singles == {"ANNA": round(9 / 2.5 + 1, 1), "BEN": round(4 / 2.5 + 1, 1)}
    assert plan == RulePlanner().plan(scene(BODY)), "the rules must be deterministic"


def test_same_location_needs_no_new_master_and_exteriors_establish() -> None:
    first = RulePlanner().plan(scene(BODY, previous_location="KITCHEN"))[0]
    assert first.kind == "two-shot"
    outside = RulePlanner().plan(
        scene(
            [{"type": "action", "text": "Rain."}],
            int_ext="EXT",
            location="ROAD",
            characters=[],
            props=[],
        )
    )
    assert [(p.kind, p.size, p.angle) for p in outside] == [("establishing", "EWS", "high")]


def test_every_scene_gets_coverage() -> None:
    quiet = scene([{"type": "action", "text": "She waits."}], previous_location="KITCHEN", props=[])
    assert [(p.kind, p.size) for p in RulePlanner().plan(quiet)] == [("master", "WS")]


def test_joint_cues_do_not_become_a_speaker() -> None:
    body = [
        *BODY,
        {"type": "character", "text": "ANNA AND BEN", "name": "ANNA AND BEN"},
        {"type": "dialogue", "text": "Go!"},
    ]
    names = {s.name for p in RulePlanner().plan(scene(body)) for s in p.subjects}
    assert "ANNA AND BEN" not in names


def test_planner_registry() -> None:
    @register
    class OneShot(ShotPlanner):
        name = "one-shot"

        def plan(self, scene: SceneToPlan) -> list[PlannedShot]:
            return [PlannedShot("master", "WS", "eye", "Everything", 10.0)]

    assert isinstance(get_planner("one-shot"), OneShot)
    assert isinstance(get_planner(), RulePlanner)
    with pytest.raises(NotFoundError, match="no shot planner 'llm'"):
        get_planner("llm")


def test_plan_a_project_and_replace_without_losing_takes(
    production: Production, tmp_path: Path, make
) -> None:
    path = tmp_path / "s.fountain"
    path.write_text(SCRIPT)
    import_script(production, path)
    report = plan_shots(production)
    by_scene: dict[str, list[str]] = {}
    for shot in report.created:
        by_scene.setdefault(shot["scene"], []).append(shot["kind"])
    assert by_scene == {
        "1": [
            "master",
            "two-shot",
            "over-the-shoulder",
            "over-the-shoulder",
            "single",
            "single",
            "insert",
        ],
        "2": ["single"],  # same kitchen: no new master
        "3": ["establishing"],
    }
    first = shots.get_shot(production, "1B")
    assert first.description == "Two-shot: ANNA and BEN" and first.planned_frames is not None
    assert [(s.name, s.side) for s in first.subjects] == [("ANNA", "left"), ("BEN", "right")]

    assert plan_shots(production).skipped_scenes == ["1", "2", "3"]
    take = make.take("1B")
    replanned = plan_shots(production, scene="1", replace=True)
    assert replanned.kept == ["1B"] and "1A" in replanned.removed
    assert takes.get_take(production, take).shot == "1B"
    codes = [s.code for s in shots.list_shots(production, "1")]
    assert "1B" in codes and len(codes) == len(set(codes)) == 8


def test_a_planned_shot_list_round_trips_through_csv(
    production: Production, tmp_path: Path
) -> None:
    from setpiece.production.shotlist import export_shot_list, import_shot_list

    path = tmp_path / "s.fountain"
    path.write_text(SCRIPT)
    import_script(production, path)
    planned = plan_shots(production)
    before = shots.list_shots(production)
    export_shot_list(production, tmp_path / "shots.csv")
    result = import_shot_list(production, tmp_path / "shots.csv")
    assert (
        result.changed == [] and result.created == [] and result.unchanged == len(planned.created)
    )
    assert shots.list_shots(production) == before


def test_plan_report_json_keeps_the_shape_its_own_to_json_gave() -> None:
    """The report lost its hand-written ``to_json`` (it only repeated the fields): same bytes."""
    created = {
        "code": "1A",
        "scene": "1",
        "kind": "master",
        "size": "WS",
        "duration": 4.0,
        "description": "The hall.",
    }
    report = PlanReport("rules", [created], ["2"], ["3A"], ["3B"])
    expected = (
        b'{"planner":"rules","created":[{"code":"1A","scene":"1","kind":"master","size":"WS",'
        b'"duration":4.0,"description":"The hall."}],"skipped_scenes":["2"],"removed":["3A"],'
        b'"kept":["3B"]}'
    )
    assert orjson.dumps(jsonable(report)) == expected
    assert dumps_views(report) == expected


BRICK = """EXT. BRICK'S PATIO - DAY

BRICK BRADDOCK sits quietly. The SCREEN DOOR slides open and DICK STEEL steps out.

STEEL
Brick.

BRICK
Steel.

EXT. BRICK'S POOL - DAY

Steel lies flat on the diving board, aiming.

.SNIPER SCOPE POV

The cross-hairs are INCHES AWAY. A KNOCK. Nancy SMACKS the wall.

.INSERT: THE PHOTOGRAPH

.OPENING TITLES

Titles roll over the pool.

.MONTAGE

Brick runs.

Steel lifts weights.
"""


def test_plan_makes_no_insert_of_a_name_or_sound_and_no_location_of_a_convention(
    production: Production, tmp_path: Path
) -> None:
    path = tmp_path / "brick.fountain"
    path.write_text(BRICK)
    import_script(production, path)
    report = plan_shots(production)
    planned = [(s["scene"], s["kind"], s["description"]) for s in report.created]
    inserts = [d for _, kind, d in planned if kind == "insert"]
    assert inserts == ["Insert: SCREEN DOOR", "Insert: THE PHOTOGRAPH"]
    # the POV and the insert are shots of the pool scene, in its place
    assert ("2", "pov", "POV: SNIPER SCOPE POV") in planned
    assert [k for n, k, _ in planned if n == "3"] == ["title card"]
    assert [k for n, k, _ in planned if n == "4"] == ["montage", "montage"]
    from setpiece.model.enums import BibleKind
    from setpiece.production import bible

    places = [e.name for e in bible.list_entries(production, BibleKind.LOCATION)]
    assert places == ["BRICK'S PATIO", "BRICK'S POOL"]


def test_a_stale_candidate_gets_no_insert_but_a_confirmed_prop_does() -> None:
    from setpiece.script.planning import _props_to_insert

    body = [{"type": "action", "text": "DICK STEEL opens the SCREEN DOOR. BANG."}]
    props = [("DICK", True), ("BANG", True), ("SCREEN DOOR", True), ("LIGHTER", False)]
    assert _props_to_insert(body, props, ["STEEL"]) == ["SCREEN DOOR", "LIGHTER"]


def test_an_action_line_written_as_an_insert_plans_an_insert() -> None:
    body = [{"type": "action", "text": "INSERT:  The encyclopedia article, with drawings."}]
    planned = RulePlanner().plan(scene(body, props=[], previous_location="KITCHEN"))
    assert ("insert", "Insert: The encyclopedia article, with drawings.") in [
        (p.kind, p.description) for p in planned
    ]


def test_a_heading_that_is_only_pov_plans_a_pov_shot() -> None:
    planned = RulePlanner().plan(
        scene([{"type": "action", "text": "A door."}], heading="POV", location=None, props=[])
    )
    assert [(p.kind, p.description) for p in planned] == [("pov", "POV: POV")]


def test_a_two_shot_counts_each_speech_of_the_exchange_once() -> None:
    exchange = [
        *BODY,  # ANNA 9 words, BEN 4
        {"type": "character", "text": "ANNA", "name": "ANNA"},
        {"type": "dialogue", "text": "Then find it."},  # 3 words
        {"type": "character", "text": "BEN", "name": "BEN"},
        {"type": "dialogue", "text": "It's in the car."},  # 4 words
    ]
    two = next(p for p in RulePlanner().plan(scene(exchange)) if p.kind == "two-shot")
    # Each middle speech was counted twice (once with the line before, once with the one
    # after): 32 words' worth for 20 spoken.
    assert two.duration == round((9 + 4 + 3 + 4) / 2.5 + 1, 1)
