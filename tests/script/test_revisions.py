"""Revisions keep every scene's identity: generated screenplays, generated edits, the outcome.

The property tests draw a screenplay, then a sequence of revisions, each of one to
three edits (insert, drop, move, split, merge, partial and full rewrite; see
``tests/screenplay_edits.py``), and check the import against the edits applied:
which scene continues which, which are OMITTED, the numbers. The pure matcher runs
on ``SETPIECE_REVISION_SEQUENCES`` sequences (1,500 by default, about 20 s here;
CI may ask for more), the database import on fewer, each on a real project with
shots and takes. The demo's screenplay is edited the same way.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from random import Random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screenplay_edits import (
    KINDS,
    Project,
    Record,
    Scene,
    fountain,
    new_scene,
    numbers_right,
    revise_script,
    score,
)
from setpiece.errors import InvalidInputError
from setpiece.production import scenes, shots
from setpiece.production.context import Production, init_production
from setpiece.script.importer import import_script, split_scenes
from setpiece.script.reading import read_script
from setpiece.script.revisions import Outcome, units_of

SEQUENCES = int(os.environ.get("SETPIECE_REVISION_SEQUENCES", "1500"))
DEMO = Path(__file__).parents[2] / "src" / "setpiece" / "pipeline" / "demo.fountain"


def _snapshot(project: Project) -> list[Record]:
    return [Record(r.ident, r.number, r.heading, r.units, r.omitted) for r in project.records]


def _walk(project: Project, script: list[Scene], rng: Random, *, numbered: bool) -> int:
    """Runs revisions of ``script`` through ``project``, asserting each; returns edits made."""
    edits = 0
    for _ in range(rng.randint(1, 5)):
        kinds = [KINDS[rng.randint(0, len(KINDS) - 1)] for _ in range(rng.randint(1, 3))]
        revision = revise_script(script, rng.randint, kinds)
        before = _snapshot(project)
        omitted_before = {r.ident for r in before if r.omitted}
        outcome = project.run(revision.scenes)
        idents = [r.ident for r in before]
        wrong = [kind for kind, right in score(revision, idents, *_answer(outcome)) if not right]
        assert not wrong, (kinds, wrong)
        assert {idents[j] for j in outcome.omitted} == omitted_before | revision.dropped
        assert numbers_right(before, outcome, len(revision.scenes)) == []
        project.adopt(revision.scenes)
        if numbered:  # the writer copies the production's numbers into the next draft
            for scene, number in zip(revision.scenes, outcome.numbers, strict=True):
                scene.number = number
        script = revision.scenes
        edits += len(revision.edits)
    return edits


def _answer(outcome: Outcome) -> tuple[list[int | None], list[int]]:
    return outcome.continues, outcome.omitted


@settings(max_examples=SEQUENCES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False), numbered=st.booleans())
def test_generated_revisions_keep_every_scene(rng: Random, numbered: bool) -> None:
    script = [new_scene(rng.randint) for _ in range(rng.randint(1, 12))]
    if numbered:
        for k, scene in enumerate(script, start=1):
            scene.number = str(k)
    project = Project()
    first = project.run(script)
    project.adopt(script)
    assert first.numbers == [str(k) for k in range(1, len(script) + 1)]
    _walk(project, script, rng, numbered=numbered)


def _demo_scenes() -> list[Scene]:
    parsed = split_scenes(read_script(DEMO))
    return [Scene(p.heading, list(units_of(p.heading, p.body)[1:]), None) for p in parsed]


@settings(max_examples=max(SEQUENCES // 5, 50), deadline=None)
@given(rng=st.randoms(use_true_random=False))
def test_the_demo_script_survives_generated_revisions(rng: Random) -> None:
    script = _demo_scenes()
    project = Project()
    assert project.run(script).numbers == ["1", "2", "3", "4"]
    project.adopt(script)
    _walk(project, script, rng, numbered=False)


# The database import, on a copy of one project made once (making one takes a second).


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="revisions-"))
    with init_production(folder / "film", name="Revisions", actor="ana"):
        pass
    yield folder / "film"
    shutil.rmtree(folder, ignore_errors=True)


def _counts(production: Production) -> dict[str, tuple[int, int, bool]]:
    return {s.number: (s.shots, s.takes, s.omitted) for s in scenes.list_scenes(production)}


@settings(
    max_examples=max(SEQUENCES // 100, 12),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rng=st.randoms(use_true_random=False))
def test_imports_keep_shots_and_takes_with_their_scenes(
    rng: Random, template: Path, make_media
) -> None:
    work = Path(tempfile.mkdtemp(prefix="revision-"))
    try:
        shutil.copytree(template, work / "film")
        with Production.open(work / "film", actor="ana") as production:
            _import_walk(production, work, rng, make_media)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _import_walk(production: Production, work: Path, rng: Random, make_media: Any) -> None:
    from setpiece.production.takes import import_takes
    from setpiece.production.views import Recipe

    script = [new_scene(rng.randint) for _ in range(rng.randint(1, 8))]
    project = Project()
    (work / "v0.fountain").write_text(fountain(script), encoding="utf-8")
    report = import_script(production, work / "v0.fountain")
    assert report.added == project.run(script).numbers
    project.adopt(script)
    for number in report.added[:: rng.randint(1, 3)]:
        code = shots.add_shot(production, number, f"{number}-1").code
        import_takes(production, code, [make_media.still()], Recipe())
    for step in range(1, rng.randint(2, 4)):
        kinds = [KINDS[rng.randint(0, len(KINDS) - 1)] for _ in range(rng.randint(1, 3))]
        revision = revise_script(script, rng.randint, kinds)
        before = _counts(production)
        expected = project.run(revision.scenes)
        path = work / f"v{step}.fountain"
        path.write_text(fountain(revision.scenes), encoding="utf-8")
        # Another screenplay: shares no scene with a project that has some (one whose scenes
        # were all cut takes any script: the importer's rule, _check_same_screenplay).
        if not any(j is not None for j in expected.continues) and revision.scenes and script:
            with pytest.raises(InvalidInputError, match="another screenplay"):
                import_script(production, path)
            assert _counts(production) == before
            report = import_script(production, path, force=True)
        else:
            report = import_script(production, path)
        added = [n for n, j in zip(expected.numbers, expected.continues, strict=True) if j is None]
        assert report.added == added
        after = _counts(production)
        numbers = [r.number for r in project.records]
        assert list(after) == numbers  # the project's order, OMITTED scenes where they stood
        for number, (shot_count, take_count, _) in before.items():
            assert after[number][:2] == (shot_count, take_count)  # shots and takes stayed
        omitted = {r.number for r in project.records if r.omitted}
        assert {n for n, (_, _, gone) in after.items() if gone} == omitted
        project.adopt(revision.scenes)
        script = revision.scenes
