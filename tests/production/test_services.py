"""The production services on SQLite and PostgreSQL alike."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from setpiece.errors import (
    ConflictError,
    InvalidInputError,
    InvalidMediaError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
)
from setpiece.model.enums import BibleKind
from setpiece.production import bible, records, scenes, shots, takes
from setpiece.production.context import Production
from setpiece.production.fsck import fsck
from setpiece.production.views import Recipe


def test_scene_heading_is_broken_down(production: Production) -> None:
    view = scenes.add_scene(production, "INT./EXT. VAN - MOVING - DAY", number="12a")
    assert (view.number, view.int_ext, view.location, view.time_of_day) == (
        "12A",
        "INT/EXT",
        "VAN - MOVING",
        "DAY",
    )
    nxt = scenes.add_scene(production, "EXT. ROOF - NIGHT")
    assert nxt.number == "13"
    assert [s.number for s in scenes.list_scenes(production)] == ["12A", "13"]


def test_scene_number_taken_is_a_conflict(production: Production) -> None:
    scenes.add_scene(production, "INT. A - DAY", number="3")
    with pytest.raises(ConflictError, match="scene 3 already exists"):
        scenes.add_scene(production, "INT. B - DAY", number="3")


def test_shot_with_blocking_and_planned_frames(production: Production) -> None:
    bible.add_entry(production, BibleKind.CHARACTER, "ANNA")
    bible.add_entry(production, BibleKind.PROP, "SUITCASE")
    scenes.add_scene(production, "INT. HALL - DAY", number="1")
    view = shots.add_shot(
        production,
        "1",
        "1a",
        description="Anna picks it up",
        size="mcu",
        lens_mm=35,
        duration=4.5,
        subjects=shots.parse_subjects("anna@left-fg") + shots.parse_subjects("SUITCASE@bg"),
    )
    assert view.code == "1A" and view.size == "MCU" and view.planned_frames == 108
    assert [(s.name, s.kind, s.side, s.depth) for s in view.subjects] == [
        ("ANNA", "character", "left", "foreground"),
        ("SUITCASE", "prop", None, "background"),
    ]


def test_shot_errors(production: Production) -> None:
    scenes.add_scene(production, "INT. HALL - DAY", number="1")
    shots.add_shot(production, "1", "1A")
    with pytest.raises(ConflictError, match="shot 1A already exists"):
        shots.add_shot(production, "1", "1a")
    with pytest.raises(NotFoundError, match="no scene"):
        shots.add_shot(production, "9", "9A")
    with pytest.raises(NotFoundError, match="no character or prop 'BOB'"):
        shots.add_shot(production, "1", "1B", subjects=[shots.SubjectSpec("BOB")])
    with pytest.raises(InvalidInputError, match="unknown shot size"):
        shots.add_shot(production, "1", "1C", size="huge")
    with pytest.raises(InvalidInputError, match="shot code"):
        shots.add_shot(production, "1", "1/2")
    with pytest.raises(InvalidInputError, match="unknown blocking"):
        shots.parse_subjects("ANNA@upstage")
    assert [s.code for s in shots.list_shots(production)] == ["1A"]


def test_status_workflow(production: Production, make) -> None:
    code = make.shot("2A")
    with pytest.raises(InvalidTransitionError, match="approve one of its takes"):
        shots.set_shot_status(production, code, "approved")
    with pytest.raises(InvalidInputError, match="unknown shot status 'done'"):
        shots.set_shot_status(production, code, "done")
    with pytest.raises(InvalidTransitionError, match="todo: it can go to review, wip, not retake"):
        shots.set_shot_status(production, code, "retake")
    assert shots.set_shot_status(production, code, "wip").status == "wip"
    assert shots.set_shot_status(production, code, "review").status == "review"
    events = records.history(production, "shot", code)
    assert [(e.action, e.before, e.after, e.actor) for e in events] == [
        ("create", None, "todo", "ana"),
        ("status", "todo", "wip", "ana"),
        ("status", "wip", "review", "ana"),
    ]


def test_stale_edit_is_a_conflict_naming_what_changed(production: Production, make) -> None:
    code = make.shot("4A")
    seen = shots.get_shot(production, code)
    production.actor = "ben"
    shots.set_shot_status(production, code, "wip")
    production.actor = "ana"
    with pytest.raises(
        ConflictError, match=r"changed since version 1: it is now wip \(version 2, by ben"
    ):
        shots.set_shot_status(production, code, "review", expected_version=seen.version)
    assert shots.get_shot(production, code).status == "wip"


def test_take_import_recipe_and_refs(production: Production, make, media_dir: Path) -> None:
    code = make.shot("3A")
    ref = make.still("ref.png")
    still, clip = make.still(), make.clip(frames=24)
    result = takes.import_takes(
        production,
        code,
        [still, clip],
        Recipe(
            backend="runway", model="gen4_turbo", prompt="a door", seed=7, parameters={"steps": 30}
        ),
        references=[ref],
    )
    first, second = result.created
    assert (first.label, first.kind, second.label, second.kind) == (
        "3A/1",
        "image",
        "3A/2",
        "video",
    )
    assert (
        second.media is not None and second.media.frames == 24 and second.media.fps == Fraction(24)
    )
    assert second.recipe.seed == 7
    assert second.recipe.parameters == {"steps": 30, "origin": "trained"}  # runway: trained
    assert len(second.recipe.references) == 1
    assert takes.get_take(production, "3a/2").id == second.id
    assert takes.get_take(production, second.id.upper()).id == second.id
    assert shots.get_shot(production, code).status == "wip"
    again = takes.import_takes(production, code, [still])
    assert again.created == [] and again.existing[0].id == first.id
    derived = takes.import_takes(production, code, [make.still()], Recipe(parent="3A/1"))
    assert derived.created[0].recipe.parent == first.id and derived.created[0].number == 3


def test_bad_file_in_batch_imports_nothing(production: Production, make, media_dir: Path) -> None:
    code = make.shot("5A")
    good = make.still()
    bad = media_dir / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(InvalidMediaError, match=r"notes\.mp4"):
        takes.import_takes(production, code, [good, bad])
    assert takes.list_takes(production, code) == []
    assert list(production.store.iter_keys()) == []


def test_approve_circles_one_take(production: Production, make) -> None:
    code = make.shot("6A")
    one, two = make.take(code), make.take(code)
    with pytest.raises(InvalidTransitionError, match="approve one of its takes"):
        shots.set_shot_status(production, code, "approved")
    takes.approve_take(production, code, one, note="good eyeline")
    assert shots.get_shot(production, code).status == "approved"
    takes.approve_take(production, code, two)
    states = {t.id: t.status for t in takes.list_takes(production, code)}
    assert states == {one: "ready", two: "circled"}
    other = make.shot("6B", scene="1")
    with pytest.raises(InvalidInputError, match="belongs to shot 6A"):
        takes.approve_take(production, other, one)
    with pytest.raises(InvalidTransitionError, match="circled by approving"):
        takes.set_take_status(production, one, "circled")
    takes.set_take_status(production, two, "rejected")
    assert shots.get_shot(production, code).status == "retake"


def test_roles_checked_once_users_exist(production: Production, make) -> None:
    code = make.shot("7A")
    take = make.take(code)
    with pytest.raises(InvalidInputError, match="first member must be an admin"):
        records.add_user(production, "ana", "artist")
    records.add_user(production, "ana", "admin")
    records.add_user(production, "vic", "viewer")
    records.add_user(production, "art", "artist")
    production.actor = "vic"
    assert shots.get_shot(production, code).code == code
    with pytest.raises(PermissionDeniedError, match="vic is viewer: edit breakdown needs artist"):
        scenes.add_scene(production, "INT. X - DAY")
    production.actor = "art"
    shots.set_shot_status(production, code, "review")
    with pytest.raises(PermissionDeniedError, match="approve needs director"):
        takes.approve_take(production, code, take)
    with pytest.raises(PermissionDeniedError, match="manage users needs admin"):
        records.add_user(production, "eve", "admin")
    production.actor = "stranger"
    with pytest.raises(PermissionDeniedError, match="not a member"):
        shots.list_shots(production)


def test_findings_share_one_shape(production: Production, make) -> None:
    code = make.shot("8A")
    take = make.take(code)
    found = records.record_finding(
        production,
        "continuity.face",
        take=take,
        frame=12,
        score=0.41,
        threshold=0.6,
        detail="ANNA's face differs from the reference",
        evidence=make.still(),
        data={"character": "ANNA"},
    )
    data = found.to_json()
    assert {k: data[k] for k in ("kind", "shot", "take", "frame", "score", "threshold")} == {
        "kind": "continuity.face",
        "shot": code,
        "take": take,
        "frame": 12,
        "score": 0.41,
        "threshold": 0.6,
    }
    assert data["evidence"]["width"] == 64 and data["data"] == {"character": "ANNA"}
    assert [f.id for f in records.list_findings(production, kind="continuity")] == [found.id]
    assert records.list_findings(production, kind="integrity") == []


def test_status_counts(production: Production, make) -> None:
    code = make.shot("9A")
    make.take(code)
    report = records.production_status(production).to_json()
    assert report["shots"]["wip"] == 1 and report["takes"]["ready"] == 1
    assert report["media"]["files"] == 1 and report["fps"] == "24/1"


def test_fsck_finds_missing_and_corrupt_files(production: Production, make) -> None:
    code = make.shot("10A")
    one, two = make.take(code), make.take(code)
    assert fsck(production).ok
    first = takes.get_take(production, one).media
    second = takes.get_take(production, two).media
    assert first and second
    Path(first.path).unlink()
    Path(second.path).chmod(0o644)
    with open(second.path, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00" * 16)
    report = fsck(production)
    kinds = sorted((p.kind, p.sha256) for p in report.problems)
    assert kinds == sorted([("missing", first.sha256), ("corrupt", second.sha256)])
    assert any(one in t for p in report.problems for t in p.takes)


def test_bible_entry_with_refs(production: Production, make) -> None:
    entry = bible.add_entry(
        production, BibleKind.LOCATION, "Kitchen", description="1970s", refs=[make.still()]
    )
    assert entry.refs[0].kind == "image"
    with pytest.raises(ConflictError, match="location Kitchen already exists"):
        bible.add_entry(production, BibleKind.LOCATION, "KITCHEN")
    with pytest.raises(InvalidMediaError):
        bible.add_entry(production, BibleKind.STYLE, "Noir", refs=[make.clip()])
    assert [e.name for e in bible.list_entries(production, BibleKind.LOCATION)] == ["Kitchen"]
    assert bible.list_entries(production, BibleKind.STYLE) == []


def test_reopen_keeps_everything(production: Production, make, project_dir: Path) -> None:
    code = make.shot("11A")
    take = make.take(code, seed=3)
    url = production.config.database_url
    production.close()
    with Production.open(project_dir, database_url=url if "postgresql" in url else None) as again:
        assert takes.get_take(again, f"{code}/1").id == take
        assert takes.get_take(again, take).recipe.seed == 3


def test_hand_written_json_matches_the_fields(production: Production, make) -> None:
    """ShotView writes its JSON by hand for speed (SubjectView by its fields); none is missed."""
    import dataclasses

    from setpiece.production.views import ShotView, SubjectView

    bible.add_entry(production, BibleKind.CHARACTER, "ANNA")
    code = make.shot("12A", subjects=shots.parse_subjects("ANNA@left"))
    view = shots.get_shot(production, code)
    for cls, obj in ((ShotView, view), (SubjectView, view.subjects[0])):
        assert set(obj.to_json()) == {f.name for f in dataclasses.fields(cls)}


def test_fsck_gc_removes_only_old_leftovers(production: Production, make) -> None:
    import os
    import time

    from setpiece.store.media import hash_file

    code = make.shot("13A")
    make.take(code)
    leftovers = []
    for age in (7200, 0):  # an interrupted import two hours ago, and one that may be running now
        path = make.still()
        sha, _ = hash_file(path)
        stored = production.store.put(path, ".png", sha256=sha)
        local = production.store.local_path(stored.key)
        assert local is not None
        os.utime(local, (time.time() - age, time.time() - age))
        leftovers.append(stored.key)
    report = fsck(production)
    assert sorted(report.unreferenced) == sorted(leftovers)
    # The old one is an orphan (exit 3); the young one may be an import still running.
    assert [(p.kind, p.path) for p in report.problems] == [
        ("orphan_file", production.store.url_for(leftovers[0]))
    ]
    cleaned = fsck(production, gc=True)
    assert cleaned.removed == [leftovers[0]] and cleaned.ok
    assert fsck(production).unreferenced == [leftovers[1]]
    assert len(takes.list_takes(production, code)) == 1 and fsck(production).ok


def test_init_refuses_a_database_that_holds_a_film(tmp_path: Path, pg_url: str) -> None:
    from setpiece.production.context import init_production

    init_production(tmp_path / "first", database_url=pg_url).close()
    with pytest.raises(ConflictError, match="already holds a project"):
        init_production(tmp_path / "second", database_url=pg_url)
    assert not (tmp_path / "second").exists()
