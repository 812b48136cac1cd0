"""The AI-use disclosure: every figure checked against what the database recorded."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from provenance.media import write_textured
from setpiece.model.operations import Operation
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
        Operation("colour-match"),
    )
    generated_root = take("1D", 5, backend="comfyui", model="flux-dev")
    retimed, _ = derive_take(
        production,
        generated_root,
        write_textured(tmp_path / "retimed.png", 64, 48, seed=6),
        Operation("retime"),
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


def test_previs_is_counted_apart_and_old_recipes_read_by_generator_name(
    production, tmp_path: Path
) -> None:
    from setpiece.production.scenes import add_scene
    from setpiece.production.shots import add_shot
    from setpiece.provenance.deliver import made_by

    scene = add_scene(production, "INT. TRAIN - NIGHT").number
    for code in ("1A", "1B", "1C", "1D"):
        add_shot(production, scene, code, duration=0.5)  # 12 frames at 24 fps

    def take(shot: str, seed: int, **recipe: object) -> str:
        path = write_textured(tmp_path / f"{shot}-{seed}.png", 64, 48, seed=seed)
        return import_takes(production, shot, [path], Recipe(**recipe)).created[0].id  # type: ignore[arg-type]

    drawn = take("1A", 1, backend="previs", model="previs-1")
    old_drawn = take("1B", 2, backend="previs")
    old_trained = take("1C", 3, backend="diffusers", model="sdxl")
    # Recorded before origins were: no field on the recipe.
    with production.transaction() as session:
        for old in (old_drawn, old_trained):
            row = session.get(Take, old)
            row.parameters = {}
    retimed, _ = derive_take(
        production,
        old_drawn,
        write_textured(tmp_path / "retimed.png", 64, 48, seed=4),
        Operation("retime"),
    )
    matched, _ = derive_take(
        production,
        old_trained,
        write_textured(tmp_path / "matched.png", 64, 48, seed=5),
        Operation("colour-match"),
    )
    captured = take("1D", 6)
    for shot, chosen in (("1A", drawn), ("1B", retimed.id), ("1C", matched.id), ("1D", captured)):
        approve(production, shot, chosen)

    with production.transaction() as session:
        takes = {t.id: t for t in session.scalars(select(Take))}
        origins = {i: m.origin for i, m in made_by(takes, takes).items()}
    assert origins[old_drawn] == "algorithm" and origins[retimed.id] == "algorithm"
    assert origins[old_trained] == "trained" and origins[matched.id] == "trained"
    assert origins[drawn] == "algorithm" and origins[captured] is None

    report = disclosure(production)
    by_shot = {s.shot: s for s in report.shots}
    assert by_shot["1A"].picture == "previs" and by_shot["1A"].origin == "algorithm"
    assert by_shot["1B"].picture == "previs" and by_shot["1B"].operations == ["retime"]
    assert by_shot["1C"].picture == "ai-generated" and by_shot["1C"].generator == "diffusers"
    assert by_shot["1D"].picture == "captured" and by_shot["1D"].origin is None
    assert (report.generated_frames, report.previs_frames, report.captured_frames) == (12, 24, 12)
    assert report.generated_share == 0.25 and report.previs_share == 0.5
    assert report.headline == (
        "25% AI-generated; 50% previs drawings (procedural, no AI model); 25% captured"
    )
    document = report.to_json()
    assert document["previs_frames"] == 24 and document["generated_frames"] == 12
    assert document["headline"] == report.headline
    written = write_beside(report, tmp_path / "cut.mp4")
    assert json.loads(written[0].read_text())["previs_share"] == 0.5
    html = written[1].read_text()
    assert "50% previs drawings (procedural, no AI model)" in html
    assert "previs / previs-1 (procedural drawing, no AI model)" in html


def test_a_cut_of_previs_only_is_not_ai_generated(production, tmp_path: Path) -> None:
    from setpiece.production.scenes import add_scene
    from setpiece.production.shots import add_shot

    scene = add_scene(production, "EXT. PIER - DAY").number
    add_shot(production, scene, "2A", duration=0.5)
    path = write_textured(tmp_path / "panel.png", 64, 48, seed=8)
    chosen = import_takes(production, "2A", [path], Recipe(backend="previs")).created[0].id
    approve(production, "2A", chosen)
    report = disclosure(production)
    assert report.generated_share == 0.0 and report.previs_share == 1.0
    assert report.headline == "0% AI-generated; 100% previs drawings (procedural, no AI model)"
    assert report.summary_lines()[0].endswith(report.headline)


def test_synthetic_voices_are_disclosed_per_line_and_per_character(
    production, tmp_path: Path
) -> None:
    from fractions import Fraction

    from setpiece.model.dialogue import LineAudio
    from setpiece.production.scenes import add_scene
    from setpiece.production.shots import add_shot

    scene = add_scene(production, "INT. BOOTH - NIGHT").number
    add_shot(production, scene, "3A", duration=2)

    def line(order: int, who: str, voice: str | None, source: str = "synthetic") -> LineAudio:
        return LineAudio(
            line=f"{scene}/{order}",
            scene=scene,
            order=order,
            character=who,
            shot="3A",
            audio=tmp_path / f"{order}.wav",
            seconds=Fraction(1),
            source=source,
            voice=voice,
        )

    spoken = [
        line(2, "JONAH", "espeak:en-us+m3"),
        line(1, "MARA", "espeak:en-us+f3"),
        line(3, "MARA", None, source="recorded"),
        line(4, "JONAH", "kokoro:am_adam"),
    ]
    report = disclosure(production, lines=spoken)

    assert [(d.line, d.speech, d.backend, d.origin) for d in report.lines] == [
        (f"{scene}/1", "synthetic", "espeak", "algorithm"),
        (f"{scene}/2", "synthetic", "espeak", "algorithm"),
        (f"{scene}/3", "recorded", None, "captured"),
        (f"{scene}/4", "synthetic", "kokoro", "trained"),
    ]
    voices = {v.character: v for v in report.voices}
    assert (voices["MARA"].lines, voices["MARA"].synthetic) == (2, 1)
    assert voices["MARA"].voices == ["espeak:en-us+f3", "recorded"]
    assert voices["JONAH"].voices == ["espeak:en-us+m3", "kokoro:am_adam"]
    assert report.headline.endswith("3 of 4 lines synthetic speech (espeak, kokoro)")
    data = report.to_json()["dialogue"]
    assert data["synthetic_lines"] == 3 and len(data["characters"]) == 2
    json_path, html_path = write_beside(report, tmp_path / "cut.mp4")
    assert json.loads(json_path.read_text())["dialogue"]["lines"][3]["voice"] == "kokoro:am_adam"
    page = html_path.read_text()
    assert "MARA: 1 of 2 line(s) synthetic speech" in page
    assert "rule-based synthesis, no AI model" in page
    assert any("voice: JONAH: 2 of 2" in text for text in report.summary_lines())


def test_a_cut_without_dialogue_discloses_no_voices(production) -> None:
    report = disclosure(production)
    assert report.lines == [] and report.voices == []
    assert "speech" not in report.headline
