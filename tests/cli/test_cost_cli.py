"""`setpiece render --dry-run` quotes, `[render] confirm_over` and `--yes`, `setpiece cost`,
`disclose --with-cost`: as a user types them, with Runway's stub for the hosted renders.

Rates for ``gen4_image`` and ``gen4.5`` are made-up test figures (no written default).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from setpiece.errors import ExitCode
from setpiece.production.context import init_production
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot


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


@pytest.fixture
def film(tmp_path: Path, runway: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    root = tmp_path / "film"
    with init_production(root, actor="ana", resolution=(320, 180)) as prod:
        add_scene(prod, "INT. STATION - NIGHT", number="1")
        add_scene(prod, "EXT. PLATFORM - DAY", number="2")
        for scene, code in (("1", "1A"), ("1", "1B"), ("2", "2A")):
            add_shot(prod, scene, code, description=f"Platform {code}", size="WS")
    monkeypatch.setenv("SETPIECE_PROJECT", str(root))
    base = (root / "setpiece.toml").read_text()

    def configure(**tables: Any) -> Path:
        runway_table = {"base_url": runway.url, "poll_interval_s": 0.01}
        runway_table["rates"] = {"gen4_image": 8, "gen4.5": 2}
        settings = {"generators": {"runway": runway_table}, **tables}
        (root / "setpiece.toml").write_text(base + "\n" + tomli_w.dumps(settings))
        return root

    configure()
    return configure


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def refusal(run: Any) -> str:
    assert run.code == ExitCode.REFUSED, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    return lines[0]


def test_dry_run_prints_the_quote_per_unit(cli: Any, film: Any) -> None:
    film(budget={"credits": 100, "render": {"credits": 50}})
    run = cli("render", "1A", "1B", "--generator", "runway", "--takes", "2", "--dry-run")
    assert run.code == 0, run.err
    assert run.out.strip().splitlines()[-1] == (
        "quote: 32 credits for 4 take(s); project budget: 100 of 100 remaining; per render: 50"
    )
    run = cli("render", "2A", "--generator", "runway", "--kind", "video", "--dry-run", "--json")
    assert run.json()["quote"] == {
        "credits": {
            "amount": "4",  # 48 frames at 24 fps: 2 s at 2 credits/s
            "takes": 1,
            "spent": "0",
            "queued": "0",
            "project_limit": "100",
            "project_remaining": "100",
            "render_limit": "50",
            "estimated": False,
        }
    }


def test_a_hosted_render_asks_first_or_needs_yes(
    cli: Any, film: Any, runway: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal
    line = refusal(cli("render", "1A", "--generator", "runway"))
    assert line == (
        "setpiece: error: this render is quoted at 8 credits for 1 take(s), over [render] "
        "confirm_over (credits = 0): add --yes to start it"
    )
    assert runway.created == []
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    line = refusal(cli("render", "1A", "--generator", "runway"))
    assert "not started: the quote was declined" in line
    assert runway.created == []
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    assert cli("render", "1A", "--generator", "runway").code == 0
    assert len(runway.created) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli("render", "1B", "--generator", "runway", "--yes").code == 0
    assert len(runway.created) == 2
    assert cli("render", "2A").code == 0  # previs costs nothing: never asks


def test_confirm_over_is_a_threshold_per_unit(cli: Any, film: Any, runway: Any) -> None:
    film(render={"confirm_over": {"credits": 10}})
    assert cli("render", "1A", "--generator", "runway").code == 0  # 8: under 10
    line = refusal(cli("render", "1B", "--generator", "runway", "--takes", "2"))
    assert "quoted at 16 credits for 2 take(s), over [render] confirm_over (credits = 10)" in line
    film(render={"confirm_over": {"credits": -1}})
    line = refusal(cli("render", "1B"))
    assert "setpiece.toml [render.confirm_over] credits" in line


def test_over_budget_is_refused_with_the_quote_and_what_remains(cli: Any, film: Any) -> None:
    film(budget={"credits": 20})
    assert cli("render", "1A", "--generator", "runway", "--takes", "2", "--yes").code == 0
    line = refusal(cli("render", "1B", "--generator", "runway", "--yes"))
    assert "quoted at 8 credits, over [budget] credits = 20 (4 remaining)" in line
    # Without --yes too: the budget refuses it before confirm_over would offer it.
    line = refusal(cli("render", "1B", "--generator", "runway"))
    assert "over [budget] credits = 20" in line and "--yes" not in line
    film(budget={"credits": 0})
    assert "[budget] credits: expected a number above 0" in refusal(cli("render", "1B", "--yes"))


def test_cost_reports_spend_by_scene_shot_generator_and_day(cli: Any, film: Any) -> None:
    assert cli("cost").out.strip() == "nothing spent yet"
    film(budget={"credits": 1000})
    assert cli("render", "1A", "1B", "--generator", "runway", "--yes").code == 0
    assert cli("render", "2A", "--generator", "runway", "--kind", "video", "--yes").code == 0
    assert cli("render", "2A").code == 0  # previs
    run = cli("cost")
    assert run.out.splitlines()[:3] == [
        "scene 1: 16 credits (2 take(s))",
        "scene 2: 4 credits (1 take(s))",
        "scene 2: 0 compute_seconds (1 take(s))",
    ]
    assert "budget credits: 20 spent, 0 queued, 980 of 1000 remaining" in run.out
    by_scene = cli("cost", "--by", "scene", "--json").json()
    assert by_scene["spend"]["totals"] == {"credits": "20", "compute_seconds": "0"}
    assert by_scene["budget"]["lines"][0] == {
        "unit": "credits",
        "spent": "20",
        "queued": "0",
        "limit": "1000",
        "remaining": "980",
    }
    by_shot = cli("cost", "--by", "shot", "--json").json()["spend"]["rows"]
    assert [(r["key"], r["unit"], r["amount"]) for r in by_shot] == [
        ("1A", "credits", "8"),
        ("1B", "credits", "8"),
        ("2A", "credits", "4"),
        ("2A", "compute_seconds", "0"),
    ]
    by_generator = cli("cost", "--by", "generator", "--json").json()["spend"]["rows"]
    assert {(r["key"], r["unit"]): r["amount"] for r in by_generator} == {
        ("runway", "credits"): "20",
        ("previs", "compute_seconds"): "0",
    }
    by_day = cli("cost", "--by", "day", "--json").json()["spend"]["rows"]
    assert {r["unit"]: r["takes"] for r in by_day} == {"credits": 3, "compute_seconds": 1}
    assert "--by 'week'" in refusal(cli("cost", "--by", "week"))
    take = cli("take", "show", "2A/1", "--json").json()
    assert (take["recipe"]["cost"], take["recipe"]["cost_unit"]) == ("4", "credits")


def test_disclose_with_cost_lists_spend_per_generator(cli: Any, film: Any, tmp_path: Path) -> None:
    assert cli("render", "1A", "--generator", "runway", "--yes").code == 0
    assert cli("render", "1B").code == 0
    plain = cli("disclose", "--include-unapproved", "--json").json()
    assert "spend" not in plain
    report = cli("disclose", "--include-unapproved", "--with-cost", "--json").json()
    assert report["spend"] == {"runway": {"credits": "8"}, "previs": {"compute_seconds": "0"}}
    page = tmp_path / "disclosure.html"
    text = cli("disclose", "--include-unapproved", "--with-cost", "--html", page).out
    assert "spend: runway 8 credits" in text
    assert "<h2>Spend per generator</h2>" in page.read_text()
    assert json.loads(json.dumps(report))["spend"]["previs"] == {"compute_seconds": "0"}


KETTLE = """Title: Kettle

