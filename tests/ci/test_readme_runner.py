"""The README runner's reading of README.md (.ci/readme_runner.py; it runs in .ci/run).

These tests install and run nothing: they check that every shell block of the README is one
the runner can run (a known section, known programs, placeholders it has stand-ins for) or
one marked with what it needs, so a new unmarked block fails here before it fails CI.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_runner", ROOT / ".ci" / "readme_runner.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_runner"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def readme(runner: ModuleType) -> object:
    return runner.parse_readme((ROOT / "README.md").read_text())


def test_every_shell_block_is_runnable_or_marked(runner: ModuleType, readme: object) -> None:
    assert runner.check_readme(readme) == []
    text = (ROOT / "README.md").read_text()
    fences = [line for line in text.splitlines() if line.startswith("```sh")]
    assert len(readme.blocks) == len(fences) >= 10
    for block in readme.blocks:
        assert block.skip or block.heading in runner.CONTEXTS, block.title
        assert block.commands, block.title


def test_the_quick_start_installs_the_package_and_makes_the_demo(
    runner: ModuleType, readme: object
) -> None:
    block = runner.quick_start(readme)
    assert block is not None
    install, test = (c.text for c in block.commands)
    assert "pip install . && setpiece demo" in install
    assert "-e ." not in install
    assert test.endswith("python -m pytest")


def test_ci_runs_the_readme_then_its_test_command_verbatim(
    runner: ModuleType, readme: object
) -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    test = runner.quick_start(readme).commands[1].text
    assert test in ci.splitlines()
    assert ci.index("readme_runner.py") < ci.index(test)


def test_skipped_commands_say_what_they_need(runner: ModuleType, readme: object) -> None:
    skipped = [c for b in readme.blocks for c in b.commands if c.skip is not None]
    assert skipped, "the diffusers render needs model weights"
    for command in skipped:
        assert len(command.skip) > 10, command


def test_every_stand_in_stands_in_for_something_in_the_readme(
    runner: ModuleType, readme: object
) -> None:
    words = {w for b in readme.blocks for c in b.commands for w in c.words()}
    assert set(runner.STAND_INS) <= words


SECTION = """\
# Film

## {heading}

{before}```{info}
{body}
```
"""


def problems(runner: ModuleType, body: str, heading: str = "Checks", **kw: str) -> list[str]:
    text = SECTION.format(heading=heading, body=body, info=kw.get("info", "sh"), before="")
    return list(runner.parse_readme(text).problems)


def test_an_unknown_section_is_a_problem_until_marked(runner: ModuleType) -> None:
    assert problems(runner, "setpiece status", heading="Dailies")
    assert not problems(runner, "# needs: a cinema\nsetpiece status", heading="Dailies")
    block = runner.parse_readme(
        SECTION.format(heading="Dailies", before="", info="sh", body="# needs: a cinema\nls")
    ).blocks[0]
    assert block.skip == "a cinema"
    assert problems(runner, "setpiece status\n# needs: a cinema\nsetpiece status")


def test_an_unknown_program_or_placeholder_is_a_problem(runner: ModuleType) -> None:
    assert problems(runner, "ffmpeg -i a.mp4 b.mp4")
    assert problems(runner, "setpiece take import 1A my_render.mp4")
    assert not problems(runner, "setpiece take import 1A my_render.mp4   # needs: your file")
    assert not problems(runner, "setpiece take import 1A gen_001.mp4")
    assert problems(runner, "setpiece status && setpiece serve")


def test_shell_commands_in_an_unlabelled_block_are_a_problem(runner: ModuleType) -> None:
    assert problems(runner, "setpiece status", info="")
    assert not problems(runner, "src/\n  setpiece/", info="")
    assert not problems(runner, "[render]\nlease_seconds = 60", info="toml")


def test_commands_join_continuations_and_keep_quoted_hashes(runner: ModuleType) -> None:
    body = (
        "# a heading comment\n"
        'setpiece take import 1A gen_001.mp4 --prompt "shot #1" \\\n'
        "    --seed 42   # imports it\n"
        "setpiece review comment 1A --note 'a#b'"
    )
    (block,) = runner.parse_readme(
        SECTION.format(heading="Checks", before="", info="sh", body=body)
    ).blocks
    first, second = block.commands
    assert first.text == 'setpiece take import 1A gen_001.mp4 --prompt "shot #1" --seed 42'
    assert first.comment == "imports it"
    assert first.line == 7  # the fence is line 5, a comment line 6
    assert first.words()[-3:] == ["shot #1", "--seed", "42"]
    assert second.words()[-1] == "a#b"
    assert block.skip is None


def test_global_options_and_the_verb(runner: ModuleType) -> None:
    options, verb = runner._global_options(
        ["setpiece", "-C", "setpiece-demo", "--as", "dana", "serve", "--port", "8001"]
    )
    assert options == {"--project": "setpiece-demo", "--as": "dana"}
    assert verb == ["serve", "--port", "8001"]
    assert runner._global_options(["pip", "install", "."]) == ({}, [])
