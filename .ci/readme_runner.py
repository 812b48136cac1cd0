#!/usr/bin/env python3
"""Runs README.md the way a new user would, on a clean copy of the committed repository.

Why: the README is the contract. Its Quick start once failed on a fresh machine while the
suite was green, because CI installed extras a user does not have and the tests started the
web app through a helper instead of ``setpiece serve``. So this script takes the commands
from the README itself and runs them as written.

What it decides:
- **Committed code only.** The copy is ``git archive HEAD`` extracted into a temporary
  folder: exactly the committed tree, without the developer's ``.venv``, build folders,
  egg-info or untracked files that could hide a file missing from a commit. Uncommitted
  changes are not tested (a warning names them).
- **The Quick start runs verbatim.** Its first command (install into a fresh venv, then
  ``setpiece demo``) runs with bash in the copy, with no virtual environment or
  ``PYTHONPATH`` inherited. Then the demo's output is checked: the timeline opens in
  OpenTimelineIO with every shot of the shot list, the movie decodes to the timeline's
  length, the movie and the ``.otio``/``.edl`` sidecars verify, the disclosure exists,
  ``setpiece fsck`` is clean. The Quick start's second command, the README's test command,
  is not run here: ``.ci/run`` runs it after this script.
- **Every other shell block runs** in README order with the Quick start's venv, in the
  folder its section names (``CONTEXTS``): a fresh scratch folder, the repository copy, or
  "the film", a copy of the demo project taken before any member is added, which the
  sections from Generators on share and change in turn, as a reader's project would.
- **Placeholders get real stand-ins** (``STAND_INS``): a small Fountain script, photos,
  clips and a three-shot reel written with ``tests/mediafactory.py`` in the venv. A file
  token the runner neither makes nor expects a command to write is a parse problem.
- **Markers.** A command whose comment starts with ``needs:`` (``# needs: model weights``)
  is skipped with that reason; a block whose first line is such a comment is skipped
  whole. Readers see the reason in the block; everything unmarked must pass.
- **The shot board runs for real.** ``user add`` must print a one-time password;
  ``serve`` starts as a subprocess (on a free port when the block's port, 8000 by default,
  is taken), a wrong password is refused, the login form with the printed password (and
  the form's CSRF token) leads to ``/account/password`` (the API answers 403 until then),
  a new password is set there, ``/api/v1/me`` names the member and ``/board`` answers, and
  a second login with the one-time password is refused; then the server is stopped.

It prints a line per block and per check (ran, skipped with the reason, FAILED with the
output's tail) and exits 1 if anything failed. Standard library only: it runs before
anything is installed. ``--workdir DIR --reuse-venv`` keeps the venv between runs while
iterating; CI runs it without options (a fresh temporary folder and venv).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SHELL_INFOS = frozenset({"sh", "bash", "shell", "console", "zsh"})
QUICK_START = "Quick start"

# Where each section's blocks run: "repo" the repository copy (where the Quick start left
# setpiece-demo/), "scratch" a fresh empty folder per block, "film" the shared demo copy.
CONTEXTS = {
    QUICK_START: "repo",
    "Making your own film": "scratch",
    "The bible, as the film goes on": "scratch",
    "Dialogue": "scratch",
    "Generators": "film",
    "Cost and budgets": "film",
    "Checks": "film",
    "Motion": "film",
    "Review, the cut, and delivery": "film",
    "The shot board": "film",
    "Review: assignments and playlists": "film",
}

# Programs a runnable command may start with.
PROGRAMS = frozenset({"setpiece", "pip", "python", "python3", "cd"})

# The Fountain stand-in for draft.fountain: the conductor ANNA the README's examples name, in
# one scene (two shots, 9 s: a master runs at least an eighth of a page, 7.5 s) so that
# `make` at 1920x1080 with two takes a shot stays quick.
DRAFT = """\
Title: Night Train
Author: the README runner

INT. NIGHT TRAIN - CORRIDOR - NIGHT

ANNA, a conductor in her forties, punches a ticket.

ANNA
Tickets, please.
"""

# Its revision (a scene added, the first one's line changed), and another screenplay.
DRAFT2 = (
    DRAFT.replace("punches a ticket.", "punches a ticket, then another.")
    + """
EXT. PLATFORM - NIGHT

Steam. ANNA steps down onto the platform.
"""
)
OTHER = """\
Title: Another Film

EXT. DESERT - DAY

