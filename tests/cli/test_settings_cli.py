"""Every table of setpiece.toml refused the same way, through the command that reads it.

For each section a value of the wrong type, an unknown key and a value out of range (or
breaking a rule across keys) are written into a real project's toml; the command that reads
that section exits 2 with one line, ``setpiece.toml [section] key: what is wrong``, before
doing any work. An unknown top-level table is refused when the project is opened.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from mediafactory import write_mp4
from setpiece.errors import ExitCode
from setpiece.production.context import init_production
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot

# (section's toml, the command that reads it, the start of the one-line refusal)
CASES: dict[str, tuple[dict[str, Any], tuple[str, ...], str]] = {
    "budget-zero": (
        {"budget": {"credits": 0}},
        ("render", "1A", "--dry-run"),
        "[budget] credits: expected a number above 0, or left out, got 0",
    ),
    "budget-unknown": (
        {"budget": {"render": {"dollars": 5}}},
        ("render", "1A", "--dry-run"),
        "[budget.render]: unknown key 'dollars'; known keys: credits, usd, compute_seconds,",
    ),
    "dialogue-range": (
        {"dialogue": {"max_seconds": 0}},
        ("dialogue", "render"),
        "[dialogue] max_seconds: expected a number above 0",
    ),
    "integrity-type": (
        {"integrity": {"hamming": "3"}},
        ("check", "integrity"),
        '[integrity] hamming: expected a whole number from 0 to 32, got "3"',
    ),
    "integrity-unknown": (
        {"integrity": {"hammng": 3}},
        ("check", "integrity"),
        "[integrity]: unknown key 'hammng'; known keys: check_on_arrival, hamming,",
    ),
    "integrity-range": (
        {"integrity": {"ssim": 1.5}},
        ("check", "integrity"),
        "[integrity] ssim: expected a number from 0 to 1, got 1.5",
    ),
    "continuity-type": (
        {"continuity": {"face_threshold": "near"}},
        ("check", "continuity"),
        '[continuity] face_threshold: expected a number above 0 and at most 2, or left out, got "near"',
    ),
    "continuity-unknown": (
        {"continuity": {"look": {"exposure": 1.0}}},
        ("check", "continuity"),
        "[continuity.look]: unknown key 'exposure'; known keys: delta_e, stops,",
    ),
    "continuity-range": (
        {"continuity": {"look": {"NIGHT": {"stops": -1}}}},
        ("check", "continuity"),
        "[continuity.look.NIGHT] stops: expected a number of at least 0, got -1",
    ),
    "motion-type": (
        {"motion": {"crf": "high"}},
        ("take", "import", "1A", "{clip}", "--split"),
        '[motion] crf: expected a whole number from 0 to 51, got "high"',
    ),
    "motion-unknown": (
        {"motion": {"speed": 2}},
        ("take", "import", "1A", "{clip}", "--split"),
        "[motion]: unknown key 'speed'; known keys: flow_long_side,",
    ),
    "motion-range": (
        {"motion": {"flow_preset": "slow"}},
        ("take", "import", "1A", "{clip}", "--split"),
        '[motion] flow_preset: expected one of "ultrafast", "fast", "medium", "balanced", got',
    ),
    "motion-switch": (
        {"motion": {"still_detail": "maybe"}},
        ("take", "import", "1A", "{clip}", "--split"),
        '[motion] still_detail: expected true or false, got "maybe"',
    ),
    "provenance-type": (
        {"provenance": {"watermark": "yes"}},
        ("keys", "init"),
        '[provenance] watermark: expected true or false, got "yes"',
    ),
    "provenance-unknown": (
        {"provenance": {"signer": "keys/signer.pem"}},
        ("keys", "init"),
        "[provenance]: unknown key 'signer'; known keys: certificate, key,",
    ),
    "provenance-rule": (
        {"provenance": {"certificate": "keys/signer.pem"}},
        ("keys", "init"),
        "[provenance] certificate: goes with key; set both or neither",
    ),
    "web-type": (
        {"web": {"threads": "four"}},
        ("serve", "--port", "1"),
        '[web] threads: expected a whole number from 1 to 1000, got "four"',
    ),
    "web-unknown": (
        {"web": {"port": 8000}},
        ("serve", "--port", "1"),
        "[web]: unknown key 'port'; known keys: session_hours,",
    ),
    "web-range": (
        {"web": {"max_body_kb": 0}},
        ("serve", "--port", "1"),
        "[web] max_body_kb: expected a whole number from 1 to 1048576, got 0",
    ),
    "web-rule": (
        {"web": {"lock_after": 2}},
        ("serve", "--port", "1"),
        "[web] lock_after: 2 is below slow_after (3)",
    ),
    "prompts-type": (
        {"prompts": {"negative": 3}},
        ("render", "1A", "--dry-run"),
        "[prompts] negative: expected a string, or left out, got 3",
    ),
    "prompts-unknown": (
        {"prompts": {"templat": "{framing}"}},
        ("render", "1A", "--dry-run"),
        "[prompts]: unknown key 'templat'; known keys: template, negative, style",
    ),
    "prompts-unclosed": (
        {"prompts": {"template": "{framing of {subjects}"}},
        ("render", "1A", "--dry-run"),
        "[prompts] template: '{framing of {subjects}' opens a placeholder that is not closed",
    ),
    "prompts-object": (
        {"prompts": {"template": "{__class__.__mro__}"}},
        ("render", "1A", "--dry-run"),
        "[prompts] template: unknown placeholder {__class__.__mro__}: use framing,",
    ),
    "prompts-attribute": (
        {"prompts": {"template": "{framing.x} of {subjects}"}},
        ("render", "1A", "--dry-run"),
        "[prompts] template: placeholder {framing.x} is not allowed",
    ),
    "prompts-field": (
        {"prompts": {"template": "{unknown}"}},
        ("render", "1A", "--dry-run"),
        "[prompts] template: unknown placeholder {unknown}: use framing,",
    ),
    "bible-type": (
        {"bible": {"require_consent": "yes"}},
        ("render", "1A", "--dry-run"),
        '[bible] require_consent: expected true or false, got "yes"',
    ),
    "project-range": (
        {"project": {"first_frame": -1}},
        ("review", "comment", "1A", "--note", "x"),
        "[project] first_frame: expected a whole number from 0 to 10000000, got -1",
    ),
    "render-kind": (
        {"render": {"kind": "gif"}},
        ("render", "1A", "--dry-run"),
        "[render] kind: expected one of",
    ),
    "render-nan": (
        {"render": {"lease_seconds": float("nan")}},
        ("render",),
        "[render] lease_seconds: expected a number from 1 to 86400, got nan",
    ),
    "render-type": (
        {"render": {"lease_seconds": "1m"}},
        ("render",),
        '[render] lease_seconds: expected a number from 1 to 86400, got "1m"',
    ),
    "render-unknown": (
        {"render": {"lease": 60}},
        ("render",),
        "[render]: unknown key 'lease'; known keys: lease_seconds",
    ),
    "render-range": (
        {"render": {"lease_seconds": 0.5}},
        ("render",),
        "[render] lease_seconds: expected a number from 1 to 86400, got 0.5",
    ),
    "ray-type": (
        {"ray": {"address": 10001}},
        ("render", "--executor", "ray"),
        "[ray] address: expected a string, or left out, got 10001",
    ),
    "ray-unknown": (
        {"ray": {"gpus": 1}},
        ("render", "--executor", "ray"),
        "[ray]: unknown key 'gpus'; known keys: address, num_cpus, gpus_per_task,",
    ),
    "ray-range": (
        {"ray": {"cpus_per_task": 0}},
        ("render", "--executor", "ray"),
        "[ray] cpus_per_task: expected a number above 0, got 0",
    ),
    "database-type": (
        {"database": {"url": 5432}},
        ("check", "integrity"),
        "[database] url: expected a string, or left out, got 5432",
    ),
    "database-unknown": (
        {"database": {"host": "db.studio.lan"}},
        ("check", "integrity"),
        "[database]: unknown key 'host'; known keys: url",
    ),
    "media-type": (
        {"media": {"storage_options": "anon"}},
        ("check", "integrity"),
        '[media] storage_options: expected a table, got "anon"',
    ),
    "media-unknown": (
        {"media": {"bucket": "films"}},
        ("check", "integrity"),
        "[media]: unknown key 'bucket'; known keys: url, storage_options",
    ),
    "user-type": (
        {"user": {"name": ["ana"]}},
        ("check", "integrity"),
        "[user] name: expected a string, or left out, got ['ana']",
    ),
    "user-unknown": (
        {"user": {"email": "ana@studio.lan"}},
        ("check", "integrity"),
        "[user]: unknown key 'email'; known keys: name",
    ),
    "section-not-a-table": (
        {"integrity": [1, 2]},
        ("check", "integrity"),
        "[integrity]: expected a table of settings, got [1, 2]",
    ),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one scene and one shot, copied for each case."""
    root = tmp_path_factory.mktemp("template") / "film"
    with init_production(root, actor="ana", resolution=(64, 48)) as production:
        add_scene(production, "INT. STATION - NIGHT", number="1")
        add_shot(production, "1", "1A", description="The platform", size="WS")
    write_mp4(root.parent / "clip.mp4", frames=6)
    return root


