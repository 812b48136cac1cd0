"""The bible as a living document: edits with versions, renames, looks, likenesses, staleness.

Every test runs on SQLite and PostgreSQL (the ``production`` fixture), with real media.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mediafactory import write_bomb_png
from setpiece.errors import ConflictError, InvalidInputError, InvalidMediaError, NotFoundError
from setpiece.generate.queue import LocalExecutor, enqueue, run_queue
from setpiece.model.enums import BibleKind
from setpiece.model.orm import BibleEntry, Event, Take
from setpiece.production.bible import (
    accept_candidate,
    add_entry,
    get_entry,
    remove_entry,
    set_entry,
)
from setpiece.production.context import Production
from setpiece.production.likeness import record_likeness
from setpiece.production.looks import set_look
from setpiece.production.picks import pick_provisional
from setpiece.production.shots import add_shot
from setpiece.production.stale import stale_shots
from setpiece.production.takes import list_takes

CHARACTER = BibleKind.CHARACTER


def _events(production: Production) -> int:
    with production.transaction(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def render(production: Production, *shots: str) -> None:
    enqueue(production, list(shots))
    report = run_queue(production, executor=LocalExecutor())
    assert report.failed == 0


@pytest.fixture
def film(production: Production, make: Any) -> dict[str, str]:
    """Three scenes; MARA in a shot of scenes 1 and 3, each rendered once (previs)."""
    add_entry(production, CHARACTER, "MARA", description="60s, grey braid", refs=[make.still()])
    scenes = [make.scene(f"INT. BOOTH {n} - NIGHT") for n in range(3)]
    for code, scene in (("1A", scenes[0]), ("2A", scenes[1]), ("3A", scenes[2])):
        make.shot(code, scene, subjects=[_subject("MARA")], angle="eye")
    render(production, "1A", "2A", "3A")
    # Runway's dry runs are quoted: its default still and text-to-video models have no
    # written rate, so the project gives test figures (issue 26).
    generators = production.config.settings.setdefault("generators", {})
    generators.setdefault("runway", {})["rates"] = {"gen4_image": 1, "gen4.5": 1}
    return {"first": scenes[0], "second": scenes[1], "third": scenes[2]}


def _subject(name: str) -> Any:
    from setpiece.production.shots import parse_subjects

    return parse_subjects(name)[0]


def stale_of(production: Production) -> dict[str, list[dict[str, Any]]]:
    return {t.label: t.stale_because for t in list_takes(production) if t.stale}


# Editing -------------------------------------------------------------------------------------


def test_an_edit_raises_the_version_and_keeps_the_history(production: Production) -> None:
    add_entry(production, CHARACTER, "MARA")
    entry = set_entry(production, CHARACTER, "mara", description="60s, grey braid")
    assert (entry.version, entry.description) == (2, "60s, grey braid")
    same = set_entry(production, CHARACTER, "MARA", description="60s, grey braid")
    assert same.version == 2  # nothing changed, nothing raised
    with production.transaction(read_only=True) as session:
        edits = session.scalars(select(Event).where(Event.action == "edit")).all()
    assert [e.data["changed"] for e in edits] == [["description"]]


def test_two_people_editing_one_entry_one_gets_the_conflict(production: Production) -> None:
    add_entry(production, CHARACTER, "MARA")
    seen = get_entry(production, CHARACTER, "MARA").version
    bob = Production(production.config, production.db, production.store, "bob")
    set_entry(bob, CHARACTER, "MARA", description="grey braid", expected_version=seen)
    before = _events(production)
    with pytest.raises(ConflictError) as caught:
        set_entry(production, CHARACTER, "MARA", description="red hair", expected_version=seen)
    message = str(caught.value)
    assert "character/MARA changed since version 1: it is now version 2" in message
    assert "version 2: description by bob" in message
    assert get_entry(production, CHARACTER, "MARA").description == "grey braid"
    assert _events(production) == before


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_edit_that_lost_the_race_is_a_conflict_not_an_overwrite(
    production: Production,
) -> None:
    """A read its own session holds, then another session's commit, then its write."""
    add_entry(production, CHARACTER, "MARA")
    with (
        pytest.raises(ConflictError, match="someone else changed this"),
        production.transaction() as session,
    ):
        entry = session.scalars(select(BibleEntry)).one()
        set_entry(production, CHARACTER, "MARA", description="the other's")
        entry.description = "mine"
        entry.version = entry.version + 1
    assert get_entry(production, CHARACTER, "MARA").description == "the other's"


