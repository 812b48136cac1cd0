"""`setpiece render` with the comfyui generator, as a user runs it, against the stub server.

Each test runs the real command in a subprocess on a project of a single (1A: ANA) and a
two-shot (1B: ANA and BEN), whose bible characters have one reference image each.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from sqlalchemy import select

from generate.comfyui_stub import ComfyUIStub, comfyui_stub
from generate.test_comfyui import TXT2IMG, UI_FORMAT, with_loads
from mediafactory import write_png
from setpiece.model.enums import BibleKind
from setpiece.model.orm import Take
from setpiece.production.bible import add_entry
from setpiece.production.context import Production, init_production
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot, parse_subjects

ENTRY = "import sys; from setpiece.cli.main import main; sys.exit(main())"
ONE = with_loads("{{reference_image}}")
TWO = with_loads("{{reference_image}}", "{{reference_image_2}}")


@pytest.fixture
def stub() -> Iterator[ComfyUIStub]:
    with comfyui_stub() as server:
        yield server


def film(root: Path, stub: ComfyUIStub, **comfyui: Any) -> Path:
    """The project, its workflow files, and ``[generators.comfyui]`` with ``comfyui``."""
    with init_production(root, actor="ana", resolution=(96, 64)) as prod:
        for index, name in enumerate(("ANA", "BEN")):
            ref = write_png(root / f"{name.lower()}.png", seed=10 + index)
            add_entry(prod, BibleKind.CHARACTER, name, refs=[ref])
        add_scene(prod, "INT. STATION - NIGHT", number="1")
        add_shot(prod, "1", "1A", description="Ana waits", subjects=parse_subjects("ANA"))
        add_shot(prod, "1", "1B", description="Ana meets Ben", subjects=parse_subjects("ANA, BEN"))
    for name, workflow in (("one.json", ONE), ("two.json", TWO), ("still.json", TXT2IMG)):
        (root / name).write_text(json.dumps(workflow))
    settings = {"url": stub.url, "poll_s": 0.2, "timeout_s": 20, **comfyui}
    config = root / "setpiece.toml"
    config.write_text(config.read_text() + tomli_w.dumps({"generators": {"comfyui": settings}}))
    return root


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SETPIECE_USER": "ana", "SETPIECE_PROJECT": str(root)}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def show(root: Path, take: str) -> dict[str, Any]:
    done = run(root, "take", "show", take, "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def take_count(root: Path) -> int:
    done = run(root, "take", "list", "--json")
    assert done.returncode == 0, done.stderr
    return len(json.loads(done.stdout))


PER_TAKE = {"workflows": {"image": {"refs1": "one.json", "refs2": "two.json"}}}


def test_a_two_shot_and_a_single_each_get_their_own_workflow(
    stub: ComfyUIStub, tmp_path: Path
) -> None:
    root = film(tmp_path / "film", stub, **PER_TAKE)
    done = run(root, "render", "--all", "--generator", "comfyui", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run"]["done"] == 2
    single, pair = show(root, "1A/1"), show(root, "1B/1")
    assert single["recipe"]["parameters"]["workflow_path"] == "one.json"
    assert pair["recipe"]["parameters"]["workflow_path"] == "two.json"
    assert pair["recipe"]["parameters"]["workflow_choice"] == "workflows.image.refs2"
    sent = {
        len([n for n in p["prompt"].values() if n["class_type"] == "LoadImage"])
        for p in stub.prompts
    }
    assert sent == {1, 2}


def test_a_workflow_no_shot_can_fill_is_refused_before_queueing(
    stub: ComfyUIStub, tmp_path: Path
) -> None:
    root = film(tmp_path / "film", stub, workflow="two.json")
    done = run(root, "render", "--all", "--generator", "comfyui")
    assert done.returncode == 2
    message = done.stderr.strip()
    assert "\n" not in message
    assert "shot 1A: workflow" in message and "two.json uses {{reference_image_2}}" in message
    assert "the take has 1 reference image(s) (chosen by workflow)" in message
    assert take_count(root) == 0 and stub.requests == []


def test_dry_run_shows_the_seeds_the_real_run_uses(stub: ComfyUIStub, tmp_path: Path) -> None:
    """Defect 4: the dry run drew seeds of its own."""
    root = film(tmp_path / "film", stub, workflow="one.json")
    args = ("render", "1A", "--takes", "3", "--generator", "comfyui")
    planned = run(root, *args, "--dry-run", "--json")
    assert planned.returncode == 0, planned.stderr
    seeds = [t["request"]["seed"] for t in json.loads(planned.stdout)["takes"]]
    assert len(set(seeds)) == 3
    done = run(root, *args, "--json")
    assert done.returncode == 0, done.stderr
    made = [show(root, t)["recipe"]["seed"] for t in ("1A/1", "1A/2", "1A/3")]
    assert made == seeds
    first = json.loads(planned.stdout)["quote"]  # nothing to estimate from yet
    assert first == {"unquoted": {"takes": 3, "reason": first["unquoted"]["reason"]}}
    assert "no earlier take in this project to estimate from" in first["unquoted"]["reason"]
    recipe = show(root, "1A/1")["recipe"]  # measured by the server's history stamps
    assert recipe["cost_unit"] == "compute_seconds" and float(recipe["cost"]) >= 0
    assert recipe["parameters"]["cost_measured_by"] == "history"
    text = run(root, *args, "--dry-run")  # takes 4 to 6 now, in words
    lines = [line for line in text.stdout.splitlines() if not line.startswith("  workflow ")]
    assert lines[-1].startswith("quote: ")  # ComfyUI cannot quote; its earlier takes estimate
    shown = [int(line.split(" seed ")[1].split(":")[0]) for line in lines[:-1]]
    again = run(root, *args, "--dry-run", "--json")
    assert shown == [t["request"]["seed"] for t in json.loads(again.stdout)["takes"]]
    estimate = json.loads(again.stdout)["quote"]["compute_seconds"]
    assert estimate["estimated"] is True and estimate["takes"] == 3
    assert not set(shown) & set(seeds)
    assert sorted(p["prompt"]["5"]["inputs"]["seed"] for p in stub.prompts) == sorted(seeds)
    pinned = run(root, *args, "--seed", "7", "--dry-run", "--json")
    assert [t["request"]["seed"] for t in json.loads(pinned.stdout)["takes"]] == [7, 8, 9]


def test_a_gpu_server_bills_gpu_seconds(stub: ComfyUIStub, tmp_path: Path) -> None:
    """A server whose /system_stats lists a CUDA device is billed in GPU-seconds (issue
    26); the CPU server of the test above in compute seconds."""
    stub.device = "cuda"
    root = film(tmp_path / "film", stub, workflow="one.json")
    done = run(root, "render", "1A", "--generator", "comfyui", "--json")
    assert done.returncode == 0, done.stderr
    recipe = show(root, "1A/1")["recipe"]
    assert recipe["cost_unit"] == "gpu_seconds" and float(recipe["cost"]) >= 0
    spend = run(root, "cost", "--by", "generator", "--json")
    assert spend.returncode == 0, spend.stderr
    assert "gpu_seconds" in spend.stdout


def test_dry_run_names_each_takes_workflow(stub: ComfyUIStub, tmp_path: Path) -> None:
    """The dry run said nothing of the workflow a take chosen by the table would be sent with."""
    root = film(tmp_path / "film", stub, **PER_TAKE)
    planned = run(root, "render", "--all", "--generator", "comfyui", "--dry-run", "--json")
    assert planned.returncode == 0, planned.stderr
    chosen = {t["shot"]: t["workflow"] for t in json.loads(planned.stdout)["takes"]}
    assert chosen["1A"]["source"] == str(root / "one.json")
    assert chosen["1A"]["chosen_by"] == "workflows.image.refs1"
    assert chosen["1B"]["source"] == str(root / "two.json")
    assert chosen["1B"]["chosen_by"] == "workflows.image.refs2"
    assert chosen["1A"]["sha256"] != chosen["1B"]["sha256"]
    text = run(root, "render", "--all", "--generator", "comfyui", "--dry-run")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert f"  workflow {root / 'one.json'}, chosen by workflows.image.refs1 (sha256 " in lines[1]
    assert f"  workflow {root / 'two.json'}, chosen by workflows.image.refs2 (sha256 " in lines[3]
    assert stub.requests == [] and take_count(root) == 0

    assert run(root, "render", "1B", "--generator", "comfyui").returncode == 0
    replay = run(root, "render", "--from-recipe", "1B/1", "--dry-run")
    assert replay.returncode == 0, replay.stderr
    said = replay.stdout.splitlines()
    assert '"workflow": "(graph)"' in said[0]
    assert said[1].startswith(
        "  workflow the exact graph kept with the take replayed, "
        "chosen by render --from-recipe 1B/1 (sha256 "
    )
    previs = run(root, "render", "1A", "--dry-run", "--json")  # no workflows: none named
    assert json.loads(previs.stdout)["takes"][0]["workflow"] is None


def test_a_take_is_rendered_again_exactly_after_its_workflow_file_changed(
    stub: ComfyUIStub, tmp_path: Path
) -> None:
    """Defect 5: the recipe kept the workflow's path and hash, not its content."""
    root = film(tmp_path / "film", stub, **PER_TAKE)
    assert run(root, "render", "1B", "--generator", "comfyui").returncode == 0
    first = show(root, "1B/1")
    changed = json.loads(json.dumps(TWO))
    changed["5"]["inputs"]["steps"] = 30
    changed["2"]["inputs"]["text"] = "{{prompt}}, film grain"
    (root / "two.json").write_text(json.dumps(changed))

    planned = run(root, "render", "--from-recipe", "1B/1", "--dry-run", "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["takes"][0]["request"]["parameters"]["workflow_exact"]
    done = run(root, "render", "--from-recipe", "1B/1", "--json")
    assert done.returncode == 0, done.stderr
    second = show(root, "1B/2")
    assert stub.prompts[-1]["prompt"] == stub.prompts[0]["prompt"]
    assert second["recipe"]["seed"] == first["recipe"]["seed"]
    assert second["media"]["sha256"] == first["media"]["sha256"]
    sent = first["recipe"]["parameters"]["workflow_media"]
    assert second["recipe"]["parameters"]["workflow_media"] == sent
    replayed = second["recipe"]["parameters"]  # was "workflow": "exact", where a path is read
    assert "workflow" not in replayed and replayed["workflow_path"] == "two.json"
    assert replayed["workflow_choice"] == "render --from-recipe 1B/1"
    # A recipe written before workflow_path (its file in "workflow") is read as well.
    with Production.open(root, actor="ana") as prod, prod.transaction() as session:
        take = session.scalars(select(Take).where(Take.number == 1)).one()
        older = {k: v for k, v in take.parameters.items() if k != "workflow_path"}
        take.parameters = {**older, "workflow": "two.json"}
    done = run(root, "render", "--from-recipe", "1B/1", "--json")
    assert done.returncode == 0, done.stderr
    assert show(root, "1B/3")["recipe"]["parameters"]["workflow_path"] == "two.json"

    out = tmp_path / "sent.json"
    written = run(root, "take", "show", "1B/1", "--workflow-out", str(out))
    assert written.returncode == 0, written.stderr
    assert json.loads(out.read_text()) == stub.prompts[0]["prompt"]
    fsck = run(root, "fsck", "--json")
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert sent not in json.loads(fsck.stdout)["unreferenced"]


def test_recipe_and_workflow_out_refusals(stub: ComfyUIStub, tmp_path: Path) -> None:
    root = film(tmp_path / "film", stub, **PER_TAKE)
    assert run(root, "render", "1A").returncode == 0  # previs: no workflow kept
    done = run(root, "take", "show", "1A/1", "--workflow-out", str(tmp_path / "w.json"))
    assert done.returncode == 2 and "has no workflow kept with it" in done.stderr
    assert not (tmp_path / "w.json").exists()
    both = run(root, "render", "1A", "--from-recipe", "1A/1")
    assert both.returncode == 2 and "name no shots with it" in both.stderr
    nothing = run(root, "render", "--from-recipe", "9Z/1")
    assert nothing.returncode == 2


def test_a_shot_and_the_command_line_choose_the_workflow(stub: ComfyUIStub, tmp_path: Path) -> None:
    root = film(tmp_path / "film", stub, **PER_TAKE)
    (root / "pair-closeup.json").write_text(json.dumps(TWO))
    (root / "ui.json").write_text(json.dumps(UI_FORMAT))
    (root / "broken.json").write_text('{"1": ')
    done = run(root, "shot", "set", "1B", "--workflow", "pair-closeup.json")
    assert done.returncode == 0, done.stderr
    shown = run(root, "shot", "show", "1B", "--json")
    assert json.loads(shown.stdout)["workflow"] == "pair-closeup.json"
    for bad, words in (
        ("missing.json", "does not exist"),
        ("ui.json", "UI format"),
        ("broken.json", "is not valid JSON"),
    ):
        refused = run(root, "shot", "set", "1B", "--workflow", bad)
        assert refused.returncode == 2, refused.stderr
        assert (
            words in refused.stderr and "Export (API)" in refused.stderr
        ) or bad == "missing.json"
    assert run(root, "render", "1B", "--generator", "comfyui").returncode == 0
    chosen = show(root, "1B/1")["recipe"]["parameters"]
    assert (chosen["workflow_path"], chosen["workflow_choice"]) == (
        "pair-closeup.json",
        "the shot",
    )

    exported = tmp_path / "shots.csv"
    assert run(root, "shot", "export", str(exported)).returncode == 0
    with exported.open(encoding="utf-8-sig") as handle:
        rows = {row["code"]: row for row in csv.DictReader(handle)}
    assert (rows["1A"]["workflow"], rows["1B"]["workflow"]) == ("", "pair-closeup.json")

    # render --workflow is every take's, over the shot's and the configured ones.
    (root / "two-again.json").write_text(json.dumps(TWO))
    done = run(root, "render", "1B", "--generator", "comfyui", "--workflow", "two-again.json")
    assert done.returncode == 0, done.stderr
    chosen = show(root, "1B/2")["recipe"]["parameters"]
    assert (chosen["workflow_path"], chosen["workflow_choice"]) == (
        "two-again.json",
        "render --workflow",
    )
    previs = run(root, "render", "1B", "--workflow", "two-again.json")
    assert (
        previs.returncode == 2
        and "--workflow is for generators that run workflows" in previs.stderr
    )
    unreadable = run(root, "render", "1B", "--generator", "comfyui", "--workflow", "broken.json")
    assert unreadable.returncode == 2 and "shot 1B: workflow" in unreadable.stderr
    assert "is not valid JSON" in unreadable.stderr


def test_a_partly_valid_workflow_fails_the_take_and_nothing_is_stored(
    stub: ComfyUIStub, tmp_path: Path
) -> None:
    """Defect 1 through the queue: the preview must not become a ready take."""
    broken = json.loads(json.dumps(ONE))
    del broken["8"]["inputs"]["images"]
    root = film(tmp_path / "film", stub, workflow="broken.json")
    (root / "broken.json").write_text(json.dumps(broken))
    done = run(root, "render", "1A", "--generator", "comfyui")
    assert done.returncode == 4
    take = show(root, "1A/1")
    assert take["status"] == "failed" and take["media"] is None
    assert "failed 1A/1: ComfyUI refused part of the workflow: node 8 (SaveImage): " in done.stdout
    assert "Required input is missing: images" in done.stdout