@pytest.fixture
def film(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "film"
    shutil.copytree(template, root)
    shutil.copy(template.parent / "clip.mp4", tmp_path / "clip.mp4")
    return root


def with_settings(root: Path, tables: dict[str, Any]) -> None:
    path = root / "setpiece.toml"
    data = tomllib.loads(path.read_text())
    for name, table in tables.items():
        data[name] = {**data[name], **table} if isinstance(data.get(name), dict) else table
    path.write_text(tomli_w.dumps(data))


def refusal(run: Any) -> str:
    """The one line of a refused command."""
    assert run.code == ExitCode.REFUSED, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    return lines[0]


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_setting_is_refused_by_the_command_that_reads_it(
    cli: Callable[..., Any], film: Path, case: str
) -> None:
    tables, command, expected = CASES[case]
    with_settings(film, tables)
    before = sorted(p.relative_to(film) for p in film.rglob("*") if ".setpiece" not in p.parts)
    args = [str(film.parent / "clip.mp4") if a == "{clip}" else a for a in command]
    line = refusal(cli("--project", film, *args))
    assert f"setpiece.toml {expected}" in line
    after = sorted(p.relative_to(film) for p in film.rglob("*") if ".setpiece" not in p.parts)
    assert after == before  # nothing written (keys, takes, media)
    assert not (film / ".setpiece" / "keys").exists()


def test_every_case_covers_every_section() -> None:
    from setpiece.project import SECTIONS

    covered = {next(iter(tables)) for tables, _, _ in CASES.values()}
    # Each backend's table: its own tests (tests/voice for [voices.NAME]).
    assert covered == set(SECTIONS) - {"generators", "voices"}


def test_an_unknown_section_is_refused_when_the_project_opens(
    cli: Callable[..., Any], film: Path
) -> None:
    with_settings(film, {"integrty": {"hamming": 3}})
    line = refusal(cli("--project", film, "check", "integrity"))
    assert line.endswith(
        "setpiece.toml: unknown section [integrty]; known sections: bible, budget, continuity, "
        "database, dialogue, generators, integrity, media, motion, project, prompts, provenance, "
        "ray, render, user, voices, web"
    )


def test_good_settings_are_read(cli: Callable[..., Any], film: Path) -> None:
    with_settings(
        film,
        {
            "integrity": {"hamming": 10, "ssim": 1},
            "render": {"lease_seconds": 30},
            "prompts": {"negative": "blurry"},
            "continuity": {"look": {"stops": 0.5, "NIGHT": {"stops": 2}}},
        },
    )
    assert cli("--project", film, "check", "integrity").code == 0
    assert cli("--project", film, "check", "continuity").code == 0
    run = cli("--project", film, "render", "1A", "--dry-run", "--json")
    assert run.code == 0, run.err
    assert run.json()["takes"][0]["request"]["negative_prompt"] == "blurry"


def test_the_readme_s_configuration_is_accepted(tmp_path: Path) -> None:
    """Every toml example in the README is read, section by section, without a refusal."""
    import re

    from setpiece.continuity.settings import continuity_settings
    from setpiece.generate.settings import prompt_settings, ray_settings, render_settings
    from setpiece.integrity.settings import integrity_settings
    from setpiece.motion.config import motion_settings
    from setpiece.project import SECTIONS, load_config
    from setpiece.provenance.settings import ProvenanceSettings
    from setpiece.web.settings import web_settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"^```toml\n(.*?)^```", readme, flags=re.S | re.M)
    data: dict[str, Any] = {}
    for block in blocks:
        data.update(tomllib.loads(block))
    assert set(data) == set(SECTIONS)  # the README shows every section
    (tmp_path / "setpiece.toml").write_text(tomli_w.dumps(data))
    config = load_config(tmp_path)
    assert config.user == "ana" and config.media_url == "s3://films/nighttrain"
    settings = config.settings
    assert integrity_settings(settings).hamming == 14
    assert continuity_settings(settings).look_for("night").stops == 1.0
    assert motion_settings(settings).crf == 18
    assert web_settings(settings).threads == 4
    assert ProvenanceSettings.from_settings(tmp_path, settings).key == tmp_path / "keys/signer.key"
    assert prompt_settings(settings).style == "Noir"
    assert render_settings(settings).lease_seconds == 60
    assert ray_settings(settings).gpus_per_task == 1