Sand, and a lizard.
"""

# Placeholder files of the README and what stands in for each (made in the command's folder
# when missing): (description, recipe). Recipes are run by `_make_stand_in`.
STAND_INS: dict[str, tuple[str, tuple[str, ...]]] = {
    "draft.fountain": ("a one-scene Fountain script", ("text",)),
    "draft2.fountain": ("its revision: a line changed, a scene added", ("text", "revision")),
    "other.fountain": ("another one-scene screenplay", ("text", "other")),
    "the-last-reel.fountain": ("the demo's four-scene script", ("demo-script",)),
    "mara1.jpg": ("a 320x240 photo", ("photo", "4")),
    "mara2.jpg": ("a 320x240 photo", ("photo", "5")),
    "mara-oilskin.jpg": ("a 320x240 photo", ("photo", "6")),
    "consent.pdf": ("a signed consent (a few bytes of text)", ("consent",)),
    "anna1.jpg": ("a 320x240 photo", ("photo", "1")),
    "anna2.jpg": ("a 320x240 photo", ("photo", "2")),
    "gen_001.mp4": ("a 2 s 24 fps clip", ("clip", "48", "24", "11")),
    "gen_002.mp4": ("a 2 s 24 fps clip", ("clip", "48", "24", "12")),
    "reel.mp4": ("three 1 s shots joined by hard cuts", ("reel",)),
    "films/": ("a folder holding one clip", ("clip", "48", "24", "31", "reference.mp4")),
    "stills/poster.jpg": ("a 320x240 photo", ("photo", "3")),
    "in.mp4": ("a 2 s 12 fps clip", ("clip", "24", "12", "21")),
    "take.mp4": ("a 2 s 24 fps clip", ("clip", "48", "24", "22")),
    "editors_cut.edl": ("the cut.edl the block's assemble wrote", ("copy", "cut.edl")),
}

# Files the README's commands write (so a later command may read them).
OUTPUTS = frozenset(
    {
        "shots.csv",
        "continuity.html",
        "integrity.html",
        "out.mp4",
        "cut.otio",
        "cut.otioz",
        "cut.edl",
        "cut.xml",
        "cut.mp4",
        "sheet.png",
        "hero.mp4",
        "disclosure.html",
    }
)

FILE_TOKEN = re.compile(
    r"[\w./-]+\.(?:fountain|fdx|jpe?g|png|tiff?|mp4|mov|mkv|wav|csv|edl|otioz?|xml|html|json)"
    r"|[\w.-]+/"
)
NEEDS = re.compile(r"^needs:\s*(.+)$")
PASSWORD = re.compile(r"one-time password:\s*(\S+)")
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
COOKIE = "setpiece_session"

# Seconds: the Quick start (a venv, an install and the demo), any other command, a server's
# start.
QUICK_START_TIMEOUT = 1800
COMMAND_TIMEOUT = 900
SERVE_TIMEOUT = 90


# Parsing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One logical line of a shell block: backslash continuations joined, comment apart."""

    line: int
    text: str
    comment: str

    @property
    def skip(self) -> str | None:
        """Why it is not run (its ``# needs: ...`` comment), or None."""
        found = NEEDS.match(self.comment)
        return found.group(1).strip() if found else None

    def words(self) -> list[str]:
        return shlex.split(self.text)


@dataclass(frozen=True)
class Block:
    """A fenced shell block of the README, under its nearest heading."""

    line: int
    heading: str
    commands: tuple[Command, ...]
    skip: str | None = None  # a first line "# needs: ..." skips the whole block

    @property
    def title(self) -> str:
        return f"README.md:{self.line} ({self.heading})"


@dataclass(frozen=True)
class Readme:
    blocks: tuple[Block, ...]
    problems: tuple[str, ...]


def split_comment(line: str) -> tuple[str, str]:
    """``(code, comment)`` of one shell line: ``#`` starts a comment outside quotes, at the
    start or after whitespace (as bash reads it)."""
    quote = ""
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def _commands(lines: list[tuple[int, str]]) -> Iterator[Command]:
    pending = ""
    start = 0
    for number, raw in lines:
        code, comment = split_comment(raw)
        if not pending:
            start = number
        if code.endswith("\\"):
            pending += code[:-1] + " "
            continue
        text = " ".join((pending + code).split()) if pending else code.strip()
        pending = ""
        if text or comment:
            yield Command(start, text, comment)
    if pending:
        yield Command(start, " ".join(pending.split()), "")


def parse_readme(text: str) -> Readme:
    """The README's shell blocks, and what in it the runner could not map."""
    blocks: list[Block] = []
    problems: list[str] = []
    heading = ""
    fence = ""
    info = ""
    body: list[tuple[int, str]] = []
    opened = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                _close(blocks, problems, heading, info, opened, body)
                fence = ""
            else:
                body.append((number, line))
            continue
        opening = re.match(r"^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)", line)
        if opening:
            fence, info, opened, body = opening.group(1), opening.group(2).lower(), number, []
            continue
        title = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if title:
            heading = title.group(1)
    if fence:
        problems.append(f"README.md:{opened}: a code block is never closed")
    return Readme(tuple(blocks), tuple(problems))


