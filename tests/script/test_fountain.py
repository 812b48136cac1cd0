"""The Fountain 1.1 reader, element by element, with its lenient edges and properties."""

from __future__ import annotations

import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from setpiece.script.elements import (
    Character,
    Dialogue,
    Element,
    Lyrics,
    Run,
    SceneHeading,
    ScriptWarning,
    Section,
)
from setpiece.script.fountain import (
    FountainStream,
    emphasis,
    is_heading,
    parse_fountain,
    stream_fountain,
)


def elements(text: str) -> list[Element]:
    return parse_fountain(text).elements


def pairs(text: str) -> list[tuple[str, str]]:
    return [(element.type, element.text) for element in elements(text)]


# --- Title page -------------------------------------------------------------------


def test_title_page_keys_are_lower_case_and_multi_line_values_join() -> None:
    script = parse_fountain(
        "Title:\n    _**BRICK & STEEL**_\n    _**FULL RETIRED**_\nCredit: Written by\n"
        "Author: Stu Maschwitz\nContact:\n\tNext Level Productions\n\t1588 Mission Dr.\n\n"
        "EXT. PATIO - DAY\n"
    )
    assert script.title_page == {
        "title": "BRICK & STEEL\nFULL RETIRED",
        "credit": "Written by",
        "author": "Stu Maschwitz",
        "contact": "Next Level Productions\n1588 Mission Dr.",
    }
    assert [element.type for element in script.elements] == ["scene_heading"]


def test_a_first_paragraph_that_is_not_key_value_lines_is_the_script() -> None:
    script = parse_fountain("FADE IN:\n\nA RIVER.\n")
    assert script.title_page == {}
    assert pairs("FADE IN:\n\nA RIVER.\n") == [("action", "FADE IN:"), ("action", "A RIVER.")]
    assert parse_fountain("Title: X\nthis line is not a key\n").title_page == {}


def test_the_title_page_is_known_before_the_first_element() -> None:
    stream = stream_fountain("Title: Big Fish\n\nA RIVER.\n")
    assert stream.title_page == {"title": "Big Fish"}
    assert [element.text for element in stream] == ["A RIVER."]


def test_the_stream_reads_its_lines_lazily() -> None:
    def lines():
        yield "Title: Lazy"
        yield ""
        yield "First action."
        raise AssertionError("read past what was asked")

    stream = FountainStream(lines())
    assert stream.title_page == {"title": "Lazy"}


# --- Scene headings -------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "INT. HOUSE - DAY",
        "EXT. HOUSE - DAY",
        "EST. HOUSE - DAY",
        "INT./EXT. HOUSE - DAY",
        "INT/EXT. HOUSE - DAY",
        "I/E. HOUSE - DAY",
        "I/E HOUSE DAY",
        "INT HOUSE DAY",
        "int. house - day",
        "INT - HOUSE - DAY",
    ],
)
def test_scene_heading_prefixes(line: str) -> None:
    assert pairs(f"{line}\n\nAction.\n") == [("scene_heading", line), ("action", "Action.")]
    assert is_heading(line)


@pytest.mark.parametrize(
    "line", ["ESTABLISHING", "INTERIOR HOUSE", "EXT/INT. HOUSE - DAY", "... not a heading"]
)
def test_lines_that_only_look_like_headings_are_action(line: str) -> None:
    assert pairs(f"{line}\n\nAction.\n")[0] == ("action", line)


def test_forced_scene_heading_and_scene_numbers() -> None:
    found = elements(
        ".SNIPER SCOPE POV\n\nINT. HOUSE - DAY #12A#\n\nEXT. FIELD #I-1-A#\n\nINT. BARN\n"
    )
    assert [(e.text, e.number) for e in found if isinstance(e, SceneHeading)] == [
        ("SNIPER SCOPE POV", None),
        ("INT. HOUSE - DAY", "12A"),
        ("EXT. FIELD", "I-1-A"),
        ("INT. BARN", None),
    ]


def test_a_heading_needs_a_blank_line_after_it() -> None:
    assert pairs("INT. HOUSE - DAY\nEXT. HOUSE - DAY\n") == [
        ("action", "INT. HOUSE - DAY\nEXT. HOUSE - DAY")
    ]


# --- Action ---------------------------------------------------------------------


def test_action_keeps_tabs_and_leading_spaces_and_its_line_breaks() -> None:
    assert pairs("    Four spaces\n\tA tab\nThird line\n") == [
        ("action", "    Four spaces\n\tA tab\nThird line")
    ]


