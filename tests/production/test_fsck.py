"""``fsck`` on a project the way ``make`` leaves it: what the database points at is in use,
evidence of replaced findings is collectable, and only a real orphan is a problem."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import CliRun
from mediafactory import write_png
from setpiece.model.orm import Base, Media
from setpiece.production.context import Production
from setpiece.production.fsck import media_columns, referenced_media
from setpiece.production.records import NewFinding, list_findings, replace_findings

SCRIPT = """Title: Kettle

INT. KITCHEN - NIGHT

JO fills a KETTLE. SAM leans in the doorway.

SAM
You are up late.
"""


def test_every_column_that_points_at_media_is_counted() -> None:
    found = {f"{c.table.name}.{c.name}" for c in media_columns()}
    assert found == {
        "bible_entries.voice",
        "bible_looks.references",
        "bible_refs.media_sha256",
        "findings.evidence_sha256",
        "line_takes.media_sha256",
        "line_takes.voice",
        "posters.poster_sha256",
        "reference_frames.thumb_sha256",
        "reference_works.media_sha256",
        "render_jobs.request",
        "takes.media_sha256",
        "takes.reference_hashes",
        "takes.workflow_sha256",
    }
    # Every foreign key to media.sha256 in the schema is among them.
    keys = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        for fk in column.foreign_keys
        if fk.column is Media.__table__.c.sha256
    }
    assert keys <= found


@pytest.mark.slow
def test_fsck_is_clean_after_make_and_collects_replaced_evidence(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "kettle.fountain"
    script.write_text(SCRIPT)
    project = tmp_path / "kettle"
    made = cli(
        "make", script, "--project", project, "--kind", "image", "--resolution", "320x180",
        "--no-movie",
    )  # fmt: skip
    assert made.code == 0, made.err
    monkeypatch.chdir(project)
    reference = write_png(tmp_path / "painting.png", 320, 180, seed=11)
    assert cli("reference", "add", reference, "--title", "A painting").code == 0

    # Fresh: the corpus's thumbnail, the takes, the evidence are all in use.
    clean = fsck_json(cli)
    assert clean.code == 0 and clean.json()["ok"], clean.out
    assert clean.json()["collectable"] == [] and clean.json()["unreferenced"] == []
    with Production.open(project) as production, production.transaction(read_only=True) as s:
        used = referenced_media(s)
        tables = {where.split(".")[0] for places in used.values() for where in places}
        assert {"takes", "findings", "reference_frames"} <= tables

    # A check re-run: its findings are replaced, with new evidence images.
    with Production.open(project) as production:
        before = [f for f in list_findings(production) if f.evidence is not None]
        assert before, "the make left no finding with evidence to replace"
        old = {f.evidence.sha256 for f in before if f.evidence}
        kinds = frozenset(f.kind for f in before)
        shots = sorted({f.shot for f in before if f.shot})
        fresh = [
            NewFinding(
                kind=f.kind,
                shot=f.shot,
                take=f.take,
                detail=f.detail,
                evidence=write_png(tmp_path / f"evidence-{i}.png", seed=100 + i),
            )
            for i, f in enumerate(before)
        ]
        replace_findings(
            production,
            kinds,
            fresh,
            takes=sorted({f.take for f in before if f.take}),
            shots=shots,
        )
    after = fsck_json(cli)
    assert after.code == 0 and after.json()["ok"], after.out  # routine: not a problem
    collectable = after.json()["collectable"]
    assert {Path(key).stem for key in collectable} == old
    listed = cli("fsck")
    assert listed.code == 0 and f"{len(old)} file(s)" in listed.out and "--gc" in listed.out

    freed = cli("fsck", "--gc", "--json")
    assert freed.code == 0 and sorted(freed.json()["removed"]) == sorted(collectable)
    assert freed.json()["freed_bytes"] > 0
    again = fsck_json(cli)
    assert again.code == 0 and again.json()["collectable"] == []
    with Production.open(project) as production:
        assert all(f.evidence is not None for f in list_findings(production) if f.kind in kinds)
        for sha in old:
            with production.transaction(read_only=True) as session:
                assert session.get(Media, sha) is None

    # A file no row names, left long ago by an interrupted import: an orphan, exit 3.
    stray = project / "media" / "ab" / ("ab" + "0" * 62 + ".png")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left behind")
    os.utime(stray, (time.time() - 7200, time.time() - 7200))
    orphan = fsck_json(cli)
    assert orphan.code == 3
    assert [p["kind"] for p in orphan.json()["problems"]] == ["orphan_file"]
    assert cli("fsck", "--gc").code == 0 and not stray.exists()
    assert fsck_json(cli).code == 0


def fsck_json(cli) -> CliRun:
    return cli("fsck", "--json")