def test_a_rename_keeps_the_old_name_as_an_alias(production: Production, make: Any) -> None:
    add_entry(production, CHARACTER, "MARA")
    add_entry(production, CHARACTER, "TEO")
    renamed = set_entry(production, CHARACTER, "MARA", rename="MARA VOSS")
    assert (renamed.name, renamed.aliases, renamed.version) == ("MARA VOSS", ["MARA"], 2)
    assert get_entry(production, CHARACTER, "mara").name == "MARA VOSS"
    shot = add_shot(production, make.scene(), "1A", subjects=[_subject("MARA")])
    assert [s.name for s in shot.subjects] == ["MARA VOSS"]
    with pytest.raises(ConflictError, match="character TEO already exists"):
        set_entry(production, CHARACTER, "MARA VOSS", rename="teo")
    with pytest.raises(ConflictError, match="was called MARA before"):
        set_entry(production, CHARACTER, "TEO", rename="MARA")
    with pytest.raises(ConflictError, match="was called MARA before"):
        add_entry(production, CHARACTER, "MARA")


def test_unknown_entries_are_named(production: Production) -> None:
    for call in (
        lambda: set_entry(production, CHARACTER, "NOBODY", description="x"),
        lambda: remove_entry(production, CHARACTER, "NOBODY"),
        lambda: accept_candidate(production, CHARACTER, "NOBODY"),
        lambda: record_likeness(production, "NOBODY", person="Someone"),
    ):
        with pytest.raises(NotFoundError, match="no character 'NOBODY'"):
            call()


def test_references_are_added_and_removed_by_number(production: Production, make: Any) -> None:
    add_entry(production, CHARACTER, "MARA", refs=[make.still(), make.still()])
    first = get_entry(production, CHARACTER, "MARA").refs
    entry = set_entry(production, CHARACTER, "MARA", remove_refs=[1], refs=[make.still()])
    assert len(entry.refs) == 2 and entry.refs[0].sha256 == first[1].sha256
    with pytest.raises(
        InvalidInputError, match="has no reference 3: its references are numbered 1 to 2"
    ):
        set_entry(production, CHARACTER, "MARA", remove_refs=[3])
    assert get_entry(production, CHARACTER, "MARA").version == 2


def test_a_reference_that_is_no_image_or_a_bomb_changes_nothing(
    production: Production, make: Any, tmp_path: Path
) -> None:
    add_entry(production, CHARACTER, "MARA")
    scene = make.scene()
    text = tmp_path / "notes.png"
    text.write_text("not a picture at all\n")
    before = _events(production)
    with pytest.raises(InvalidMediaError):
        set_entry(production, CHARACTER, "MARA", refs=[text])
    with pytest.raises(InvalidMediaError, match="decompression-bomb"):
        set_entry(production, CHARACTER, "MARA", refs=[write_bomb_png(tmp_path / "bomb.png")])
    with pytest.raises(InvalidMediaError, match="decompression-bomb"):
        set_look(production, CHARACTER, "MARA", from_scene=scene, refs=[tmp_path / "bomb.png"])
    assert _events(production) == before
    assert get_entry(production, CHARACTER, "MARA").version == 1


def test_remove_is_refused_while_takes_used_it_and_force_keeps_them(
    production: Production, film: dict[str, str]
) -> None:
    with pytest.raises(ConflictError, match=r"was used by 3 take\(s\) \(1A/1, 2A/1, 3A/1\)"):
        remove_entry(production, CHARACTER, "MARA")
    assert remove_entry(production, CHARACTER, "MARA", force=True) == ["1A/1", "2A/1", "3A/1"]
    takes = list_takes(production)
    assert len(takes) == 3 and all(t.stale for t in takes)
    assert takes[0].stale_because == [{"entry": "character/MARA", "was": 1, "now": None}]