def test_forced_action() -> None:
    assert pairs("!INT. NOT A HEADING\n\n!BANG\nBANG\n\n!CUT TO:\n") == [
        ("action", "INT. NOT A HEADING"),
        ("action", "BANG\nBANG"),
        ("action", "CUT TO:"),
    ]


# --- Characters, dialogue, parentheticals, lyrics ---------------------------------


def test_character_cue_dialogue_and_parentheticals() -> None:
    assert pairs(
        "STEEL\nThey're coming out of the woodwork!\n(pause)\nNo, everybody!\n(pause\nlonger)\nSniper?\n"
    ) == [
        ("character", "STEEL"),
        ("dialogue", "They're coming out of the woodwork!"),
        ("parenthetical", "(pause)"),
        ("dialogue", "No, everybody!"),
        ("parenthetical", "(pause\nlonger)"),
        ("dialogue", "Sniper?"),
    ]


@pytest.mark.parametrize(
    ("cue", "name"),
    [
        ("MOM (O.S.)", "MOM"),
        ("EDWARD (V.O.)(CONT'D)", "EDWARD"),
        ("HANS (on the radio)", "HANS"),
        ("EVE (cont'd)", "EVE"),
        ("DR. BENNET", "DR. BENNET"),
        ("R2D2", "R2D2"),
    ],
)
def test_character_extensions(cue: str, name: str) -> None:
    found = elements(f"{cue}\nLine.\n")
    assert isinstance(found[0], Character)
    assert found[0].text == cue
    assert found[0].name == name
    assert isinstance(found[1], Dialogue)


def test_forced_character_keeps_its_case() -> None:
    found = elements("@McCLANE\nYippie ki-yay!\n\n@McCLANE\n")
    assert [(e.type, e.text) for e in found] == [
        ("character", "McCLANE"),
        ("dialogue", "Yippie ki-yay!"),
        ("character", "McCLANE"),
    ]


@pytest.mark.parametrize(
    "text",
    ["23 (O.S.)\nA character name needs a letter.\n", "Steel\nNot in capitals.\n"],
)
def test_lines_that_are_not_cues(text: str) -> None:
    assert [element.type for element in elements(text)] == ["action"]


def test_indented_cues_and_dialogue_are_read_without_their_indent() -> None:
    assert pairs("\t\tEVE\n\t  (feeling cocky)\n\tWell, then I'll just indent!\n") == [
        ("character", "EVE"),
        ("parenthetical", "(feeling cocky)"),
        ("dialogue", "Well, then I'll just indent!"),
    ]


def test_two_spaces_on_a_line_keep_dialogue_together() -> None:
    assert pairs("DEALER\nDealer gets a seven.\n  \nHit or stand sir?\n") == [
        ("character", "DEALER"),
        ("dialogue", "Dealer gets a seven.\n\nHit or stand sir?"),
    ]


def test_dual_dialogue_marks_both_speakers() -> None:
    found = elements("BRICK\nScrew retirement.\n\nSTEEL ^\nScrew retirement.\n\nAfter.\n")
    assert [(e.type, getattr(e, "dual", None)) for e in found] == [
        ("character", True),
        ("dialogue", True),
        ("character", True),
        ("dialogue", True),
        ("action", None),
    ]
    assert found[2].text == "STEEL"


def test_a_dual_mark_with_no_dialogue_before_it_is_single() -> None:
    found = elements("Action.\n\nSTEEL^\nAlone.\n")
    assert [(e.type, getattr(e, "dual", None)) for e in found] == [
        ("action", None),
        ("character", False),
        ("dialogue", False),
    ]


def test_lyrics_alone_and_in_dialogue() -> None:
    found = elements(
        "~Willy Wonka! The amazing chocolatier!\n\nSINGER\n~These are the songs\n~That I sing.\n"
        "\n~This is lyrics\nBut this is not\n"
    )
    assert [(e.type, e.text) for e in found] == [
        ("lyrics", "Willy Wonka! The amazing chocolatier!"),
        ("character", "SINGER"),
        ("lyrics", "These are the songs\nThat I sing."),
        ("action", "~This is lyrics\nBut this is not"),
    ]
    assert isinstance(found[0], Lyrics)


# --- Transitions, centered text -------------------------------------------------


def test_transitions() -> None:
    assert pairs("CUT TO:\n\n> Burn to White.\n\n                SMASH CUT TO:\n") == [
        ("transition", "CUT TO:"),
        ("transition", "Burn to White."),
        ("transition", "SMASH CUT TO:"),
    ]


@pytest.mark.parametrize("line", ["CUT TO:  ", "Cut to:", "FADE TO BLACK."])
def test_not_transitions(line: str) -> None:
    assert elements(f"{line}\n\nNext.\n")[0].type == "action"


