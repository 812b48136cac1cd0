"""`setpiece make`: one command, idempotent and resumable, honest about what it could not do."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from setpiece.cli.main import main
from setpiece.errors import InvalidInputError
from setpiece.production.context import Production
from setpiece.production.takes import list_takes

ONE_SCENE = """Title: Kettle

INT. KITCHEN - NIGHT

JO fills a KETTLE. SAM leans in the doorway.

SAM
You are up late.

JO
So are you.
"""

OTHER = """Title: Something Else

EXT. BEACH - DAY

Waves.
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "kettle.fountain"
    path.write_text(ONE_SCENE)
    return path


def run(*args: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_make_builds_the_cut_and_a_second_run_changes_nothing(
    script: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "kettle"
    args = ["make", script, "--project", project, "--kind", "image", "--resolution", "320x180"]
    code, out, err = run(*args, "--no-movie", "--json", capsys=capsys)
    assert code == 0, err
    report = json.loads(out)
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["render"]["status"] == "done"
    assert Path(report["outputs"]["otio"]).exists() and Path(report["outputs"]["edl"]).exists()
    with Production.open(project) as production:
        takes = list_takes(production)
        assert takes and all(t.provisional for t in takes)
        first = sorted(t.id for t in takes)
    code, out, _ = run(*args, "--no-movie", "--json", capsys=capsys)
    assert code == 0
    again = {s["step"]: s for s in json.loads(out)["steps"]}
    assert again["render"]["figures"]["queued"] == 0
    assert again["dialogue"]["status"] == "skipped"  # not asked: make is silent by default
    with Production.open(project) as production:
        assert sorted(t.id for t in list_takes(production)) == first


def test_make_with_dialogue_speaks_each_line_in_its_shot(
    script: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("espeakng_loader")
    import av
    import numpy as np

    from setpiece.edit.sound import sample_at

    project = tmp_path / "kettle"
    args = ["make", script, "--project", project, "--kind", "image", "--resolution", "320x180"]
    code, out, err = run(*args, "--dialogue", "--json", capsys=capsys)

    assert code == 0, err
    report = json.loads(out)
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["dialogue"]["status"] == "done", steps["dialogue"]
    assert steps["dialogue"]["figures"]["spoken"] == 2
    assert set(steps["dialogue"]["figures"]["default_voices"]) == {"SAM", "JO"}
    disclosure = json.loads(Path(report["outputs"]["disclosure_json"]).read_text())
    lines = disclosure["dialogue"]["lines"]
    assert [(d["character"], d["speech"], d["backend"]) for d in lines] == [
        ("SAM", "synthetic", "espeak"),
        ("JO", "synthetic", "espeak"),
    ]
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(report["outputs"]["otio"])
    video = timeline.video_tracks()[0]
    shots = {c.metadata["setpiece"]["shot"]: video.range_of_child(c) for c in video.find_clips()}
    spoken = [c for t in timeline.audio_tracks() if t.name.startswith("D") for c in t.find_clips()]
    assert len(spoken) == 2
    with av.open(report["outputs"]["movie"]) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    fps = Fraction(24)
    for clip in spoken:
        meta = clip.metadata["setpiece"]
        shot = shots[meta["shot"]]
        start, end = meta["record_in"], meta["record_in"] + meta["frames"]
        assert shot.start_time.value <= start and end <= shot.end_time_exclusive().value
        heard = sound[:, sample_at(start, fps) : sample_at(end, fps)]
        assert np.abs(heard).max() > 0.05  # the line is heard where it is placed
    assert np.abs(sound).max() < 1.0


def test_bad_scripts_and_folders(
    script: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run("make", tmp_path / "nope.fountain", capsys=capsys)
    assert code == 2 and "does not exist" in err and len(err.strip().splitlines()) == 1
    junk = tmp_path / "junk.fdx"
    junk.write_bytes(b"\x00\x01 not xml")
    code, _, err = run("make", junk, "--project", tmp_path / "p", capsys=capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    code, _, err = run("make", script, "--project", busy, capsys=capsys)
    assert code == 2 and "--force" in err
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]


def test_a_project_of_another_script_needs_force(
    script: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "kettle"
    base = ["--project", project, "--kind", "image", "--resolution", "320x180", "--no-movie"]
    assert run("make", script, *base, capsys=capsys)[0] == 0
    other = tmp_path / "other.fountain"
    other.write_text(OTHER)
    code, _, err = run("make", other, *base, capsys=capsys)
    assert code == 2 and "another script" in err and "--force" in err


def test_a_generator_that_is_not_installed_fails_its_step_only(
    script: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "kettle"
    code, out, _ = run(
        "make",
        script,
        "--project",
        project,
        "--generator",
        "nosuchgen",
        "--kind",
        "image",
        "--resolution",
        "320x180",
        "--no-movie",
        "--json",
        capsys=capsys,
    )
    assert code == 4  # done in part: the render step failed
    report = json.loads(out)
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["render"]["status"] == "failed" and "nosuchgen" in steps["render"]["detail"]
    assert steps["assemble"]["status"] == "done"  # the cut is made of slates
    assert steps["assemble"]["figures"]["slates"] == steps["assemble"]["figures"]["clips"]
    assert any("render failed" in note for note in report["needs_human"])


def _make_command(script: Path, project: Path) -> tuple[list[str], dict[str, str]]:
    """`setpiece make` of the kettle script as a separate process, and its environment."""
    command = [sys.executable, "-m", "setpiece.cli.main", "make", str(script)]
    command += ["--project", str(project), "--kind", "video", "--resolution", "640x360"]
    return [*command, "--no-movie", "--json"], {**os.environ, "SETPIECE_USER": "ana"}


@pytest.mark.slow
def test_a_killed_make_resumes_without_duplicate_takes(script: Path, tmp_path: Path) -> None:
    project = tmp_path / "kettle"
    command, env = _make_command(script, project)
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    media = project / "media"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        if media.exists() and any(media.rglob("*.mp4")):
            break
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with Production.open(project) as production:
        takes = list_takes(production)
        originals = [t for t in takes if t.recipe.parent is None]
        shots = {t.shot for t in originals}
        assert len(originals) == len(shots)  # one take per shot, none twice
        assert all(t.status == "ready" and t.media for t in takes)


def _file_size_limit(limit: int) -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.slow
def test_a_full_disk_fails_clearly_and_the_next_run_finishes(script: Path, tmp_path: Path) -> None:
    project = tmp_path / "kettle"
    command, env = _make_command(script, project)
    full = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: _file_size_limit(700_000),  # the new database is ~400 kB
    )
    assert full.returncode == 5, full.stderr  # the environment failed
    said = full.stdout + full.stderr
    assert "free" in said and "space" in said and "Traceback" not in said
    leftovers = [
        p
        for p in project.rglob("*")
        if p.name.endswith(".part") or (".tmp" in p.parts and p.is_file())
    ]
    assert leftovers == []
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with Production.open(project) as production:
        assert all(t.status == "ready" and t.media for t in list_takes(production))


def test_a_bug_in_a_step_is_recorded_and_the_steps_that_do_not_need_it_still_run(
    script: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from setpiece.pipeline import make as pipeline

    def broken(run: object) -> None:
        raise RuntimeError("raqm_layout() failed")  # what a title with a newline once did

    monkeypatch.setitem(pipeline._STEP_FUNCTIONS, "assemble", broken)
    project = tmp_path / "kettle"
    args = ["make", script, "--project", project, "--kind", "image", "--resolution", "320x180"]
    code, out, err = run(*args, "--no-movie", "--json", capsys=capsys)
    assert code == 1, err  # a bug, anywhere, exits 1
    report = json.loads(out)
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["assemble"]["status"] == "failed" and steps["assemble"]["error"] == "RuntimeError"
    assert "internal error: RuntimeError: raqm_layout() failed" in steps["assemble"]["detail"]
    assert steps["sign"]["status"] == "skipped" and "assemble" in steps["sign"]["detail"]
    for independent in ("render", "continuity", "integrity", "pick"):
        assert steps[independent]["status"] in ("done", "skipped"), steps[independent]
    # The disclosure is part of the delivery: none is written without its cut.
    assert steps["disclose"]["status"] == "skipped" and "assemble" in steps["disclose"]["detail"]
    assert not (project / "cut" / "disclosure.json").exists()
    assert report["exit_code"] == 1 and not report["ok"]
    assert any("step assemble failed" in note for note in report["needs_human"])
    assert "Traceback" not in err

    monkeypatch.setenv("SETPIECE_DEBUG", "1")
    code, _, err = run(*args, "--no-movie", "--json", capsys=capsys)
    assert code == 1 and "Traceback" in err and "raqm_layout() failed" in err


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (InvalidInputError("the integrity setting hamming = 99 is out of range"), 4),
        (OSError(errno.ENOSPC, "No space left on device", "cut/integrity.html"), 5),
    ],
)
def test_a_step_refused_exits_4_and_a_full_disk_5(
    raised: Exception,
    code: int,
    script: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from setpiece.pipeline import make as pipeline

    def integrity(run: object) -> None:
        raise raised

    monkeypatch.setitem(pipeline._STEP_FUNCTIONS, "integrity", integrity)
    args = ["make", script, "--project", tmp_path / "kettle", "--kind", "image"]
    exit_code, out, err = run(
        *args, "--resolution", "320x180", "--no-movie", "--json", capsys=capsys
    )
    assert exit_code == code, err
    steps = {s["step"]: s for s in json.loads(out)["steps"]}
    assert steps["integrity"]["status"] == "failed"
    assert ("hamming" if code == 4 else "integrity.html") in steps["integrity"]["detail"]
    assert steps["sign"]["status"] == "done" and steps["disclose"]["status"] == "done"


def test_piped_make_prints_a_line_per_step_as_it_goes(script: Path, tmp_path: Path) -> None:
    command, env = _make_command(script, tmp_path / "kettle")
    command = [c for c in command if c != "--json"]  # the human report: progress on stderr
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stderr is not None
    first = child.stderr.readline()
    running = child.poll() is None  # the first line came while the work goes on
    out, rest = child.communicate(timeout=300)
    assert child.returncode == 0, first + rest
    assert first.startswith("make: project done (") and running
    lines = [first, *rest.splitlines(keepends=True)]
    assert "\x1b[" not in "".join(lines)  # no terminal control codes in a log file
    for step in ("project", "script", "plan", "render", "assemble", "sign", "disclose"):
        assert any(line.startswith(f"make: {step} done (") for line in lines), step
    for step in ("plan", "render", "assemble", "sign", "disclose"):
        assert f"make: {step} ...\n" in lines  # what runs now, in a long step
    assert any(line.startswith("make: render takes ") for line in lines)  # takes counted
    assert "outputs:" in out


def test_a_clip_cut_short_of_its_lengthened_shot_is_made_again_and_not_picked(
    production: Production, make: Any
) -> None:
    """A demo run without a voice renders 3 s clips; with one, a shot lengthened to fit its
    lines needs a new clip, and the pick is the clip that lasts the shot."""
    from setpiece.pipeline.make import _too_short
    from setpiece.production.picks import pick_provisional
    from setpiece.production.shots import set_shot_duration
    from setpiece.production.takes import import_takes
    from setpiece.production.views import Recipe

    scene = make.scene()
    make.shot("1A", scene)
    make.shot("1B", scene)
    import_takes(production, "1A", [make.clip(frames=12)], Recipe())
    set_shot_duration(production, "1A", 48)  # the dialogue step lengthened it
    assert _too_short(production, ["1A"], "video") == ["1A"]
    assert _too_short(production, ["1A"], "image") == []  # a still is held for any length
    import_takes(production, "1A", [make.clip(frames=48)], Recipe())
    assert _too_short(production, ["1A"], "video") == []

    lasting = import_takes(production, "1B", [make.clip(frames=48)], Recipe()).created[0]
    import_takes(production, "1B", [make.clip(frames=12)], Recipe())  # newer, cut short
    set_shot_duration(production, "1B", 48)
    picks = {p.shot: p.take for p in pick_provisional(production)}
    assert picks["1B"] == lasting.id  # not the newest: the one that lasts the shot