def _close(
    blocks: list[Block],
    problems: list[str],
    heading: str,
    info: str,
    opened: int,
    body: list[tuple[int, str]],
) -> None:
    where = f"README.md:{opened} ({heading})"
    if info not in SHELL_INFOS:
        if not info and any(re.match(r"\s*(\$ )?(setpiece|pip|python3?) ", t) for _, t in body):
            problems.append(f"{where}: a block of shell commands without 'sh' after the fence")
        return
    commands = list(_commands(body))
    skip = None
    if commands and not commands[0].text:
        skip = commands[0].skip
    runnable = [c for c in commands if c.text]
    block = Block(opened, heading, tuple(runnable), skip)
    for stray in commands[1:]:
        if not stray.text and stray.skip is not None:
            problems.append(
                f"README.md:{stray.line}: a '# needs:' line skips a block only as its first "
                "line; to skip one command, put the comment after it"
            )
    blocks.append(block)
    if not runnable:
        problems.append(f"{where}: a shell block without a command")
    if skip is None and heading not in CONTEXTS:
        problems.append(
            f"{where}: the runner does not know where to run blocks of section {heading!r}: "
            "add it to CONTEXTS in .ci/readme_runner.py, or mark the block '# needs: REASON'"
        )
    if skip is None:
        for command in runnable:
            problems.extend(_command_problems(command))


def _command_problems(command: Command) -> list[str]:
    if command.skip is not None:
        return []
    where = f"README.md:{command.line}"
    try:
        words = command.words()
    except ValueError as exc:
        return [f"{where}: cannot split {command.text!r}: {exc}"]
    problems = []
    simple_commands = list(_simple_commands(words))
    for simple in simple_commands:
        if simple and simple[0] not in PROGRAMS and simple[0] != ".":
            problems.append(
                f"{where}: the runner does not run {simple[0]!r} ({command.text!r}): mark it "
                "'# needs: REASON' or teach .ci/readme_runner.py"
            )
        if len(simple_commands) > 1 and _setpiece_verb(simple)[:1] == ["serve"]:
            problems.append(f"{where}: 'serve' must stand alone on its line to be run")
    for word in words:
        if FILE_TOKEN.fullmatch(word) and word not in STAND_INS and word not in OUTPUTS:
            problems.append(
                f"{where}: {word!r} is neither a stand-in the runner makes nor a file an "
                "earlier command writes: add it to STAND_INS or OUTPUTS in "
                ".ci/readme_runner.py, or mark the command '# needs: REASON'"
            )
    return problems


def _simple_commands(words: list[str]) -> Iterator[list[str]]:
    current: list[str] = []
    for word in words:
        if word in ("&&", "||", ";", "|"):
            yield current
            current = []
        else:
            current.append(word)
    yield current


GLOBAL_OPTIONS = {"-C": "--project", "--project": "--project", "--db": "--db", "--as": "--as"}