def test_centered_text() -> None:
    assert pairs(">THE END<\n\n> Centered <\n\n>      Lots of Space\t\t<\n\n>One<\n>Two<\n") == [
        ("centered", "THE END"),
        ("centered", "Centered"),
        ("centered", "Lots of Space"),
        ("centered", "One\nTwo"),
    ]


# --- Emphasis -------------------------------------------------------------------


def test_emphasis_is_removed_from_text_and_kept_in_runs() -> None:
    plain, runs = emphasis("**bold** *italic* ***both*** _under_ \\*literal\\* snake_case")
    assert plain == "bold italic both under *literal* snake_case"
    assert [run for run in runs if run.bold or run.italic or run.underline] == [
        Run("bold", bold=True),
        Run("italic", italic=True),
        Run("both", bold=True, italic=True),
        Run("under", underline=True),
    ]
    assert "".join(run.text for run in runs) == plain


def test_unstyled_text_has_no_runs_and_unmatched_stars_stay() -> None:
    assert emphasis("2 * 3 = 6, and **no closing") == ("2 * 3 = 6, and **no closing", ())


def test_emphasis_does_not_cross_a_line_end() -> None:
    assert emphasis("*one\ntwo*") == ("*one\ntwo*", ())


def test_element_runs_cover_the_element_text() -> None:
    found = elements("From what seems like _Steel's face FILLS the *Leupold Mark 4* scope_.\n")
    assert found[0].text == "From what seems like Steel's face FILLS the Leupold Mark 4 scope."
    assert "".join(run.text for run in found[0].runs) == found[0].text
    assert Run("Leupold Mark 4", italic=True, underline=True) in found[0].runs


# --- Notes and boneyard ---------------------------------------------------------


def test_notes_are_taken_out_of_the_text_and_follow_their_element() -> None:
    found = elements(
        "Before1 [[some notes]]After1\n\nBefore2 [[multiline\nnote\n  \nhere]]After2\n\n"
        "[[A note on its own.]]\n\nMultiple [[notes]]on one[[line]]\n"
    )
    assert [(e.type, e.text) for e in found] == [
        ("action", "Before1 After1"),
        ("note", "some notes"),
        ("action", "Before2 After2"),
        ("note", "multiline\nnote\n  \nhere"),
        ("note", "A note on its own."),
        ("action", "Multiple on one"),
        ("note", "notes"),
        ("note", "line"),
    ]


def test_an_unclosed_note_stays_as_text_with_a_warning() -> None:
    text = "This is not [[\na proper note\n\nbecause it has an empty line\n]]\n\nEXT. LATER - DAY\n"
    with pytest.warns(ScriptWarning, match=r"line 1: note '\[\[' is not closed"):
        script = parse_fountain(text, source="draft.fountain")
    assert [(e.type, e.text) for e in script.elements] == [
        ("action", "This is not [[\na proper note"),
        ("action", "because it has an empty line\n]]"),
        ("scene_heading", "EXT. LATER - DAY"),
    ]
    assert len(script.warnings) == 1
    assert script.warnings[0].startswith("draft.fountain: line 1:")


def test_boneyard_is_cut_out_and_the_text_around_it_joins() -> None:
    text = (
        "As he rattles off the list.\n\nCUT TO:\n/*\nINT. GARAGE - DAY\n\nBRICK\nLine.\n*/\n"
        "EXT. MANSION - DAY\n\nThis is an /* internal */ boneyard.\n\nA /* two\nlines */ B\n"
    )
    assert pairs(text) == [
        ("action", "As he rattles off the list."),
        ("transition", "CUT TO:"),
        ("scene_heading", "EXT. MANSION - DAY"),
        ("action", "This is an  boneyard."),
        ("action", "A  B"),
    ]


def test_an_unclosed_boneyard_hides_the_rest_with_a_warning() -> None:
    with pytest.warns(ScriptWarning, match="line 3: boneyard '/[*]' is never closed"):
        script = parse_fountain("Kept.\n\nAlso kept /* lost\n\nEXT. LOST - DAY\n")
    assert [e.text for e in script.elements] == ["Kept.", "Also kept"]
    assert script.scenes == []
    assert len(script.warnings) == 1


# --- Sections, synopses, page breaks --------------------------------------------


