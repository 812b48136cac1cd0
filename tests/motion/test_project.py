"""The motion tools inside a project: derived takes, stored measures, flicker findings,
and ``take import --split``."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from setpiece.motion.project import (
    FLICKER_KIND,
    measure_take,
    retime_take,
    stored_measures,
    temporal_findings,
)
from setpiece.production.context import Production
from setpiece.production.derive import operations_of
from setpiece.production.records import replace_findings
from setpiece.production.takes import import_takes, list_takes
from setpiece.production.views import Recipe

from .conftest import sliding, write_frames


def _flicker(path: Path, amount: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    base = sliding(step=1, seed=seed)
    gains = 1 + rng.uniform(-amount, amount, 24)
    return write_frames(
        path,
        lambda i: np.clip(base(i).astype(float) * 0.6 * gains[i], 0, 255).astype(np.uint8),
        24,
    )


def test_retime_take_makes_a_derived_take_with_the_operation(
    production: Production, make, tmp_path: Path
) -> None:
    shot = make.shot("3A")
    clip = write_frames(tmp_path / "gen.mp4", sliding(), 6, fps=12)
    take = import_takes(production, shot, [clip], Recipe(backend="runway", seed=7)).created[0]
    derived, created, report = retime_take(production, take.id, fps=Fraction(24))
    assert created and report.frames == 12
    assert derived.recipe.parent == take.id and derived.recipe.seed == 7
    assert operations_of(derived)[-1].name == "retime"
    assert operations_of(derived)[-1].settings["fps"] == "24/1"
    assert operations_of(derived)[-1].version == 6
    assert operations_of(derived)[-1].settings["still_detail"] is True
    assert derived.media is not None and derived.media.fps == 24


def test_measures_are_stored_and_a_flickering_take_is_found(
    production: Production, make, tmp_path: Path
) -> None:
    shot = make.shot("4A")
    steady = [_flicker(tmp_path / f"s{i}.mp4", 0.0, i) for i in range(2)]
    shaky = _flicker(tmp_path / "shaky.mp4", 0.2, 9)
    ids = [import_takes(production, shot, [p]).created[0].id for p in [*steady, shaky]]
    figures = measure_take(production, ids[0])
    assert stored_measures(production, ids[0]) == figures.to_json()
    findings, checked = temporal_findings(production)
    assert checked == 3
    assert [f.take for f in findings] == [ids[2]]
    assert findings[0].kind == FLICKER_KIND and findings[0].score > findings[0].threshold
    stored = replace_findings(production, frozenset({FLICKER_KIND}), findings, takes=ids)
    assert len(stored) == 1


def test_take_import_split_onto_listed_shots(cli, tmp_path: Path) -> None:
    assert cli("init", "film", "--fps", "12")[0] == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. HALL - DAY")[0] == 0
    for code in ("3A", "3B", "3C"):
        assert cli("shot", "add", "1", "--code", code, "--description", "x")[0] == 0
    a, b, c = (sliding(seed=s, step=2) for s in (1, 5, 9))
    pictures = [a(i) for i in range(10)] + [b(i) for i in range(10)] + [c(i) for i in range(10)]
    clip = write_frames(tmp_path / "multi.mp4", pictures)
    code, _, err = cli("take", "import", "3A", clip, "--split", "--shots", "3A,3B")
    assert code == 2 and "holds 3 shot(s)" in err
    code, out, err = cli("take", "import", "3A", clip, "--split", "--shots", "3A,3B,3C", "--json")
    assert code == 0, err
    created = json.loads(out)["created"]
    assert [t["shot"] for t in created] == ["3A", "3B", "3C"]
    assert [t["media"]["frames"] for t in created] == [10, 10, 10]
    code, out, err = cli("take", "import", "3A", clip, "--split", "--json")
    assert code == 0, err
    assert len(json.loads(out)["existing"]) == 1 and len(json.loads(out)["created"]) == 2


def test_retime_and_measure_take_from_the_command_line(cli, tmp_path: Path) -> None:
    assert cli("init", "film", "--fps", "24")[0] == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. HALL - DAY")[0] == 0
    assert cli("shot", "add", "1", "--code", "1A", "--description", "x")[0] == 0
    clip = write_frames(tmp_path / "gen.mp4", sliding(), 6, fps=12)
    code, out, _ = cli("take", "import", "1A", clip, "--json")
    take = json.loads(out)["created"][0]["id"]
    code, out, err = cli("retime", "--take", take, "--fps", "24", "--json")
    assert code == 0, err
    assert json.loads(out)["created"] is True
    code, out, err = cli("measure", "--take", take, "--json")
    assert code == 0, err
    assert json.loads(out)["frames"] == 6
    code, out, err = cli("deflicker", "--take", take, "--json")
    assert code == 0, err
    deflickered = json.loads(out)["take"]
    assert deflickered["recipe"]["operations"][-1]["name"] == "deflicker"
    assert "operation" not in deflickered["recipe"]["parameters"]
    code, out, err = cli("take", "show", deflickered["id"])
    assert code == 0, err
    assert 'operation: {"name": "deflicker", "version": 1, ' in out
    code, _, err = cli("retime", clip, "--take", take, "--fps", "24")
    assert code == 2 and "not both" in err
    assert len(list_takes_of(tmp_path / "film")) == 3


def list_takes_of(root: Path) -> list[object]:
    with Production.open(str(root), actor="ana") as production:
        return list(list_takes(production, "1A"))
