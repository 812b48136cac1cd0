"""What each generator declares it is (its origin), and the rule for those that do not say."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import orjson
import pytest

from setpiece.errors import InvalidInputError
from setpiece.generate.base import Capabilities, Generator, Mode, RenderRequest, RenderResult
from setpiece.generate.registry import (
    _REGISTERED,
    BUILTINS,
    GeneratorInfo,
    declared_origin,
    list_generators,
    register,
)
from setpiece.model.enums import Origin
from setpiece.production.views import dumps_views, jsonable


def test_builtins_declare_what_they_are() -> None:
    assert {name: declared_origin(name) for name in BUILTINS} == {
        "previs": Origin.ALGORITHM,
        "diffusers": Origin.TRAINED,
        "comfyui": Origin.TRAINED,
        "runway": Origin.TRAINED,
        "replicate": Origin.TRAINED,
    }
    listed = {g.name: jsonable(g)["origin"] for g in list_generators() if g.name in BUILTINS}
    assert listed == {
        "previs": "algorithm",
        "diffusers": "trained",
        "comfyui": "trained",
        "runway": "trained",
        "replicate": "trained",
    }


class _Undeclared(Generator):
    name: ClassVar[str] = "test-undeclared"
    default_capabilities: ClassVar[Capabilities] = Capabilities(modes=frozenset(Mode))

    def render(self, request: RenderRequest, workdir: Path, progress=None) -> RenderResult:  # type: ignore[no-untyped-def]
        raise NotImplementedError


class _Camera(_Undeclared):
    name: ClassVar[str] = "test-camera"
    origin: ClassVar[Origin] = Origin.CAPTURED


class _Confused(_Undeclared):
    name: ClassVar[str] = "test-confused"
    origin = "diffusion"  # type: ignore[assignment]


@pytest.fixture
def registered() -> object:
    for cls in (_Undeclared, _Camera, _Confused):
        register(cls)
    yield
    for cls in (_Undeclared, _Camera, _Confused):
        _REGISTERED.pop(cls.name, None)


def test_a_generator_that_does_not_say_is_trained(registered: object) -> None:
    assert declared_origin("test-undeclared") is Origin.TRAINED
    assert declared_origin("test-camera") is Origin.CAPTURED
    # A name no generator has (a take imported from a service Setpiece does not drive).
    assert declared_origin("midjourney") is Origin.TRAINED


def test_a_declaration_that_is_no_origin_is_refused(registered: object) -> None:
    with pytest.raises(InvalidInputError, match=r"declares origin 'diffusion'.*trained"):
        declared_origin("test-confused")


def test_old_recipes_are_read_by_the_generator_name() -> None:
    assert Origin.of_chain([("previs", {})]) is Origin.ALGORITHM
    assert Origin.of_chain([("veo", None)]) is Origin.TRAINED
    assert Origin.of_chain([(None, {})]) is None
    # A derived take: its own record first, then its source's, then the generator's name.
    assert Origin.of_chain([("previs", {}), ("previs", {"origin": "captured"})]) is Origin.CAPTURED
    assert Origin.of_chain([(None, {}), ("previs", {})]) is Origin.ALGORITHM
    assert Origin.recorded({"origin": "nonsense"}) is None


def test_generator_info_json_keeps_the_shape_its_own_to_json_gave() -> None:
    """The listing lost its hand-written ``to_json`` (it only repeated the fields): same bytes."""
    info = GeneratorInfo(
        name="previs",
        available=True,
        install_hint=None,
        capabilities=Capabilities(modes=frozenset({Mode.TEXT_TO_IMAGE})).to_json(),
        source="builtin",
        origin=Origin.ALGORITHM,
    )
    expected = (
        b'{"name":"previs","available":true,"install_hint":null,"capabilities":{"modes":'
        b'["text-to-image"],"reference_images":false,"seeds":true,"max_width":4096,"max_height":4096,'
        b'"max_frames":null,"max_seconds":null,"photographic_faces":true,"flicker_free":false},'
        b'"source":"builtin","origin":"algorithm","installed":false,"configured":false,'
        b'"missing_settings":[],"reachable":null,"problem":null}'
    )
    assert orjson.dumps(jsonable(info)) == expected
    assert dumps_views(info) == expected
    broken = GeneratorInfo("gone", False, "pip install gone", None, "entry point gone")
    assert orjson.dumps(jsonable(broken)) == (
        b'{"name":"gone","available":false,"install_hint":"pip install gone",'
        b'"capabilities":null,"source":"entry point gone","origin":null,"installed":false,'
        b'"configured":false,"missing_settings":[],"reachable":null,"problem":null}'
    )
