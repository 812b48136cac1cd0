"""Prompt composition as a pure function of a shot's facts (the database side runs in test_queue)."""

from __future__ import annotations

import pytest

from setpiece.errors import InvalidInputError
from setpiece.generate.base import SubjectBrief
from setpiece.generate.prompts import (
    EntryFacts,
    ShotFacts,
    SubjectFacts,
    compose_prompt,
    stable_color,
)
from setpiece.generate.settings import prompt_settings

ANNA = SubjectFacts(
    "ANNA",
    "character",
    "conductor, navy coat",
    side="left",
    depth="foreground",
    references=("a" * 64, "b" * 64),
)
CASE = SubjectFacts("SUITCASE", "prop", references=("a" * 64, "c" * 64))
TRAIN = EntryFacts("TRAIN", "1950s sleeper carriage", references=("d" * 64,))
NOIR = EntryFacts("Noir", "high contrast black and white")


def facts(**changes: object) -> ShotFacts:
    base: dict[str, object] = {
        "code": "1A",
        "scene": "1",
        "heading": "INT. TRAIN - NIGHT",
        "description": "Anna checks the tickets",
        "size": "MCU",
        "angle": "low",
        "lens_mm": 50.0,
        "camera_move": "dolly",
        "int_ext": "INT",
        "location": "TRAIN",
        "time_of_day": "NIGHT",
        "subjects": (ANNA, CASE),
        "location_entry": TRAIN,
        "style": NOIR,
    }
    base.update(changes)
    return ShotFacts(**base)  # type: ignore[arg-type]


def test_the_default_template_says_every_part_in_order() -> None:
    composed = compose_prompt(facts())
    assert composed.prompt == (
        "medium close-up of ANNA (conductor, navy coat) on the left in the foreground, "
        "SUITCASE. Anna checks the tickets. Train, night, 1950s sleeper carriage. "
        "low angle, 50mm lens, dolly camera move. Noir: high contrast black and white."
    )
    assert composed.style == "Noir" and composed.negative_prompt is None


def test_empty_parts_and_their_punctuation_are_dropped() -> None:
    bare = facts(
        size=None,
        angle=None,
        lens_mm=None,
        camera_move="static",
        subjects=(),
        location=None,
        time_of_day=None,
        location_entry=None,
        style=None,
    )
    assert compose_prompt(bare).prompt == "shot of the scene. Anna checks the tickets."


def test_a_subjects_own_words_replace_the_bibles() -> None:
    worded = SubjectFacts("ANNA", "character", "conductor", prompt_override="a tired conductor")
    composed = compose_prompt(facts(subjects=(worded,)), template="{subjects}")
    assert composed.prompt == "a tired conductor."


def test_overrides_extend_with_a_plus_and_replace_otherwise() -> None:
    shot_plus = facts(prompt_override="+ rain on the windows")
    assert compose_prompt(shot_plus, template="{shot}").prompt == "1A. rain on the windows"
    assert compose_prompt(shot_plus, template="{shot}", prompt="a corridor").prompt == "a corridor"
    replaced = facts(prompt_override="an empty corridor")
    assert (
        compose_prompt(replaced, template="{shot}", prompt="+ at dawn").prompt
        == "an empty corridor at dawn"
    )


def test_the_template_and_negative_come_from_the_settings() -> None:
    composed = compose_prompt(
        facts(), template="{heading} / {scene} / {shot}: {framing}", negative="blurry"
    )
    assert composed.prompt == "INT. TRAIN - NIGHT / 1 / 1A: medium close-up."
    assert composed.negative_prompt == "blurry"


def test_an_unknown_placeholder_is_refused_naming_it() -> None:
    with pytest.raises(
        InvalidInputError, match=r"^prompt template: unknown placeholder \{lighting\}: use framing"
    ):
        compose_prompt(facts(), template="{framing} {lighting}")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{framing", "'{framing' opens a placeholder that is not closed: write {name}"),
        ("{__class__.__mro__}", "unknown placeholder {__class__.__mro__}: use framing,"),
        ("{framing.x}", "placeholder {framing.x} is not allowed: a placeholder is a plain name"),
        ("{framing[0]}", "placeholder {framing[0]} is not allowed"),
        ("{framing!r}", "placeholder {framing!r} is not allowed"),
        ("{framing:{__class__}}", "'{framing:{__class__}}' opens a placeholder"),
        ("{unknown}", "unknown placeholder {unknown}: use framing, subjects, description,"),
        ("{}", "placeholder {} names nothing"),
        ("{0}", "unknown placeholder {0}"),
        ("a } b", "a '}' without its '{' at character 3"),
    ],
)
def test_a_template_is_a_plain_name_in_braces_or_refused(template: str, expected: str) -> None:
    """No ``str.format``: nothing in a template reaches into an object."""
    with pytest.raises(InvalidInputError) as caught:
        compose_prompt(facts(), template=template)
    assert str(caught.value).startswith(f"prompt template: {expected}")
    with pytest.raises(InvalidInputError) as loaded:
        prompt_settings({"prompts": {"template": template}})
    assert str(loaded.value).startswith(f"setpiece.toml [prompts] template: {expected}")


def test_doubled_braces_are_braces_of_their_own() -> None:
    composed = compose_prompt(facts(), template="{{storyboard}} {shot}: {framing} }}")
    assert composed.prompt == "{storyboard} 1A: medium close-up }."


def test_references_are_the_subjects_then_the_location_each_named_once() -> None:
    composed = compose_prompt(facts())
    assert composed.references == ("a" * 64, "b" * 64, "c" * 64, "d" * 64)
    assert composed.reference_names == ("ANNA", "ANNA", "SUITCASE", "TRAIN")


def test_the_brief_carries_the_shot_and_stable_colours() -> None:
    brief = compose_prompt(facts()).brief
    assert (brief.code, brief.scene, brief.location, brief.style) == ("1A", "1", "TRAIN", "Noir")
    assert brief.subjects[0] == SubjectBrief(
        "ANNA", "character", "conductor, navy coat", "left", "foreground", stable_color("ANNA")
    )


def test_the_same_facts_give_the_same_prompt() -> None:
    assert compose_prompt(facts()) == compose_prompt(facts())
