"""What each generator declares it is (its origin), and the rule for those that do not say."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from setpiece.errors import InvalidInputError
from setpiece.generate.base import Capabilities, Generator, Mode, RenderRequest, RenderResult
from setpiece.generate.registry import (
    _REGISTERED,
    BUILTINS,
    declared_origin,
    list_generators,
    register,
)
from setpiece.model.enums import Origin


def test_builtins_declare_what_they_are() -> None:
    assert {name: declared_origin(name) for name in BUILTINS} == {
        "previs": Origin.ALGORITHM,
        "diffusers": Origin.TRAINED,
        "comfyui": Origin.TRAINED,
        "runway": Origin.TRAINED,
    }
    listed = {g.name: g.to_json()["origin"] for g in list_generators() if g.name in BUILTINS}
    assert listed == {
        "previs": "algorithm",
        "diffusers": "trained",
        "comfyui": "trained",
        "runway": "trained",
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
