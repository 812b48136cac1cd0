"""The conformance suite (``setpiece.generate.testing``) over every generator Setpiece knows:
previs for real, ComfyUI, Runway and Replicate against their stub servers, diffusers with a tiny
pipeline, and the documented example plugin through its entry point; and the suite
itself, failing on generators that break the contract.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

import pytest

from generate.test_plugins import EXAMPLE, install_plugins
from setpiece.generate import (
    Capabilities,
    Generator,
    GeneratorSettings,
    Mode,
    RenderRequest,
    RenderResult,
    registry,
)
from setpiece.generate.registry import BUILTINS, generator_class
from setpiece.generate.testing import (
    ConformanceError,
    check_close,
    check_declaration,
    check_generator,
    check_refusals,
    check_render,
    check_settings,
    requests_for,
)


def test_every_builtin_has_a_conformance_run_here() -> None:
    # A new built-in backend fails this until a test below runs the suite over it.
    assert set(BUILTINS) == {"previs", "diffusers", "comfyui", "runway", "replicate"}


def test_previs_conforms(tmp_path: Path) -> None:
    found = generator_class("previs")
    assert found is not None
    results = check_generator(found[1], tmp_path)
    assert [r.path.suffix for r in results] == [".png", ".mp4"]


def test_the_documented_example_plugin_conforms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(install_plugins(tmp_path / "site")))
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.delitem(sys.modules, "setpiece_solid", raising=False)
    monkeypatch.setattr(registry._PLUGINS, "loaded", {})
    found = generator_class("solid")  # through its entry point, as a user's install finds it
    assert found is not None and found[0] == "entry point setpiece_solid:SolidGenerator"
    results = check_generator(found[1], tmp_path / "work", settings={"colour": "#204060"})
    assert [r.path.suffix for r in results] == [".png", ".mp4"]
    assert results[0].parameters == {"colour": "#1f3f5f"}  # seed 7 darkens it by one


def test_comfyui_conforms(tmp_path: Path) -> None:
    pytest.importorskip("httpx")
    pytest.importorskip("websockets")
    from generate.comfyui_stub import comfyui_stub
    from generate.test_comfyui import TXT2IMG, video_workflow

    found = generator_class("comfyui")
    assert found is not None
    (tmp_path / "still.json").write_text(json.dumps(TXT2IMG))
    (tmp_path / "clip.json").write_text(json.dumps(video_workflow()))
    with comfyui_stub() as stub:
        settings = {"url": stub.url, "poll_s": 0.2, "timeout_s": 10, "connect_timeout_s": 2}
        probe = found[1](settings)
        requests = [
            replace(r, parameters={"workflow": "clip.json" if r.is_video else "still.json"})
            for r in requests_for(probe)
        ]
        results = check_generator(
            found[1], tmp_path / "work", settings=settings, project_dir=tmp_path, requests=requests
        )
    assert len(results) == 2


@pytest.fixture
def runway_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    pytest.importorskip("runwayml")
    from generate.runway_stub import RunwayStub

    secret = "key_" + "5e" * 64
    monkeypatch.setenv("RUNWAYML_API_SECRET", secret)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "RUNWAYML_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with RunwayStub(secret) as stub:
        yield stub


def test_runway_conforms(runway_env: Any, tmp_path: Path) -> None:
    from mediafactory import write_mp4, write_png

    stub = runway_env
    found = generator_class("runway")
    assert found is not None
    cls = found[1]
    check_declaration(cls)
    check_settings(cls)
    rates = {"gen4_image": 1, "gen4.5": 2}  # made-up: these models have no written default
    runway = cls({"base_url": stub.url, "poll_interval_s": 0.01, "rates": rates})
    # Runway makes its ratios' sizes; the stub serves what it is told, here the asked size.
    still = write_png(tmp_path / "still.png", w=1280, h=720).read_bytes()
    clip = write_mp4(tmp_path / "clip.mp4", frames=4, w=1280, h=720).read_bytes()
    try:
        for request in requests_for(runway, width=1280, height=720, frames=48, fps=Fraction(24)):
            check_refusals(runway, request)
            stub.output_bytes = clip if request.is_video else still
            check_render(runway, request, tmp_path / request.mode.value)
    finally:
        check_close(runway)


def test_replicate_conforms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("replicate")
    from generate.replicate_stub import HostedModel, ReplicateStub
    from mediafactory import write_mp4, write_png

    token = "r8_" + "c0" * 18
    monkeypatch.setenv("REPLICATE_API_TOKEN", token)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "REPLICATE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    found = generator_class("replicate")
    assert found is not None
    models = {"owner/still": HostedModel(video=False), "owner/clip": HostedModel(video=True)}
    settings: dict[str, Any] = {
        "poll_interval_s": 0.01,
        "image_model": "owner/still",
        "video_model": "owner/clip",
        "rates": {"owner/still": "0.03", "owner/clip": "0.1"},
    }
    with ReplicateStub(token, models) as stub:
        settings["base_url"] = stub.url
        # A hosted model makes its own sizes; the stub serves what it is told, the asked size.
        results = []
        for request in requests_for(found[1](settings)):
            if request.is_video:
                stub.output_bytes = write_mp4(
                    tmp_path / "clip.mp4", frames=4, w=64, h=48
                ).read_bytes()
            else:
                stub.output_bytes = write_png(tmp_path / "still.png", w=64, h=48).read_bytes()
            results += check_generator(
                found[1], tmp_path / "work", settings=settings, requests=[request]
            )
    assert [r.path.suffix for r in results] == [".png", ".mp4"]
    assert [r.cost for r in results if r.cost] and all(
        r.cost.unit == "usd" for r in results if r.cost
    )


@pytest.mark.slow
def test_diffusers_conforms(tmp_path: Path) -> None:
    for module in ("torch", "diffusers", "transformers"):
        pytest.importorskip(module)
    from generate import tiny_pipelines

    found = generator_class("diffusers")
    assert found is not None
    model = tiny_pipelines.build_sd(tmp_path / "tiny-sd")
    settings = {"model": str(model), "steps": 1}
    results = check_generator(
        found[1],
        tmp_path / "work",
        settings=settings,
        requests=[RenderRequest(Mode.TEXT_TO_IMAGE, "a lighthouse", seed=7, width=32, height=32)],
    )
    assert results[0].model_hash


# The suite fails what breaks the contract ---------------------------------------------------------


@dataclass(frozen=True)
class _PlainSettings(GeneratorSettings):
    pass


class _Good(Generator):
    name: ClassVar[str] = "test-good"
    Settings: ClassVar[type[GeneratorSettings]] = _PlainSettings
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        modes=frozenset({Mode.TEXT_TO_IMAGE}), max_width=128, max_height=128
    )
    size: ClassVar[tuple[int, int] | None] = None

    def render(self, request: RenderRequest, workdir: Path, progress: Any = None) -> RenderResult:
        from PIL import Image

        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "still.png"
        Image.new("RGB", self.size or (request.width, request.height)).save(path)
        return RenderResult(path)


@dataclass
class _Loose:  # neither frozen nor a GeneratorSettings (Python refuses a mutable subclass)
    colour: str = "red"


class _NotSettings(_Good):
    Settings = _Loose  # type: ignore[assignment]


class _LetsAllThrough(_Good):
    def check(self, request: RenderRequest) -> None:
        return None


class _WrongSize(_Good):
    size = (10, 10)


class _BadName(_Good):
    name: ClassVar[str] = "Test Good"


class _ClosesOnce(_Good):
    closed = False

    def close(self) -> None:
        if self.closed:
            raise RuntimeError("already closed")
        self.closed = True


def test_a_good_generator_passes(tmp_path: Path) -> None:
    assert len(check_generator(_Good, tmp_path)) == 1


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (_NotSettings, "Settings must be a dataclass extending GeneratorSettings"),
        (_LetsAllThrough, "check let through a request with a width beyond max_width"),
        (_WrongSize, "a text-to-image request for 64x48 made 10x10"),
        (_BadName, "name must be a lower-case word"),
        (_ClosesOnce, "close() twice raised RuntimeError"),
    ],
)
def test_the_suite_fails_what_breaks_the_contract(
    cls: type[Generator], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConformanceError) as caught:
        check_generator(cls, tmp_path)
    assert message in str(caught.value)
