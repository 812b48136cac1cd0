"""Prompts that carry the bible: looks, the angle's words, and what a take records."""

from __future__ import annotations

from setpiece.generate.prompts import EntryFacts, ShotFacts, SubjectFacts, compose_prompt

MARA = SubjectFacts(
    "MARA",
    "character",
    "60s, grey braid",
    side="left",
    references=("e" * 64, "a" * 64),
    look="oilskin coat, wet hair",
    record={"entry_id": 1, "entry": "character/MARA", "version": 3, "look_id": 7},
    entry_id=1,
)
BOOTH = EntryFacts(
    "BOOTH", "a cramped projection booth", ("d" * 64,), {"entry_id": 2, "version": 1}, 2
)
NOIR = EntryFacts("Noir", "high contrast", ("f" * 64,), {"entry_id": 3, "version": 5}, 3)


def facts(**changes: object) -> ShotFacts:
    base: dict[str, object] = {
        "code": "3A",
        "scene": "3",
        "heading": "INT. BOOTH - NIGHT",
        "size": "MCU",
        "angle": "eye",
        "location": "BOOTH",
        "time_of_day": "NIGHT",
        "subjects": (MARA,),
        "location_entry": BOOTH,
        "style": NOIR,
    }
    base.update(changes)
    return ShotFacts(**base)  # type: ignore[arg-type]


def test_each_character_is_named_with_description_and_look() -> None:
    composed = compose_prompt(facts())
    assert composed.prompt == (
        "medium close-up of MARA (60s, grey braid; look: oilskin coat, wet hair) on the left. "
        "Booth, night, a cramped projection booth. eye-level. Noir: high contrast."
    )


def test_the_eye_angle_is_eye_level_and_others_keep_their_words() -> None:
    assert "eye-level." in compose_prompt(facts(angle="eye")).prompt
    assert "eye angle" not in compose_prompt(facts(angle="eye")).prompt
    assert "low angle" in compose_prompt(facts(angle="low")).prompt
    assert "bird's eye view" in compose_prompt(facts(angle="bird's eye view")).prompt


def test_references_come_from_the_look_the_entry_the_location_and_the_style() -> None:
    composed = compose_prompt(facts())
    assert composed.references == ("e" * 64, "a" * 64, "d" * 64, "f" * 64)
    assert composed.reference_names == ("MARA", "MARA", "BOOTH", "Noir")
    assert composed.reference_entries == (1, 2, 3)


def test_what_went_in_is_recorded_with_its_versions() -> None:
    composed = compose_prompt(facts())
    assert [r["entry_id"] for r in composed.bible] == [1, 2, 3]
    assert composed.bible[0]["version"] == 3 and composed.bible[0]["look_id"] == 7


def test_a_character_without_look_or_description_is_their_name() -> None:
    plain = SubjectFacts("TEO", "character")
    assert compose_prompt(facts(subjects=(plain,), style=None)).prompt.startswith(
        "medium close-up of TEO."
    )