def _global_options(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """``setpiece [global options] VERB ...``: the options given (by long name) and the
    words from the verb on (both empty when ``words`` is not a setpiece command)."""
    if not words or words[0] != "setpiece":
        return {}, []
    found: dict[str, str] = {}
    rest = words[1:]
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in GLOBAL_OPTIONS and rest:
            found[GLOBAL_OPTIONS[option]] = rest.pop(0)
    return found, rest


def _setpiece_verb(words: list[str]) -> list[str]:
    return _global_options(words)[1]


def quick_start(readme: Readme) -> Block | None:
    """The first shell block under the Quick start heading."""
    return next((b for b in readme.blocks if b.heading == QUICK_START), None)


def check_readme(readme: Readme) -> list[str]:
    """Everything the runner could not map, plus the Quick start's shape."""
    problems = list(readme.problems)
    block = quick_start(readme)
    if block is None:
        return [*problems, "README.md: no shell block under '## Quick start'"]
    if len(block.commands) != 2:
        problems.append(
            f"{block.title}: the Quick start block must hold two commands (install and demo; "
            f"the test command), not {len(block.commands)}"
        )
    elif not re.search(r"\bpip install \.(?=\s|$)", block.commands[0].text):
        problems.append(
            f"{block.title}: the Quick start installs with 'pip install .' (not editable): "
            f"{block.commands[0].text!r}"
        )
    return problems


# Running -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    title: str
    status: str = "ran"  # ran, skipped, FAILED, not run
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Failed(Exception):
    """A command or a check failed; the message says what and shows the output's tail."""


def tail(text: str, lines: int = 25) -> str:
    kept = text.rstrip().splitlines()[-lines:]
    return textwrap.indent("\n".join(kept), "    | ")


class Runner:
    def __init__(self, work: Path, reuse_venv: bool, debug: bool) -> None:
        self.work = work
        self.repo = work / "repo"
        self.venv = self.repo / ".venv"
        self.film = work / "film"
        self.logs = work / "logs"
        self.reuse_venv = reuse_venv
        self.debug = debug
        self.outcomes: list[Outcome] = []
        self.passwords: dict[tuple[Path, str], str] = {}
        self.count = 0
        self.demo_made = False

    # The copy and the environment ----------------------------------------------------------

    def copy_repository(self) -> None:
        """``git archive HEAD`` into ``repo/`` (keeping ``repo/.venv`` with --reuse-venv)."""
        if self.repo.exists():
            for child in self.repo.iterdir():
                if child.name == ".venv" and self.reuse_venv:
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        self.repo.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        if self.film.exists():
            shutil.rmtree(self.film)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"],
            check=True,
            capture_output=True,
        )
        subprocess.run(["tar", "-x", "-C", str(self.repo)], input=archive.stdout, check=True)
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if dirty:
            print(
                "warning: uncommitted changes are not tested (the README runs on HEAD):\n"
                + textwrap.indent(dirty, "  "),
                flush=True,
            )

    def base_env(self) -> dict[str, str]:
        """A user's environment: no venv, no PYTHONPATH, no SETPIECE_* settings."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SETPIECE_")
            and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")
        }
        active = os.environ.get("VIRTUAL_ENV")
        if active:
            bin_dir = str(Path(active) / "bin")
            env["PATH"] = os.pathsep.join(
                p for p in env.get("PATH", "").split(os.pathsep) if p != bin_dir
            )
        env["COLUMNS"] = "200"  # rich wraps at 80 columns when not on a terminal
        if self.debug:
            env["SETPIECE_DEBUG"] = "1"
        return env

    def venv_env(self) -> dict[str, str]:
        env = self.base_env()
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PATH"] = str(self.venv / "bin") + os.pathsep + env.get("PATH", "")
        return env

    def shell(
        self, text: str, cwd: Path, env: dict[str, str], timeout: int = COMMAND_TIMEOUT
    ) -> tuple[int, str]:
        """Runs ``text`` with bash; returns the exit status and the output (also logged)."""
        self.count += 1
        log = self.logs / f"{self.count:03d}.log"
        started = time.monotonic()
        try:
            done = subprocess.run(
                ["bash", "-c", text],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                timeout=timeout,
            )
            code, output = done.returncode, done.stdout
        except subprocess.TimeoutExpired as exc:
            partial = exc.stdout or ""
            code = 124
            output = (partial if isinstance(partial, str) else partial.decode(errors="replace")) + (
                f"\n(killed after {timeout} s)"
            )
        log.write_text(f"$ {text}\n(in {cwd})\n{output}\n(exit {code})\n")
        print(f"    $ {text}  [exit {code}, {time.monotonic() - started:.1f} s]", flush=True)
        return code, output

    def run_ok(self, text: str, cwd: Path, env: dict[str, str] | None = None) -> str:
        code, output = self.shell(text, cwd, env or self.venv_env())
        if code != 0:
            raise Failed(f"`{text}` exited {code}:\n{tail(output)}")
        return output

    def python(self, code: str, *args: str, cwd: Path | None = None) -> str:
        """Runs ``code`` with the venv's Python (tests/ of the copy on its path)."""
        env = self.venv_env()
        env["PYTHONPATH"] = str(self.repo / "tests")
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code, *args],
            cwd=cwd or self.repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        if done.returncode != 0:
            raise Failed(f"python exited {done.returncode}:\n{tail(done.stdout + done.stderr)}")
        return done.stdout

    # Blocks --------------------------------------------------------------------------------

    def run(self, readme: Readme) -> None:
        total = time.monotonic()
        for block in readme.blocks:
            if block.heading == QUICK_START and block is quick_start(readme):
                self.quick_start(block)
            else:
                self.block(block)
        self.report(time.monotonic() - total)

    def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        notes = "".join(f"\n    {n}" for n in outcome.notes)
        print(f"{outcome.status:7} {outcome.title} ({outcome.seconds:.0f} s){notes}", flush=True)

    def quick_start(self, block: Block) -> None:
        install, test = block.commands[0], block.commands[1]
        outcome = Outcome(f"{block.title}: {install.text}")
        print(f"== {outcome.title}", flush=True)
        started = time.monotonic()
        code, output = self.shell(install.text, self.repo, self.base_env(), QUICK_START_TIMEOUT)
        outcome.seconds = time.monotonic() - started
        if code != 0:
            outcome.status = "FAILED"
            outcome.notes.append(f"exited {code}:\n{tail(output)}")
        self.record(outcome)
        self.demo_made = (self.repo / "setpiece-demo" / "setpiece.toml").exists()
        self.record(
            Outcome(
                f"{block.title}: {test.text}",
                "skipped",
                ["the README's test command: .ci/run runs it after this script"],
            )
        )
        if not (self.venv / "bin" / "setpiece").exists():
            return
        for name, check in (
            ("the timeline opens in OpenTimelineIO with every shot", self.check_timeline),
            ("the movie decodes to the timeline's length", self.check_movie),
            ("the movie and the .otio/.edl sidecars verify", self.check_signatures),
            ("the disclosure exists (json and html)", self.check_disclosure),
            ("setpiece fsck is clean", self.check_fsck),
        ):
            self.check(f"demo: {name}", check)
        if code == 0 and self.demo_made:
            # The film of the later sections: the demo as it is now, before any member.
            shutil.copytree(self.repo / "setpiece-demo", self.film, symlinks=True)

    def check(self, title: str, check: Callable[[], str]) -> None:
        outcome = Outcome(title)
        started = time.monotonic()
        try:
            notes = check()
            if notes:
                outcome.notes.append(str(notes))
        except Failed as exc:
            outcome.status = "FAILED"
            outcome.notes.append(str(exc))
        outcome.seconds = time.monotonic() - started
        self.record(outcome)

    def block(self, block: Block) -> None:
        outcome = Outcome(block.title)
        print(f"== {block.title}", flush=True)
        if block.skip is not None:
            outcome.status = "skipped"
            outcome.notes.append(f"needs: {block.skip}")
            self.record(outcome)
            return
        context = CONTEXTS.get(block.heading)
        if context is None:
            outcome.status = "FAILED"
            outcome.notes.append(f"no context for section {block.heading!r} (see CONTEXTS)")
            self.record(outcome)
            return
        if not (self.venv / "bin" / "setpiece").exists():
            outcome.status = "not run"
            outcome.notes.append("the Quick start made no venv with setpiece")
            self.record(outcome)
            return
        if context == "film" and not self.film.exists():
            outcome.status = "not run"
            outcome.notes.append("the Quick start failed: no demo film to run it on")
            self.record(outcome)
            return
        if context == "scratch":
            cwd = self.work / f"scratch-{block.line}"
            shutil.rmtree(cwd, ignore_errors=True)
            cwd.mkdir(parents=True)
        else:
            cwd = self.repo if context == "repo" else self.film
        started = time.monotonic()
        ran = 0
        for command in block.commands:
            if command.skip is not None:
                outcome.notes.append(f"skipped line {command.line}: needs: {command.skip}")
                continue
            try:
                cwd = self.command(command, cwd, outcome)
                ran += 1
            except Failed as exc:
                outcome.status = "FAILED"
                outcome.notes.append(f"line {command.line}: {exc}")
        outcome.seconds = time.monotonic() - started
        if ran == 0 and outcome.status == "ran":
            outcome.status = "skipped"
        self.record(outcome)

    def command(self, command: Command, cwd: Path, outcome: Outcome) -> Path:
        """Runs one command in ``cwd``; returns the folder the next command runs in."""
        words = command.words()
        if words[:1] == ["cd"] and len(words) == 2:
            target = (cwd / words[1]).resolve()
            if not target.is_dir():
                raise Failed(f"`{command.text}`: no folder {target}")
            print(f"    $ {command.text}", flush=True)
            return target
        for word in words:
            if word in STAND_INS and not (cwd / word).exists():
                self.stand_in(word, cwd)
                outcome.notes.append(f"stand-in {word}: {STAND_INS[word][0]}")
        verb = _setpiece_verb(words)
        if verb[:1] == ["serve"]:
            outcome.notes.extend(self.serve(words, cwd))
            return cwd
        output = self.run_ok(command.text, cwd)
        if verb[:2] == ["user", "add"] and len(verb) >= 3:
            found = PASSWORD.search(output)
            if found is None:
                raise Failed(f"`{command.text}` printed no one-time password:\n{tail(output)}")
            self.passwords[(self._project(words, cwd), verb[2])] = found.group(1)
        return cwd

    def _project(self, words: list[str], cwd: Path) -> Path:
        named = _global_options(words)[0].get("--project")
        return (cwd / named).resolve() if named else cwd.resolve()

    # Stand-ins -----------------------------------------------------------------------------

    def stand_in(self, name: str, cwd: Path) -> None:
        recipe = STAND_INS[name][1]
        path = cwd / name
        kind = recipe[0]
        if kind == "text":
            path.write_text({"revision": DRAFT2, "other": OTHER}.get(recipe[-1], DRAFT))
        elif kind == "demo-script":
            shutil.copyfile(ROOT / "src" / "setpiece" / "pipeline" / "demo.fountain", path)
        elif kind == "consent":
            path.write_text("Ada Lee consents to her likeness in The Last Reel. Signed.\n")
        elif kind == "copy":
            source = cwd / recipe[1]
            if not source.exists():
                raise Failed(f"stand-in {name}: {source} is not there to copy")
            shutil.copyfile(source, path)
        else:
            if name.endswith("/"):
                path = path / recipe[4]
            path.parent.mkdir(parents=True, exist_ok=True)
            self.python(MEDIA_SCRIPT, kind, str(path), *recipe[1:4], cwd=cwd)

    # The shot board ------------------------------------------------------------------------

    def serve(self, words: list[str], cwd: Path) -> list[str]:
        """Starts ``setpiece ... serve``, logs in over HTTP, reads the board, stops it."""
        notes = []
        argv = list(words)
        verb_at = len(argv) - len(_setpiece_verb(argv))
        port = 8000
        if "--port" in argv[verb_at:]:
            port = int(argv[argv.index("--port", verb_at) + 1])
        if not port_free(port):
            free = free_port()
            if "--port" in argv[verb_at:]:
                argv[argv.index("--port", verb_at) + 1] = str(free)
            else:
                argv += ["--port", str(free)]
            notes.append(f"port {port} is taken here: served on {free}")
            port = free
        project = self._project(words, cwd)
        member = _global_options(words)[0].get("--as") or next(
            (name for (folder, name) in self.passwords if folder == project), None
        )
        if member is None or (project, member) not in self.passwords:
            raise Failed(
                f"`{shlex.join(words)}`: no member of {project} with a password printed by "
                "an earlier 'user add' to log in as"
            )
        password = self.passwords[(project, member)]
        argv[0] = str(self.venv / "bin" / "setpiece")
        self.count += 1
        log = self.logs / f"{self.count:03d}-serve.log"
        print(f"    $ {shlex.join(words)}  (started on port {port})", flush=True)
        with open(log, "w") as sink:
            server = subprocess.Popen(
                argv,
                cwd=cwd,
                env=self.venv_env(),
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            wait_until_serving(server, port, log)
            notes.append(login_and_read_board(port, member, password))
        finally:
            stopped = stop(server)
        if not stopped:
            raise Failed(f"the server did not stop on SIGINT or SIGTERM:\n{tail(log.read_text())}")
        return notes

    # Checks on the demo --------------------------------------------------------------------

    @property
    def demo(self) -> Path:
        return self.repo / "setpiece-demo"

    def check_timeline(self) -> str:
        if not (self.demo / "cut" / "cut.otio").exists():
            raise Failed("no setpiece-demo/cut/cut.otio")
        listed = json.loads(self.run_ok("setpiece shot list --json", self.demo))
        expected = [s["code"] for s in listed if s.get("status") != "omitted"]
        report = json.loads(self.python(TIMELINE_SCRIPT, str(self.demo / "cut" / "cut.otio")))
        if report["shots"] != expected:
            raise Failed(
                f"the timeline's shots {report['shots']} are not the shot list's {expected}"
            )
        if report["missing_media"]:
            raise Failed(f"clips point at missing media: {report['missing_media']}")
        return f"{len(expected)} shots in order, {report['frames']} frames"

    def check_movie(self) -> str:
        movie = self.demo / "cut" / "preview.mp4"
        if not movie.exists():
            raise Failed("no setpiece-demo/cut/preview.mp4")
        timeline = json.loads(self.python(TIMELINE_SCRIPT, str(self.demo / "cut" / "cut.otio")))
        decoded = json.loads(self.python(DECODE_SCRIPT, str(movie)))
        if decoded["video_frames"] != timeline["frames"]:
            raise Failed(
                f"the movie decodes to {decoded['video_frames']} frames, the timeline has "
                f"{timeline['frames']}"
            )
        if decoded["audio_seconds"] <= 0:
            raise Failed("the movie has no audio that decodes")
        return (
            f"{decoded['video_frames']} frames {decoded['codec']} {decoded['size']}, "
            f"{decoded['audio_seconds']:.1f} s of audio"
        )

    def check_signatures(self) -> str:
        states = []
        for name in ("preview.mp4", "cut.otio", "cut.edl"):
            path = f"cut/{name}"
            code, output = self.shell(f"setpiece verify {path} --json", self.demo, self.venv_env())
            try:
                report = json.loads(output)
            except ValueError:
                raise Failed(
                    f"`setpiece verify {path} --json` exited {code}:\n{tail(output)}"
                ) from None
            if code != 0 or report.get("state") not in ("Valid", "Trusted"):
                raise Failed(f"{path}: exit {code}, {report.get('state')}: {report.get('reasons')}")
            if name != "preview.mp4" and not report.get("sidecar"):
                raise Failed(f"{path}: verified without its .c2pa sidecar")
            states.append(f"{name} {report['state']}")
        return ", ".join(states)

    def check_disclosure(self) -> str:
        cut = self.demo / "cut"
        for name in ("disclosure.json", "disclosure.html"):
            if not (cut / name).is_file() or not (cut / name).stat().st_size:
                raise Failed(f"no setpiece-demo/cut/{name}")
        try:
            disclosure = json.loads((cut / "disclosure.json").read_text())
        except ValueError as exc:
            raise Failed(f"disclosure.json is no JSON: {exc}") from None
        if not disclosure.get("total_frames"):
            raise Failed(f"disclosure.json counts no frames: {sorted(disclosure)}")
        return f"{disclosure['total_frames']} frames disclosed"

    def check_fsck(self) -> str:
        output = self.run_ok("setpiece fsck", self.demo)
        return output.strip().splitlines()[-1] if output.strip() else ""

    # The summary ---------------------------------------------------------------------------

    def report(self, seconds: float) -> None:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        print(f"\nREADME runner: {summary} in {seconds / 60:.1f} min (logs in {self.logs})")
        for outcome in self.outcomes:
            if outcome.status in ("FAILED", "not run"):
                print(f"  {outcome.status}: {outcome.title}")

    @property
    def failed(self) -> bool:
        return any(o.status in ("FAILED", "not run") for o in self.outcomes)


# HTTP against the real server ----------------------------------------------------------------


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(
    port: int, method: str, path: str, cookie: str = "", form: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """One HTTP request (no redirects followed): status, lower-cased headers, body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        found = {k.lower(): v for k, v in response.getheaders()}
        return response.status, found, text
    finally:
        connection.close()


def session_cookie(headers: dict[str, str]) -> str:
    found = re.search(rf"{COOKIE}=([^;]+)", headers.get("set-cookie", ""))
    return found.group(1) if found else ""


def wait_until_serving(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVE_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise Failed(
                f"serve exited {server.returncode} before serving:\n{tail(log.read_text())}"
            )
        try:
            status, _, _ = request(port, "GET", "/login")
        except OSError:
            time.sleep(0.5)
            continue
        if status == 200:
            return
        raise Failed(f"GET /login answered {status}:\n{tail(log.read_text())}")
    raise Failed(
        f"serve did not answer on port {port} in {SERVE_TIMEOUT} s:\n{tail(log.read_text())}"
    )


CHANGE_PAGE = "/account/password"


def login_and_read_board(port: int, member: str, password: str) -> str:
    """Logs in through the form with the one-time password (refusing a wrong password
    first), sets a new password as the board asks, then reads the board."""
    status, headers, page = request(port, "GET", "/login")
    cookie = session_cookie(headers)
    token = CSRF.search(page)
    if status != 200 or not cookie or token is None:
        raise Failed(f"GET /login: {status}, no session cookie or CSRF token in the form")
    form = {"username": member, "csrf_token": token.group(1), "next": "/"}
    status, _, _ = request(port, "POST", "/login", cookie, {**form, "password": password + "x"})
    if status == 303:
        raise Failed("POST /login with a wrong password logged in")
    status, headers, body = request(port, "POST", "/login", cookie, {**form, "password": password})
    logged_in = session_cookie(headers)
    if status != 303 or not logged_in or headers.get("location") != CHANGE_PAGE:
        raise Failed(
            f"POST /login as {member} with the one-time password: {status} to "
            f"{headers.get('location')} (wanted 303 to {CHANGE_PAGE})\n{tail(body)}"
        )
    status, _, body = request(port, "GET", "/api/v1/me", logged_in)
    if status != 403 or CHANGE_PAGE not in body:
        raise Failed(f"GET /api/v1/me before a new password: {status} {body[:300]}")
    logged_in = set_new_password(port, logged_in, password + " but mine")
    status, _, _ = request(port, "POST", "/login", cookie, {**form, "password": password})
    if status == 303:
        raise Failed("a second login with the one-time password logged in")
    status, _, body = request(port, "GET", "/api/v1/me", logged_in)
    if status != 200 or json.loads(body).get("name") != member:
        raise Failed(f"GET /api/v1/me after logging in: {status} {body[:300]}")
    status, _, body = request(port, "GET", "/board", logged_in)
    if status != 200:
        raise Failed(f"GET /board after logging in: {status}\n{tail(body)}")
    return (
        f"logged in as {member} over HTTP on port {port} with the one-time password, set a new "
        "one (the one-time one then refused); /api/v1/me and /board answered"
    )


def set_new_password(port: int, cookie: str, new: str) -> str:
    """Sets a new password on ``/account/password``; returns the session cookie to go on with."""
    status, _, page = request(port, "GET", CHANGE_PAGE, cookie)
    token = CSRF.search(page)
    if status != 200 or token is None:
        raise Failed(f"GET {CHANGE_PAGE}: {status}, no form with a CSRF token\n{tail(page)}")
    form = {"csrf_token": token.group(1), "new_password": new, "repeat_password": new}
    status, headers, body = request(port, "POST", CHANGE_PAGE, cookie, form)
    renewed = session_cookie(headers)
    if status != 303 or not renewed:
        raise Failed(f"POST {CHANGE_PAGE}: {status}\n{tail(body)}")
    return renewed


def stop(server: subprocess.Popen[bytes]) -> bool:
    """Stops the server's process group (Ctrl-C first, as a user would)."""
    for sent, wait in ((signal.SIGINT, 15), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if server.poll() is not None:
            break
        try:
            os.killpg(server.pid, sent)
        except ProcessLookupError:
            break
        try:
            server.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        return sent != signal.SIGKILL
    return server.poll() is not None


# Scripts run with the venv's Python -----------------------------------------------------------

MEDIA_SCRIPT = """
import sys
from fractions import Fraction

import av
import numpy as np

import mediafactory

kind, path, *args = sys.argv[1:]
if kind == "photo":
    mediafactory.write_jpeg(path, 320, 240, seed=int(args[0]))
elif kind == "clip":
    frames, fps, seed = int(args[0]), Fraction(args[1]), int(args[2])
    mediafactory.write_mp4(path, frames=frames, fps=fps, w=320, h=180, seed=seed)
elif kind == "reel":
    with av.open(path, mode="w") as output:
        stream = output.add_stream(mediafactory.video_codec(), rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        colours = [(200, 40, 40), (40, 170, 60), (30, 40, 190)]
        for index in range(72):
            pixels = np.empty((180, 320, 3), dtype=np.uint8)
            pixels[:] = colours[index // 24]
            x = 20 + (index % 24) * 8
            pixels[60:120, x : x + 40] = 255
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
else:
    raise SystemExit(f"unknown stand-in recipe {kind}")
"""

TIMELINE_SCRIPT = """
import json
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import opentimelineio as otio

timeline = otio.adapters.read_from_file(sys.argv[1])
shots, missing = [], []
for clip in timeline.video_tracks()[0].find_clips():  # the picture; dialogue is on D1, D2
    shots.append(clip.metadata.get("setpiece", {}).get("shot", clip.name))
    reference = clip.media_reference
    if isinstance(reference, otio.schema.ExternalReference):
        if not Path(unquote(urlparse(reference.target_url).path)).exists():
            missing.append(clip.name)
duration = timeline.video_tracks()[0].duration()
print(json.dumps({"shots": shots, "missing_media": missing,
                  "frames": round(duration.value), "rate": duration.rate}))
"""

DECODE_SCRIPT = """
import json
import sys

import av

with av.open(sys.argv[1]) as container:
    video = container.streams.video[0]
    frames, size = 0, None
    for frame in container.decode(video):
        frames += 1
        size = f"{frame.width}x{frame.height}"
    codec = video.codec_context.name
with av.open(sys.argv[1]) as container:
    samples, rate = 0, 1
    if container.streams.audio:
        audio = container.streams.audio[0]
        for frame in container.decode(audio):
            samples += frame.samples
            rate = frame.sample_rate
print(json.dumps({"video_frames": frames, "size": size, "codec": codec,
                  "audio_seconds": samples / rate}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        help="Work here instead of a fresh temporary folder (kept afterwards).",
    )
    parser.add_argument(
        "--reuse-venv",
        action="store_true",
        help="With --workdir: keep repo/.venv from the last run (not for CI).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    parser.add_argument(
        "--debug", action="store_true", help="Set SETPIECE_DEBUG=1 (tracebacks in failures)."
    )
    parser.add_argument(
        "--check", action="store_true", help="Only parse README.md and list its blocks."
    )
    options = parser.parse_args(argv)
    if options.reuse_venv and options.workdir is None:
        parser.error("--reuse-venv needs --workdir")

    readme = parse_readme((ROOT / "README.md").read_text())
    problems = check_readme(readme)
    if options.check:
        for block in readme.blocks:
            print(
                f"{block.title}: {CONTEXTS.get(block.heading, '?')}, "
                f"{len(block.commands)} command(s)"
                + (f", skipped: {block.skip}" if block.skip else "")
            )
    if problems:
        print("README.md has blocks the runner cannot map:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if options.check:
        return 0

    work = options.workdir or Path(tempfile.mkdtemp(prefix="setpiece-readme-"))
    work = work.resolve()
    runner = Runner(work, options.reuse_venv, options.debug)
    print(f"README runner: a clean copy of HEAD in {runner.repo}", flush=True)
    try:
        runner.copy_repository()
        # The README of the copy is what runs: committed text against committed code.
        copied = parse_readme((runner.repo / "README.md").read_text())
        if check_readme(copied):
            print("the committed README.md has blocks the runner cannot map", file=sys.stderr)
            return 1
        runner.run(copied)
    finally:
        if options.workdir is None and not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