def test_sections_synopses_and_page_breaks() -> None:
    found = elements(
        "# Act One\n= Set up the story.\n\n## Sequence\n\n### Level 3\n\n===\n\n=========\n\n"
        "=This is another act.\n"
    )
    assert [(e.type, e.text, getattr(e, "depth", None)) for e in found] == [
        ("section", "Act One", 1),
        ("synopsis", "Set up the story.", None),
        ("section", "Sequence", 2),
        ("section", "Level 3", 3),
        ("page_break", "", None),
        ("page_break", "", None),
        ("synopsis", "This is another act.", None),
    ]
    assert isinstance(found[0], Section)


def test_outline_lines_may_open_a_paragraph_that_goes_on() -> None:
    assert pairs("# Act\n  \nBOB\nHi.\n\n= Synopsis\n!Action.\n") == [
        ("section", "Act"),
        ("character", "BOB"),
        ("dialogue", "Hi."),
        ("synopsis", "Synopsis"),
        ("action", "Action."),
    ]


# --- Line ends, BOM, line numbers -----------------------------------------------


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_line_ends(end: str) -> None:
    text = end.join(["\ufeffEXT. SOMEWHERE - DAY", "", "GUY", "So what's up?", ""])
    assert pairs(text) == [
        ("scene_heading", "EXT. SOMEWHERE - DAY"),
        ("character", "GUY"),
        ("dialogue", "So what's up?"),
    ]


def test_elements_know_their_source_line() -> None:
    found = elements("Title: T\n\nINT. A - DAY\n\nBOB\n(beat)\nHi.\n\n/* x\n*/\nEnd [[n]].\n")
    assert [(e.type, e.line) for e in found] == [
        ("scene_heading", 3),
        ("character", 5),
        ("parenthetical", 6),
        ("dialogue", 7),
        ("action", 11),
        ("note", 11),
    ]


# --- Properties -----------------------------------------------------------------

# Markup, for the property below: every character that is not a letter or a
# digit (Fountain's forcing and emphasis marks, spaces, line ends, parentheses),
# and the keys of the title page, which are labels. Boneyards and notes are left
# out of the generated text ("/" and "[" never occur), since they are meant to go.
_BODY_CHARACTERS = st.sampled_from(
    [
        *"ABCXYZabcxyz0129éßЖ你 \t\n\r!@.><~=#^*_\\():-'",
        *["INT. ", "EXT. ", "CUT TO:", "  \n", "\n\n", "^\n", "#1A#", "===", "> ", " <"],
        *["\n\nINT. HOUSE 2 #12A#\n\n", "\n\nBOB\nHi 1\n", "\n\nSUE ^\nYo 2\n", "\n(beat 3)\n"],
        *["\n\n# Act 4\n", "\n= Syn 5\n", "\n~La 6\n", "\n\n@McX 7\n", "\n\n>Mid 8<\n\n"],
    ]
)
_KEYS = st.sampled_from(["Title", "Credit", "Author", "Draft date", "Contact"])
_VALUES = st.text(alphabet="Abc 12é*_", min_size=1, max_size=12).filter(lambda v: v.strip())


def _alnum(text: str) -> str:
    return "".join(character for character in text.lower() if character.isalnum())


def _is_subsequence(needle: str, haystack: str) -> bool:
    letters = iter(haystack)
    return all(character in letters for character in needle)


@settings(max_examples=300, deadline=None)
@given(
    title=st.dictionaries(_KEYS, _VALUES, max_size=3),
    body=st.lists(_BODY_CHARACTERS, max_size=80).map("".join),
)
def test_no_letter_or_digit_of_the_input_is_lost(title: dict[str, str], body: str) -> None:
    title_lines = "".join(f"{key}: {value}\n" for key, value in title.items())
    # "FADE IN:" alone is never a title page, so the body cannot become one.
    text = (title_lines + "\n" if title else "") + "FADE IN:\n\n" + body
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScriptWarning)
        script = parse_fountain(text)
    output = "".join(script.title_page.values())
    for element in script.elements:
        output += element.text + (getattr(element, "number", None) or "")
    expected = "".join(title.values()) + "FADE IN" + body
    assert _is_subsequence(_alnum(expected), _alnum(output))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_without_raising(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScriptWarning)
        script = parse_fountain(text)
    assert all(isinstance(element.text, str) for element in script.elements)
    assert len(script.scenes) == sum(isinstance(e, SceneHeading) for e in script.elements)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["/*", "*/", "[[", "]]", "A", "\n", "\n\n", " "]), max_size=40))
def test_boneyard_and_note_marks_in_any_order_parse(parts: list[str]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        script = parse_fountain("".join(parts))
    assert len(script.warnings) == len(caught)
    assert all(re.match(r"<string>: line \d+: ", warning) for warning in script.warnings)
