"""Scene summaries: headings split, who is in a scene, and length in eighths."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from setpiece.script.breakdown import (
    LINES_PER_PAGE,
    Breakdown,
    SceneDraft,
    eighths,
    heading_convention,
    opens_scene,
    scenes,
    split_heading,
    wrapped_lines,
)
from setpiece.script.elements import Action, Character, Dialogue, SceneHeading
from setpiece.script.fountain import parse_fountain


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("INT. WILL'S BEDROOM - NIGHT (1973)", ("INT", "WILL'S BEDROOM", "NIGHT")),
        ("EXT. BRICK'S PATIO - DAY", ("EXT", "BRICK'S PATIO", "DAY")),
        ("INT./EXT. CAR - MOVING - CONTINUOUS", ("INT/EXT", "CAR - MOVING", "CONTINUOUS")),
        ("I/E HOUSE DAY", ("INT/EXT", "HOUSE", "DAY")),
        ("EST. CITY SKYLINE - DUSK", ("EST", "CITY SKYLINE", "DUSK")),
        ("INT - HOUSE - DAY", ("INT", "HOUSE", "DAY")),
        ("int. house - moments later", ("INT", "HOUSE", "MOMENTS LATER")),
        ("INT. HOUSE - DAY - FLASHBACK (1944)", ("INT", "HOUSE", "DAY")),
        ("INT. OFFICE — THE NEXT MORNING", ("INT", "OFFICE", "THE NEXT MORNING")),
        ("INT. HOUSE - KITCHEN", ("INT", "HOUSE - KITCHEN", None)),
        # A comma before the time, or left before a dash, is punctuation, not the place.
        ("EXT. PARK, DAY", ("EXT", "PARK", "DAY")),
        ("INT. HOUSE - KITCHEN, NIGHT", ("INT", "HOUSE - KITCHEN", "NIGHT")),
        ("INT. DINER, - NIGHT", ("INT", "DINER", "NIGHT")),
        ("INT. MARA'S FLAT, KITCHEN - NIGHT", ("INT", "MARA'S FLAT, KITCHEN", "NIGHT")),
        ("SNIPER SCOPE POV", (None, None, None)),
        ("INT.", ("INT", None, None)),
        # Big Fish: a qualifier in brackets, or after the time of day, is not the place.
        ("EXT.  BLOOM BACK YARD - NIGHT [CONTINUOUS]", ("EXT", "BLOOM BACK YARD", "NIGHT")),
        ("INT. BIG TOP - NIGHT - CONTINUOUS", ("INT", "BIG TOP", "NIGHT")),
        ("INT. BIG TOP - NIGHT [CONTINUOUS]", ("INT", "BIG TOP", "NIGHT")),
    ],
)
def test_split_heading(heading: str, expected: tuple[str | None, ...]) -> None:
    assert split_heading(heading) == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (0, 1),
        (1, 1),
        (3, 1),
        (4, 1),
        (7, 1),
        (11, 2),
        (27, 4),
        (28, 4),
        (55, 8),
        (62, 9),
        (110, 16),
    ],
)
def test_eighths_round_half_up_and_are_at_least_one(lines: int, expected: int) -> None:
    assert eighths(lines) == expected
    assert LINES_PER_PAGE == 55


@given(
    st.lists(st.text(alphabet="abcdefgh,.'", min_size=1, max_size=20), max_size=60),
    st.sampled_from([26, 35, 61]),
)
def test_wrapping_matches_textwrap_for_ordinary_words(words: list[str], width: int) -> None:
    line = " ".join(words)
    assert wrapped_lines(line, width) == max(1, len(textwrap.wrap(line, width)))


def test_wrapping_counts_each_written_line_and_breaks_long_words() -> None:
    assert wrapped_lines("one\n\nthree", 35) == 3
    assert wrapped_lines("x" * 70, 35) == 2


def test_characters_are_speakers_and_capitalised_names_that_speak_somewhere() -> None:
    script = parse_fountain(
        "INT. BEDROOM - NIGHT\n\n"
        "WILL BLOOM, AGE 3, listens as his father EDWARD BLOOM tells the story. A RIVER.\n\n"
        "EDWARD (V.O.)(CONT'D)\nThere are some fish that cannot be caught.\n\n"
        "EXT. CAMPFIRE - NIGHT\n\n"
        "The SCOUTS listen. SANDRA watches McCLANE.\n\n"
        "LITTLE BRAVE\nAnd then?\n\n"
        "INT. HOSPITAL - DAY\n\n"
        "WILL\nDad?\n\n"
        "SANDRA ^\nEdward?\n\n"
        "@McCLANE\nYippie.\n"
    )
    assert [scene.characters for scene in script.scenes] == [
        ("WILL", "EDWARD"),
        ("SANDRA", "LITTLE BRAVE"),  # SCOUTS never speak; McCLANE is not in capitals
        ("WILL", "SANDRA", "McCLANE"),
    ]


def test_scene_numbers_index_and_lines() -> None:
    script = parse_fountain("Title: T\n\nINT. A - DAY #1#\n\nAct.\n\nEXT. B - NIGHT\n\nAct.\n")
    assert [(s.index, s.number, s.heading, s.line) for s in script.scenes] == [
        (1, "1", "INT. A - DAY", 3),
        (2, None, "EXT. B - NIGHT", 7),
    ]


def test_what_comes_before_the_first_heading_is_no_scene() -> None:
    script = parse_fountain("FADE IN:\n\nBOB\nHello.\n\nINT. A - DAY\n\nAct.\n")
    assert len(script.scenes) == 1
    assert script.scenes[0].characters == ()


def test_a_scene_length_follows_the_page_model() -> None:
    action = "word " * 24  # 120 characters: two lines at 61
    script = parse_fountain(
        "INT. A - DAY\n\n"  # blank + heading = 2
        + f"{action}\n\n"  # blank + 2 lines = 3
        + "BOB\n(quietly)\nShort line.\n\n"  # blank + cue + 1 + 1 = 4
        + "CUT TO:\n"  # blank + 1 = 2
    )
    assert script.scenes[0].eighths == eighths(11) == 2


def test_dual_dialogue_takes_the_taller_column() -> None:
    def lines(text: str) -> int:
        breakdown = Breakdown()
        for element in parse_fountain(text).elements:
            breakdown.feed(element)
        draft = breakdown.close()
        assert draft is not None
        return draft.lines

    single = "INT. A - DAY\n\nBOB\nOne.\n\nSUE\nTwo.\nThree.\n"
    dual = "INT. A - DAY\n\nBOB\nOne.\n\nSUE ^\nTwo.\nThree.\n"
    assert lines(single) == 2 + 3 + 4
    assert lines(dual) == 2 + 4


def test_a_draft_survives_json() -> None:
    draft = SceneDraft(3, "12A", "INT. A - DAY", "INT", "A", "DAY", 7, 12, ["BOB", ["SUE", "X"]])
    assert SceneDraft.from_json(draft.to_json()) == draft


def test_the_breakdown_reads_any_element_stream() -> None:
    found = scenes(
        [
            SceneHeading("INT. A - DAY", number="4"),
            Action("The JANITOR sweeps."),
            Character("MOP GUY"),
            Dialogue("Hey."),
            Character("JANITOR (O.S.)"),
            Dialogue("Hey yourself."),
        ]
    )
    assert found[0].characters == ("JANITOR", "MOP GUY")
    assert found[0].to_dict()["characters"] == ["JANITOR", "MOP GUY"]


@pytest.mark.parametrize(
    ("heading", "convention", "opens"),
    [
        ("SNIPER SCOPE POV", "pov", False),
        ("POV", "pov", False),
        ("INSERT: THE LETTER", "insert", False),
        ("BACK TO SCENE", "back", False),
        ("OPENING TITLES", "titles", True),
        ("MAIN TITLES", "titles", True),
        ("END CREDITS", "titles", True),
        ("MONTAGE", "montage", True),
        ("SERIES OF SHOTS", "montage", True),
        ("INTERCUT WITH:", "intercut", True),
        ("FLASHBACK", "flashback", True),
        ("INT. KITCHEN - DAY", None, True),
        ("EXT. POVERTY ROW - DAY", None, True),
    ],
)
def test_heading_conventions_are_read_as_what_they_are(
    heading: str, convention: str | None, opens: bool
) -> None:
    assert heading_convention(heading) == convention
    assert opens_scene(heading) is opens
    if convention is not None:
        assert split_heading(heading)[1] is None  # never a location


def test_a_flashback_marker_is_not_part_of_the_location() -> None:
    assert split_heading("INT.  WILL'S BEDROOM - DAY  [FLASHBACK]") == (
        "INT",
        "WILL'S BEDROOM",
        "DAY",
    )


def test_a_pov_heading_is_a_shot_of_the_current_scene_and_a_lone_pov_opens_one() -> None:
    script = parse_fountain(
        "EXT. BRICK'S POOL - DAY\n\nSteel aims.\n\n.SNIPER SCOPE POV\n\nThe cross-hairs.\n\n"
        ".OPENING TITLES\n\nTitles roll.\n"
    )
    assert [(s.heading, s.location) for s in script.scenes] == [
        ("EXT. BRICK'S POOL - DAY", "BRICK'S POOL"),
        ("OPENING TITLES", None),
    ]
    alone = parse_fountain(".POV\n\nA door.\n\nINT. HALL - DAY\n\nQuiet.\n")
    assert [(s.heading, s.location) for s in alone.scenes] == [
        ("POV", None),
        ("INT. HALL - DAY", "HALL"),
    ]
