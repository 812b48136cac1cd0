"""The plugin contract's bad inputs: broken entry points, refused settings, requests beyond
capabilities, and the registry loading one plugin by name.

Entry points come from a real ``.dist-info`` folder written into a temporary folder on
``sys.path`` (``importlib.metadata`` reads it as it reads an installed package), so these
tests do not depend on what is installed in the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

import pytest
import tomli_w

from setpiece.errors import InvalidInputError
from setpiece.generate import (
    Capabilities,
    Generator,
    GeneratorSettings,
    Mode,
    RenderRequest,
    RenderResult,
    get_generator,
    list_generators,
    register,
)
from setpiece.generate.registry import _LOADED, _REGISTERED, declared_origin
from setpiece.production.context import Production
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot
from setpiece.script.planner import ShotPlanner, get_planner

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example_plugin"

ENTRY_POINTS = """\
[setpiece.generators]
solid = setpiece_solid:SolidGenerator
raises = plugin_that_raises:Renderer
notgen = plugin_not_a_generator:Renderer

[setpiece.planners]
raises = plugin_that_raises:Planner
notplanner = plugin_not_a_generator:Renderer
"""


def install_plugins(folder: Path) -> Path:
    """A folder with three plugin modules and the dist-info that publishes them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plugin_that_raises.py").write_text("raise RuntimeError('no licence server')\n")
    (folder / "plugin_not_a_generator.py").write_text("class Renderer:\n    pass\n")
    info = folder / "setpiece_test_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: setpiece-test-plugins\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return folder


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = install_plugins(tmp_path / "site")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.syspath_prepend(str(EXAMPLE))
    for name in ("plugin_that_raises", "plugin_not_a_generator", "setpiece_solid"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    _LOADED.clear()  # plugins loaded by an earlier test, from another temporary folder
    yield folder
    _LOADED.clear()


# The registry ----------------------------------------------------------------------------------


def test_an_entry_point_that_raises_on_import_is_named(plugins: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        get_generator("raises")
    assert str(caught.value) == (
        "generator plugin 'raises' cannot be loaded: importing plugin_that_raises:Renderer "
        "raised RuntimeError: no licence server"
    )
    with pytest.raises(InvalidInputError, match="generator plugin 'raises' cannot be loaded"):
        declared_origin("raises")


def test_an_entry_point_that_is_not_a_generator_is_named(plugins: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        get_generator("notgen")
    assert str(caught.value) == (
        "generator plugin 'notgen' cannot be loaded: plugin_not_a_generator:Renderer is "
        "the class Renderer, not a setpiece Generator subclass"
    )


def test_listing_shows_broken_plugins_beside_working_ones(plugins: Path) -> None:
    listed = {info.name: info for info in list_generators()}
    assert {"previs", "diffusers", "comfyui", "runway", "solid"} <= set(listed)
    assert listed["solid"].available and listed["solid"].source.startswith("entry point")
    for name in ("raises", "notgen"):
        assert listed[name].source == "broken" and not listed[name].available
    assert "RuntimeError: no licence server" in (listed["raises"].install_hint or "")
    assert "not a setpiece Generator subclass" in (listed["notgen"].install_hint or "")


def test_asking_for_one_generator_imports_that_plugin_only(plugins: Path) -> None:
    generator = get_generator("solid", {"colour": "#102030"})
    assert type(generator).__name__ == "SolidGenerator"
    assert "setpiece_solid" in sys.modules
    # The broken ones were never imported: they cannot break a render that does not use them.
    assert "plugin_that_raises" not in sys.modules
    assert "plugin_not_a_generator" not in sys.modules
    get_generator("previs")
    assert "plugin_that_raises" not in sys.modules


def test_planner_entry_points_are_named_when_broken(plugins: Path) -> None:
    with pytest.raises(
        InvalidInputError,
        match=r"shot planner plugin 'raises' cannot be loaded: "
        r"importing plugin_that_raises:Planner raised RuntimeError",
    ):
        get_planner("raises")
    with pytest.raises(
        InvalidInputError,
        match=r"plugin_not_a_generator:Renderer is the class "
        r"Renderer, not a setpiece ShotPlanner subclass",
    ):
        get_planner("notplanner")
    assert isinstance(get_planner("rules"), ShotPlanner)
    assert "plugin_not_a_generator" in sys.modules  # asked for by name, so imported


# Settings --------------------------------------------------------------------------------------


def test_a_plugin_settings_class_that_rejects_a_value_names_key_and_section(
    plugins: Path,
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        get_generator("solid", {"colour": "red"})
    assert str(caught.value) == (
        'setpiece.toml [generators.solid] colour: expected "#rrggbb", got "red"'
    )
    with pytest.raises(InvalidInputError, match=r"\[generators.solid\]: unknown key 'hue'"):
        get_generator("solid", {"hue": 3})


@pytest.mark.parametrize(
    ("name", "table", "message"),
    [
        ("previs", {"caption": 3}, r"\[generators.previs\] caption: expected one of"),
        ("previs", {"concurrency": "two"}, r"\[generators.previs\] concurrency: expected a whole"),
        ("previs", {"base_dir": "/p"}, r"\[generators.previs\]: unknown key 'base_dir'"),
        ("comfyui", {"timeout_s": "soon"}, r"\[generators.comfyui\] timeout_s: expected a number"),
        ("diffusers", {"batch_size": 0}, r"\[generators.diffusers\] batch_size: expected"),
        ("diffusers", {"stepz": 4}, r"\[generators.diffusers\]: unknown key 'stepz'"),
        ("runway", {"base_dir": "/p"}, r"\[generators.runway\]: unknown key 'base_dir'"),
        ("runway", {"max_references": 1.5}, r"\[generators.runway\] max_references: expected"),
    ],
)
def test_each_backend_refuses_bad_settings(name: str, table: dict[str, Any], message: str) -> None:
    # Read without making the backend: its optional packages need not be installed.
    from setpiece.generate.registry import generator_class

    found = generator_class(name)
    assert found is not None
    with pytest.raises(InvalidInputError, match=message):
        found[1].load_settings(table)


def test_queue_settings_are_declared_per_backend() -> None:
    from setpiece.generate.registry import generator_class

    defaults = {}
    for name in ("previs", "diffusers", "comfyui", "runway"):
        found = generator_class(name)
        assert found is not None
        settings = found[1].load_settings({})
        assert isinstance(settings, GeneratorSettings)
        defaults[name] = (settings.concurrency, settings.batch_size)
    assert defaults == {"previs": (1, 1), "diffusers": (1, 4), "comfyui": (1, 1), "runway": (2, 1)}


# Capabilities, refused before queuing ------------------------------------------------------------


@dataclass(frozen=True)
class ShortSettings(GeneratorSettings):
    pass


class Short(Generator):
    """Two-second clips whose seed means nothing."""

    name: ClassVar[str] = "test-short"
    Settings: ClassVar[type[GeneratorSettings]] = ShortSettings
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        modes=frozenset({Mode.TEXT_TO_IMAGE, Mode.TEXT_TO_VIDEO}), seeds=False, max_seconds=2.0
    )

    def render(self, request: RenderRequest, workdir: Path, progress: Any = None) -> RenderResult:
        raise AssertionError("never rendered: refused before queuing")


@pytest.fixture
def short(production: Production) -> Any:
    register(Short)
    add_scene(production, "INT. STATION - NIGHT", number="1")
    add_shot(production, "1", "1A", description="The train leaves", size="WS", duration=3.0)
    yield production
    _REGISTERED.pop(Short.name, None)


def _queued(production: Production) -> int:
    from sqlalchemy import func, select

    from setpiece.model.orm import RenderJob

    with production.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(RenderJob)) or 0)


def test_a_clip_longer_than_max_seconds_is_refused_before_queuing(short: Production) -> None:
    from setpiece.generate.queue import enqueue

    with pytest.raises(InvalidInputError, match=r"test-short makes clips of at most 2 s, not 3 s"):
        enqueue(short, ["1A"], generator="test-short", kind="video")
    assert _queued(short) == 0
    # At half the rate the shot is still three seconds: refused the same.
    with pytest.raises(InvalidInputError, match="at most 2 s"):
        enqueue(short, ["1A"], generator="test-short", kind="video", fps=Fraction(12))
    assert _queued(short) == 0


def test_a_pinned_seed_is_refused_by_a_generator_without_seeds(short: Production) -> None:
    from setpiece.generate.queue import enqueue

    with pytest.raises(InvalidInputError, match=r"test-short does not make the same take again"):
        enqueue(short, ["1A"], generator="test-short", seed=42)
    assert _queued(short) == 0
    report = enqueue(short, ["1A"], generator="test-short", dry_run=True)  # no seed: fine
    assert len(report.takes) == 1


def test_bad_generator_settings_stop_enqueue(short: Production) -> None:
    from setpiece.generate.queue import enqueue

    short.config.settings["generators"] = {"test-short": {"concurrency": "many"}}
    with pytest.raises(
        InvalidInputError, match=r"setpiece.toml \[generators.test-short\] concurrency"
    ):
        enqueue(short, ["1A"], generator="test-short")
    short.config.settings["generators"] = {"test-shorty": {}}
    with pytest.raises(
        InvalidInputError, match=r"unknown section \[generators.test-shorty\]; known generators: "
    ):
        enqueue(short, ["1A"], generator="test-short")
    short.config.settings["generators"] = {"test-short": ["not", "a", "table"]}
    with pytest.raises(InvalidInputError, match=r"\[generators.test-short\]: expected a table"):
        enqueue(short, ["1A"], generator="test-short")
    assert _queued(short) == 0


# Through the command a user types --------------------------------------------------------------


def _film(root: Path, generators: dict[str, Any]) -> dict[str, str]:
    from setpiece.production.context import init_production

    with init_production(root, actor="ana", resolution=(64, 48)) as prod:
        add_scene(prod, "INT. STATION - NIGHT", number="1")
        add_shot(prod, "1", "1A", description="Platform", size="WS")
    config = root / "setpiece.toml"
    config.write_text(config.read_text() + tomli_w.dumps({"generators": generators}))
    return {**os.environ, "SETPIECE_USER": "ana", "SETPIECE_PROJECT": str(root)}


ENTRY = "import sys; from setpiece.cli.main import main; sys.exit(main())"


@pytest.mark.parametrize(
    ("generator", "generators", "message"),
    [
        (
            "solid",
            {"solid": {"colour": "red"}},
            'setpiece.toml [generators.solid] colour: expected "#rrggbb", got "red"',
        ),
        ("previs", {"previs": {"annotate": "yes"}}, "[generators.previs] annotate: expected true"),
        ("previs", {"previs": {"model": "x"}}, "[generators.previs]: unknown key 'model'"),
        ("previs", {"previz": {}}, "setpiece.toml: unknown section [generators.previz]"),
        ("raises", {}, "generator plugin 'raises' cannot be loaded"),
        ("notgen", {}, "not a setpiece Generator subclass"),
    ],
)
def test_render_refuses_with_exit_2(
    plugins: Path, tmp_path: Path, generator: str, generators: dict[str, Any], message: str
) -> None:
    env = _film(tmp_path / "film", generators)
    env["PYTHONPATH"] = os.pathsep.join([str(plugins), str(EXAMPLE), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "render", "1A", "--generator", generator],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


# The project folder reaches the backend as project_dir, never inside its table -----------------


@dataclass(frozen=True)
class PaintSettings(GeneratorSettings):
    shade: int = 40


class Paint(Generator):
    """Paints a grey still and remembers what it was made with."""

    name: ClassVar[str] = "test-paint"
    Settings: ClassVar[type[GeneratorSettings]] = PaintSettings
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        modes=frozenset({Mode.TEXT_TO_IMAGE})
    )
    made: ClassVar[list[tuple[GeneratorSettings, Path | None]]] = []

    def __init__(self, settings: Any = None, *, project_dir: Path | None = None) -> None:
        super().__init__(settings, project_dir=project_dir)
        Paint.made.append((self.settings, self.project_dir))

    def render(self, request: RenderRequest, workdir: Path, progress: Any = None) -> RenderResult:
        from PIL import Image

        path = workdir / f"paint-{request.seed}.png"
        Image.new("RGB", (request.width, request.height), (self.settings.shade,) * 3).save(path)  # type: ignore[attr-defined]
        return RenderResult(path)


def test_the_backend_gets_its_settings_and_the_project_folder(production: Production) -> None:
    from setpiece.generate.queue import enqueue, run_queue

    register(Paint)
    Paint.made.clear()
    try:
        add_scene(production, "INT. STATION - NIGHT", number="1")
        add_shot(production, "1", "1A", description="Platform", size="WS")
        production.config.settings["generators"] = {"test-paint": {"shade": 90, "concurrency": 1}}
        enqueue(production, ["1A"], generator="test-paint", takes=2)
        report = run_queue(production, backoff=lambda attempt: 0.0, poll_s=0.01)
    finally:
        _REGISTERED.pop(Paint.name, None)
    assert report.done == 2
    assert Paint.made and all(
        settings == PaintSettings(shade=90, concurrency=1) and folder == production.config.root
        for settings, folder in Paint.made
    )


def test_jobs_of_a_plugin_broken_since_fail_with_the_reason_and_others_render(
    production: Production, plugins: Path
) -> None:
    from setpiece.generate.queue import enqueue, run_queue
    from setpiece.production import takes

    class Raises(Paint):  # works when queued, under the name whose entry point is broken
        name: ClassVar[str] = "raises"

    register(Raises)
    add_scene(production, "INT. STATION - NIGHT", number="1")
    add_shot(production, "1", "1A", description="Platform", size="WS")
    enqueue(production, ["1A"], generator="raises")
    _REGISTERED.pop("raises", None)  # now only the broken entry point has the name
    enqueue(production, ["1A"], generator="previs")
    report = run_queue(production, backoff=lambda attempt: 0.0, poll_s=0.01)
    assert (report.done, report.failed) == (1, 1)
    assert any("generator plugin 'raises' cannot be loaded" in f for f in report.failures)
    assert [t.status for t in takes.list_takes(production, "1A")] == ["failed", "ready"]


def test_a_plugin_is_found_once_then_kept(plugins: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from setpiece.generate import registry

    first = registry.generator_class("solid")
    looked_up: list[str | None] = []
    real = registry._PLUGINS.entry_points
    monkeypatch.setattr(
        registry._PLUGINS, "entry_points", lambda name=None: looked_up.append(name) or real(name)
    )
    assert registry.generator_class("solid") == first
    assert looked_up == []  # the queue asks on every pass: no metadata scan each time
    with pytest.raises(InvalidInputError):
        registry.generator_class("raises")
    with pytest.raises(InvalidInputError):
        registry.generator_class("raises")
    assert looked_up == ["raises", "raises"]  # a broken one is looked up again, never kept
