"""Candidate props: objects shown or handled, never names, sounds, camera words or emphasis."""

from __future__ import annotations

from setpiece.script.props import HANDLED, SHOWN, Candidate, find_candidates, find_props

SPEAKERS = ["BRICK", "STEEL", "BRANDT", "TEO"]


def test_the_false_props_of_the_issue_are_not_candidates() -> None:
    action = [
        "BRICK BRADDOCK, retired police detective, sits quietly.",  # a name
        "The SCREEN DOOR slides open and DICK STEEL, his former partner, steps out.",
        "Steel finds THE BOY BAND, AKA DAN, in a trailer.",  # people, an acronym
        "The cross-hairs are INCHES AWAY. His face FILLS the scope.",  # idiom, verb
        "Nancy SMACKS him. It's BAD.",  # verbs and emphasis
        "An EXTREMELY HANDSOME MAN waves.",  # emphasis before a person
        "A SOUND in the hall. KEYS in the lock. CLINK. SCRAPE.",  # sounds
        "We LOOK UP. CLOSE ON the rope. The door BURSTS OPEN and slams SHUT.",
        "We hear a PIANO playing inside.",  # heard, not seen
    ]
    assert find_props(action, SPEAKERS) == ["SCREEN DOOR"]


def test_shown_and_handled_props_carry_their_confidence() -> None:
    action = [
        "She lifts a dented tin FILM CANISTER from the shelf.",
        "A SPINNING PINWHEEL",
        "ON HIS SHOES",
        "BRICK and STEEL get into Mom's PORSCHE, Steel at the wheel.",
        "Teo sets the FILM CANISTER on the bench.",
    ]
    assert find_candidates(action, SPEAKERS) == [
        Candidate("FILM CANISTER", HANDLED),
        Candidate("SPINNING PINWHEEL", SHOWN),
        Candidate("SHOES", SHOWN),
        Candidate("PORSCHE", HANDLED),
    ]


def test_a_prop_name_of_200_characters_is_not_a_candidate() -> None:
    for long_name in ("ABCDEFGHIJ" * 20, " ".join(["ENORMOUS"] * 23)[:200].strip()):
        assert len(long_name) >= 199
        assert find_props([f"She drops the {long_name}."], SPEAKERS) == []
        assert find_props([long_name], SPEAKERS) == []
    # the same sentence with a short name still gives the prop
    assert find_props(["She drops the BRASS KEY."], SPEAKERS) == ["BRASS KEY"]


def test_detection_is_deterministic() -> None:
    action = ["Teo sits on the ledge with the FILM CANISTER on his knees."]
    assert find_candidates(action, SPEAKERS) == find_candidates(list(action), SPEAKERS)