def test_accept_takes_the_scripts_description(production: Production) -> None:
    add_entry(production, CHARACTER, "MARA", description="")
    with pytest.raises(InvalidInputError, match="gives character/MARA no description"):
        accept_candidate(production, CHARACTER, "MARA")
    with production.transaction() as session:
        session.scalars(select(BibleEntry)).one().candidate_description = "60s, grey braid"
    entry = accept_candidate(production, CHARACTER, "MARA")
    assert (entry.description, entry.version) == ("60s, grey braid", 2)


# Looks ---------------------------------------------------------------------------------------


def test_a_look_from_scene_3_makes_stale_exactly_the_takes_of_scene_3(
    production: Production, film: dict[str, str], make: Any
) -> None:
    entry = set_look(
        production,
        CHARACTER,
        "MARA",
        from_scene=film["third"],
        description="oilskin coat, wet hair",
        refs=[make.still()],
    )
    assert [(lk.from_scene, lk.to_scene) for lk in entry.looks] == [(film["third"], None)]
    assert stale_of(production) == {
        "3A/1": [{"entry": f"character/MARA look scenes {film['third']}-", "was": None, "now": 1}]
    }
    assert [s.shot for s in stale_shots(production)] == ["3A"]
    # The prompt of a shot in scene 3 carries the look, with its image first.
    planned = enqueue(production, ["3A", "1A"], dry_run=True).takes
    assert "look: oilskin coat, wet hair" in planned[0].request["prompt"]
    assert "look:" not in planned[1].request["prompt"]
    assert "eye-level" in planned[0].request["prompt"]


def test_render_stale_renders_those_shots_once(
    production: Production, film: dict[str, str]
) -> None:
    set_entry(production, CHARACTER, "MARA", description="70s, white braid")
    assert [s.shot for s in stale_shots(production)] == ["1A", "2A", "3A"]
    assert stale_of(production)["2A/1"] == [{"entry": "character/MARA", "was": 1, "now": 2}]
    render(production, *(s.shot for s in stale_shots(production, ["1A", "3A"])))
    assert [s.shot for s in stale_shots(production)] == ["2A"]
    # Picks prefer the fresh take; the stale one stays, never deleted.
    picks = {p.shot: p.take for p in pick_provisional(production)}
    fresh = {t.label: t.id for t in list_takes(production) if not t.stale}
    assert picks["1A"] == fresh["1A/2"] and picks["3A"] == fresh["3A/2"]
    assert len(list_takes(production)) == 5


def test_bad_looks_are_refused_naming_what_is_wrong(
    production: Production, film: dict[str, str]
) -> None:
    first, second, third = film["first"], film["second"], film["third"]
    set_look(production, CHARACTER, "MARA", from_scene=second, to_scene=third, description="coat")
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"from_scene": third, "to_scene": first}, InvalidInputError, "run backwards"),
        ({"from_scene": ""}, InvalidInputError, "scene range is empty"),
        ({"from_scene": "99"}, NotFoundError, "no scene '99'"),
        ({"from_scene": first, "to_scene": "98"}, NotFoundError, "no scene '98'"),
        (
            {"from_scene": first, "to_scene": second},
            ConflictError,
            f"for scenes {first}-{second} overlaps its look for scenes {second}-{third}",
        ),
        ({"from_scene": first}, ConflictError, "overlaps"),
    ]
    before = _events(production)
    for arguments, error, fragment in cases:
        with pytest.raises(error, match=fragment):
            set_look(production, CHARACTER, "MARA", description="x", **arguments)
    assert _events(production) == before
    # The same first scene edits that look: its version rises, and its takes go stale.
    edited = set_look(production, CHARACTER, "MARA", from_scene=second, description="red coat")
    assert [(lk.description, lk.version, lk.to_scene) for lk in edited.looks] == [
        ("red coat", 2, None)
    ]


