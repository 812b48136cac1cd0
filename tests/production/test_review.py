"""Review decisions with who and when, and approval races that exactly one person wins."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from setpiece.errors import ConflictError, InvalidInputError, PermissionDeniedError
from setpiece.production import records, review, shots, takes
from setpiece.production.context import Production, init_production


def test_submit_approve_retake_comment_history(production: Production, make) -> None:
    code = make.shot("3A")
    first, second = make.take(code), make.take(code, video=True)
    review.submit(production, code)
    production.actor = "dir"
    circled = review.approve(production, code, "3A/1", note="her eyeline")
    assert circled.status == "circled" and shots.get_shot(production, code).status == "approved"
    review.approve(production, code, second)
    states = {t.id: t.status for t in takes.list_takes(production, code)}
    assert states == {first: "ready", second: "circled"}
    retake = review.request_retake(production, code, "the light jumps at frame 30")
    assert retake.status == "retake"
    note = review.add_comment(production, code, "flicker here", take=second, frame=5)
    assert (note.take, note.frame, note.author) == (second, 5, "dir")
    items = review.shot_history(production, code)
    assert [i.action for i in items if i.target == f"shot {code}"][-4:] == [
        "approve",
        "approve",
        "status",
        "comment",
    ]
    approve_event = next(i for i in items if i.action == "approve")
    assert approve_event.actor == "dir" and approve_event.note == "her eyeline"
    assert any(i.target == f"take {code}/1" and i.after == "circled" for i in items)


def test_review_bad_input(production: Production, make) -> None:
    code, other = make.shot("4A"), make.shot("4B", scene="1")
    take = make.take(code)
    with pytest.raises(InvalidInputError, match="needs a note"):
        review.request_retake(production, code, "  ")
    with pytest.raises(InvalidInputError, match="belongs to shot 4A, not 4B"):
        review.approve(production, other, take)
    with pytest.raises(InvalidInputError, match="--frame needs --take"):
        review.add_comment(production, code, "x", frame=3)
    with pytest.raises(
        InvalidInputError, match=r"has 1 frame\(s\), 0 to 0: frame 7 is past its end"
    ):
        review.add_comment(production, code, "x", take=take, frame=7)
    records.add_user(production, "ana", "admin")
    records.add_user(production, "art", "artist")
    production.actor = "art"
    with pytest.raises(PermissionDeniedError, match="approve needs director"):
        review.approve(production, code, take)
    with pytest.raises(PermissionDeniedError, match="request retake needs director"):
        review.request_retake(production, code, "no")
    assert review.add_comment(production, code, "artists may comment").author == "art"


def test_stale_approval_names_the_winner(production: Production, make) -> None:
    """Both reviewers saw version N; the second to act is refused and told what happened."""
    code = make.shot("5A")
    one, two = make.take(code), make.take(code)
    seen = shots.get_shot(production, code).version
    production.actor = "alice"
    review.approve(production, code, one, expected_version=seen)
    production.actor = "bob"
    with pytest.raises(ConflictError, match=rf"meanwhile alice approved take {one} \(5A/1\)"):
        review.approve(production, code, two, expected_version=seen)
    assert {t.id: t.status for t in takes.list_takes(production, code)} == {
        one: "circled",
        two: "ready",
    }


def test_simultaneous_approvals_on_postgresql(tmp_path: Path, pg_url: str, make_media) -> None:
    """Two transactions approve different takes at the same moment: exactly one commits."""
    from setpiece.model.orm import Shot
    from setpiece.production.scenes import add_scene
    from setpiece.production.takes import approve_take

    with init_production(tmp_path / "film", database_url=pg_url, actor="ana") as prod:
        add_scene(prod, "INT. A - DAY", number="1")
        shots.add_shot(prod, "1", "1A")
        one, two = (
            takes.import_takes(prod, "1A", [make_media.still()]).created[0].id for _ in range(2)
        )
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def race(name: str, take: str) -> None:
            # Both read the shot before either writes: the moment both click "approve".
            with prod.transaction() as session:
                session.query(Shot).filter_by(code="1A").one()
                barrier.wait(timeout=10)
            try:
                approve_take(prod, "1A", take, expected_version=seen)
                outcomes[name] = "won"
            except ConflictError as exc:
                outcomes[name] = str(exc)

        seen = shots.get_shot(prod, "1A").version
        threads = [threading.Thread(target=race, args=(n, t)) for n, t in (("a", one), ("b", two))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(v == "won" for v in outcomes.values()) == [False, True]
        loser = next(v for v in outcomes.values() if v != "won")
        assert "changed" in loser
        circled = [t for t in takes.list_takes(prod, "1A") if t.status == "circled"]
        assert len(circled) == 1
