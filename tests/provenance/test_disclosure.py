"""The AI-use disclosure: every figure checked against what the database recorded."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from provenance.media import write_textured
from setpiece.model.orm import Event, Take
from setpiece.production.derive import derive_take
from setpiece.production.records import add_user
from setpiece.production.review import approve
from setpiece.production.takes import import_takes
from setpiece.production.views import Recipe
from setpiece.provenance.disclosure import disclosure, write_beside


def test_disclosure_of_generated_derived_and_captured_takes(production, tmp_path: Path) -> None:
    from setpiece.production.scenes import add_scene
    from setpiece.production.shots import add_shot

    scene = add_scene(production, "INT. TRAIN - NIGHT").number
    for code in ("1A", "1B", "1C", "1D", "1E"):
        add_shot(production, scene, code, duration=0.5)  # 12 frames at 24 fps
    admin = production.actor
    add_user(production, admin, "admin")
    add_user(production, "dana", "director")

    def take(shot: str, seed: int, **recipe: object) -> str:
        path = write_textured(tmp_path / f"{shot}-{seed}.png", 64, 48, seed=seed)
        return import_takes(production, shot, [path], Recipe(**recipe)).created[0].id  # type: ignore[arg-type]

    generated = take("1A", 1, backend="runway", model="gen4_turbo")
    captured = take("1B", 2)
    drawn_root = take("1C", 3)
    assisted, _ = derive_take(
        production,
        drawn_root,
        write_textured(tmp_path / "graded.png", 64, 48, seed=4),
        {"name": "colour-match"},
    )
    generated_root = take("1D", 5, backend="comfyui", model="flux-dev")
    retimed, _ = derive_take(
        production,
        generated_root,
        write_textured(tmp_path / "retimed.png", 64, 48, seed=6),
        {"name": "retime"},
    )
    provisional = take("1E", 7, backend="runway", model="gen4_turbo")
    production.actor = "dana"
    approve(production, "1A", generated)
    approve(production, "1B", captured)
    approve(production, "1C", assisted.id)
    approve(production, "1D", retimed.id)
    with production.transaction() as session:
        session.get(Take, provisional).provisional = True

    report = disclosure(production)
    by_shot = {s.shot: s for s in report.shots}
    assert by_shot["1A"].picture == "ai-generated" and by_shot["1A"].model == "gen4_turbo"
    assert by_shot["1B"].picture == "captured" and by_shot["1B"].generator is None
    assert by_shot["1C"].picture == "ai-assisted" and by_shot["1C"].operations == ["colour-match"]
    assert by_shot["1D"].picture == "ai-generated" and by_shot["1D"].generator == "comfyui"
    assert by_shot["1D"].operations == ["retime"]
    assert by_shot["1E"].picture == "ai-generated" and by_shot["1E"].status == "provisional"
    assert not by_shot["1E"].approved and by_shot["1E"].approved_by is None
    # Figures against the database.
    with production.transaction() as session:
        approvals = list(
            session.scalars(select(Event).where(Event.action == "approve", Event.entity == "take"))
        )
    assert {(e.entity_id, e.actor) for e in approvals} == {
        (s.take, s.approved_by) for s in report.shots if s.approved
    }
    assert all(s.approved_at is not None for s in report.shots if s.approved)
    assert report.total_frames == 5 * 12
    assert report.generated_frames == 3 * 12
    assert report.assisted_frames == 12 and report.captured_frames == 12
    assert report.generated_share == 0.6
    assert report.unapproved == 1
    assert report.generators == [
        {"generator": "comfyui", "model": "flux-dev", "origin": "trained", "shots": 1},
        {"generator": "runway", "model": "gen4_turbo", "origin": "trained", "shots": 2},
    ]
    credits = {c["name"]: c for c in report.credits}
    assert credits["dana"] == {"name": "dana", "role": "director", "approvals": 4}
    assert credits[admin]["role"] == "admin" and credits[admin]["approvals"] == 0
    document = report.to_json()
    assert document["generated_share"] == 0.6
    assert [s["shot"] for s in document["scenes"][0]["shots"]] == ["1A", "1B", "1C", "1D", "1E"]
    written = write_beside(report, tmp_path / "cut.mp4")
    assert [p.name for p in written] == ["cut.disclosure.json", "cut.disclosure.html"]
    html = written[1].read_text()
    assert "60% AI-generated" in html and "dana" in html and "flux-dev" in html
