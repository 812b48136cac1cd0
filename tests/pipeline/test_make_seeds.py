"""`setpiece make` and `setpiece demo` seed takes the same way every run, unless asked not to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from setpiece.cli.main import main
from setpiece.pipeline.make import DEFAULT_SEED, shot_seed
from setpiece.production.context import Production
from setpiece.production.takes import list_takes

ONE_SCENE = """Title: Kettle

INT. KITCHEN - NIGHT

JO fills a KETTLE. SAM leans in the doorway.

SAM
You are up late.
"""


def run(*args: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _seeds(project: Path) -> dict[str, int | None]:
    with Production.open(project) as production:
        return {t.label: t.recipe.seed for t in list_takes(production) if t.recipe.parent is None}


def test_shot_seeds_are_fixed_per_shot_and_differ_between_shots() -> None:
    assert shot_seed(DEFAULT_SEED, "1A") == shot_seed(DEFAULT_SEED, "1A")
    assert shot_seed(DEFAULT_SEED, "1A") != shot_seed(DEFAULT_SEED, "1B")
    assert shot_seed(DEFAULT_SEED, "1A", made=2) == shot_seed(DEFAULT_SEED, "1A") + 2
    assert 0 <= shot_seed(2**31 - 1, "ZZ") < 2**31


def test_two_makes_seed_alike_and_random_seeds_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "kettle.fountain"
    script.write_text(ONE_SCENE)
    common = ["--kind", "image", "--resolution", "320x180", "--no-movie", "--takes", "2", "--json"]
    seeds = []
    for name in ("a", "b"):
        code, out, err = run("make", script, "--project", tmp_path / name, *common, capsys=capsys)
        assert code == 0, err
        render = next(s for s in json.loads(out)["steps"] if s["step"] == "render")
        assert "seeds fixed (--seed 1)" in render["detail"]
        seeds.append(_seeds(tmp_path / name))
    assert seeds[0] == seeds[1] and len(seeds[0]) >= 2
    assert all(
        seed == shot_seed(1, label.split("/")[0], int(label.split("/")[1]) - 1)
        for label, seed in seeds[0].items()
    )

    code, out, err = run(
        "make", script, "--project", tmp_path / "c", "--random-seeds", *common, capsys=capsys
    )
    assert code == 0, err
    assert _seeds(tmp_path / "c") != seeds[0]
    code, _, err = run(
        "make", script, "--project", tmp_path / "d", "--seed", "7", *common, capsys=capsys
    )
    assert code == 0, err
    assert set(_seeds(tmp_path / "d").values()) == {
        shot_seed(7, label.split("/")[0], int(label.split("/")[1]) - 1) for label in seeds[0]
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--seed", "3", "--random-seeds"), "give --seed or --random-seeds, not both"),
        (("--seed", "-1"), "--seed -1 is out of range"),
        (("--seed", str(2**31)), "is out of range: give 0 to 2147483647"),
    ],
)
def test_bad_seeds_are_one_line_exit_2_and_make_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    script = tmp_path / "kettle.fountain"
    script.write_text(ONE_SCENE)
    code, _, err = run("make", script, "--project", tmp_path / "p", *args, capsys=capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "p").exists()