INT. KITCHEN - NIGHT

JO fills a KETTLE. SAM leans in the doorway.

SAM
You are up late.
"""


@pytest.fixture
def kettle(tmp_path: Path, runway: Any) -> Callable[..., list[str]]:
    """``setpiece make`` of a one-scene script into a project whose runway is the stub:
    returns the command's arguments, with ``tables`` added to setpiece.toml."""
    root = tmp_path / "kettle"
    init_production(root, actor="ana", resolution=(320, 180)).close()
    script = tmp_path / "kettle.fountain"
    script.write_text(KETTLE)
    base = (root / "setpiece.toml").read_text()

    def configure(**tables: Any) -> list[str]:
        runway_table = {"base_url": runway.url, "poll_interval_s": 0.01}
        runway_table["rates"] = {"gen4_image": 8, "gen4.5": 2}
        settings = {"generators": {"runway": runway_table}, **tables}
        (root / "setpiece.toml").write_text(base + "\n" + tomli_w.dumps(settings))
        args = ["make", script, "--project", root, "--generator", "runway", "--kind", "image"]
        return [*args, "--no-movie"]

    return configure


def test_make_with_a_hosted_generator_needs_yes_and_shows_the_quote(
    cli: Any, kettle: Any, runway: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = kettle()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    refused = cli(*args)
    assert refused.code == ExitCode.REFUSED, (refused.out, refused.err)
    line = refused.err.strip().splitlines()[-1]
    assert line.startswith("setpiece: error: render: this render is quoted at ")
    assert line.endswith("over [render] confirm_over (credits = 0): add --yes to start it")
    assert runway.created == []  # nothing spent, nothing queued
    shots = int(line.split(" credits for ")[1].split(" take(s)")[0])
    assert shots >= 1 and f"quoted at {8 * shots} credits" in line
    assert cli("-C", args[3], "take", "list", "--json").json() == []  # nothing queued
    done = cli(*args, "--yes", "--json")
    assert done.code == 0, done.err
    render = next(s for s in done.json()["steps"] if s["step"] == "render")
    assert render["figures"]["quote"]["credits"]["amount"] == str(8 * shots)
    assert f"quote: {8 * shots} credits for {shots} take(s)" in render["detail"]
    assert len(runway.created) == shots


def test_make_over_budget_is_refused_before_anything_is_spent(
    cli: Any, kettle: Any, runway: Any
) -> None:
    args = kettle(budget={"credits": 5})
    refused = cli(*args, "--yes")
    assert refused.code == ExitCode.REFUSED, (refused.out, refused.err)
    line = refused.err.strip().splitlines()[-1]
    assert "over [budget] credits = 5 (5 remaining)" in line and "--yes" not in line
    assert runway.created == []
    args = kettle(budget={"render": {"credits": 5}})  # the step is one render request
    line = cli(*args, "--yes").err.strip().splitlines()[-1]
    assert "over [budget.render] credits = 5" in line
    assert runway.created == []