# Likeness and consent ------------------------------------------------------------------------


def test_a_consent_file_missing_or_empty_is_refused(production: Production, tmp_path: Path) -> None:
    add_entry(production, CHARACTER, "MARA")
    empty = tmp_path / "consent.pdf"
    empty.write_bytes(b"")
    for consent, fragment in (
        (tmp_path / "missing.pdf", "does not exist"),
        (empty, "is empty"),
    ):
        with pytest.raises(InvalidInputError, match=fragment):
            record_likeness(
                production, "MARA", person="Ada Lee", consent=consent, date="2026-11-02", scope="x"
            )
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(b"%PDF-1.4 signed")
    with pytest.raises(InvalidInputError, match="not a date"):
        record_likeness(
            production, "MARA", person="Ada Lee", consent=signed, date="2 Nov", scope="film"
        )
    assert get_entry(production, CHARACTER, "MARA").likeness is None


def test_a_likeness_without_consent_is_not_rendered_from_its_references(
    production: Production, film: dict[str, str], tmp_path: Path
) -> None:
    record_likeness(production, "MARA", person="Ada Lee")
    with pytest.raises(InvalidInputError, match="character/MARA is the likeness of Ada Lee"):
        enqueue(production, ["1A"], generator="runway", dry_run=True)
    # Previs draws no reference images: nothing of the person is sent.
    enqueue(production, ["1A"], dry_run=True)
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(b"%PDF-1.4 signed")
    entry = record_likeness(
        production, "MARA", person="Ada Lee", consent=signed, date="2026-11-02", scope="this film"
    )
    assert entry.likeness is not None and entry.likeness.consented
    assert entry.version == 1  # a consent changes no picture
    # With consent on record the request carries her references, tagged with her name.
    planned = enqueue(production, ["1A"], generator="runway", dry_run=True).takes[0].request
    mara = get_entry(production, CHARACTER, "MARA")
    assert planned["references"] == [m.sha256 for m in mara.refs]
    assert planned["parameters"]["reference_tags"] == ["MARA"]
    assert "MARA (60s, grey braid)" in planned["prompt"]


def test_require_consent_false_lets_it_through(
    production: Production, film: dict[str, str]
) -> None:
    from setpiece.production.likeness import bible_settings

    record_likeness(production, "MARA", person="Ada Lee")
    settings = {**production.config.settings, "bible": {"require_consent": False}}
    assert bible_settings(settings).require_consent is False
    with pytest.raises(InvalidInputError, match=r"\[bible\] require_consent"):
        bible_settings({"bible": {"require_consent": "no"}})
    with pytest.raises(InvalidInputError, match="requires_consent"):
        bible_settings({"bible": {"requires_consent": True}})


def test_takes_record_the_versions_they_were_made_from(
    production: Production, film: dict[str, str]
) -> None:
    with production.transaction(read_only=True) as session:
        take = session.scalars(select(Take).order_by(Take.created_at)).first()
        assert take is not None
        assert take.bible[0]["entry"] == "character/MARA" and take.bible[0]["version"] == 1


def test_a_look_with_pictures_sends_them_instead_of_the_entrys(
    production: Production, film: dict[str, str], make: Any
) -> None:
    """A look's pictures are the character as they look now: a single stays one reference
    (a ComfyUI workflow chosen by refsN does not change because a look was added)."""
    mara = get_entry(production, CHARACTER, "MARA")
    entry = set_look(
        production,
        CHARACTER,
        "MARA",
        from_scene="3",
        description="oilskin coat",
        refs=[make.still()],
    )
    (look,) = entry.looks
    planned = {
        t.shot: t.request
        for t in enqueue(production, ["1A", "3A"], generator="runway", dry_run=True).takes
    }
    assert planned["1A"]["references"] == [m.sha256 for m in mara.refs]
    assert planned["3A"]["references"] == [m.sha256 for m in look.refs]
