"""A character's default voice register (man's or woman's) read from the script: the
demo's cast, each kind of evidence, and the cases it must not decide."""

from __future__ import annotations

from pathlib import Path

from setpiece.script.register import FEMALE, MALE, voice_registers

DEMO = Path(__file__).resolve().parents[2] / "src" / "setpiece" / "pipeline" / "demo.fountain"


def _body(*elements: tuple[str, str]) -> list[dict[str, str]]:
    body = []
    for kind, text in elements:
        element = {"type": kind, "text": text}
        if kind == "character":
            element["name"] = text
        body.append(element)
    return body


def test_the_demo_cast_from_its_pronouns() -> None:
    from setpiece.script.importer import split_scenes
    from setpiece.script.reading import read_script

    scenes = split_scenes(read_script(DEMO))
    registers = voice_registers([scene.body for scene in scenes], ["MARA", "TEO", "BRANDT"])
    assert registers == {"MARA": FEMALE, "TEO": MALE, "BRANDT": MALE}


def test_a_sentence_that_starts_with_a_pronoun_continues_the_one_named_before() -> None:
    body = _body(
        ("action", "Ines crosses the yard. She stops at the gate."),
        ("action", "Pavel waits. He lights a match."),
    )
    assert voice_registers([body], ["INES", "PAVEL"]) == {"INES": FEMALE, "PAVEL": MALE}


def test_the_action_after_a_line_is_about_its_speaker() -> None:
    body = _body(
        ("character", "INES"),
        ("dialogue", "Leave it."),
        ("action", "She turns away."),
    )
    assert voice_registers([body], ["INES"]) == {"INES": FEMALE}


def test_object_pronouns_and_dialogue_never_count() -> None:
    body = _body(
        ("action", "Ines hands the key to him."),
        ("action", "Ines walks to her."),
        ("character", "INES"),
        ("dialogue", "He said she would come. His car, her house."),
    )
    assert voice_registers([body], ["INES"]) == {"INES": None}


def test_two_people_named_leave_the_pronoun_to_nobody() -> None:
    body = _body(("action", "Ines and Pavel sit down. He pours the tea."))
    assert voice_registers([body], ["INES", "PAVEL"]) == {"INES": None, "PAVEL": None}


def test_titles_and_descriptions_decide() -> None:
    registers = voice_registers(
        [],
        ["MRS. HUDSON", "SIR TOBY", "KIT", "ALEX"],
        {"KIT": "a boy of ten with a kite", "ALEX": "30s, tired eyes"},
    )
    assert registers == {"MRS. HUDSON": FEMALE, "SIR TOBY": MALE, "KIT": MALE, "ALEX": None}


def test_a_surname_alone_in_the_action_is_the_character() -> None:
    body = _body(("action", "Hudson dries her hands."))
    assert voice_registers([body], ["MRS. HUDSON"]) == {"MRS. HUDSON": FEMALE}


def test_evidence_both_ways_decides_nothing() -> None:
    body = _body(
        ("action", "Sam waves. She laughs."),
        ("action", "Sam runs. He falls."),
    )
    assert voice_registers([body], ["SAM"]) == {"SAM": None}


def test_a_lower_case_word_is_not_a_name() -> None:
    body = _body(("action", "The will is read. He weeps."))
    assert voice_registers([body], ["WILL"]) == {"WILL": None}


def test_a_line_that_names_someone_else_tells_of_them_not_of_the_speaker() -> None:
    body = _body(
        ("character", "KATE"),
        ("dialogue", "Harry fought them off, but he'd been stabbed. She was there."),
    )
    assert voice_registers([body], ["KATE", "HARRY"]) == {"KATE": None, "HARRY": MALE}
