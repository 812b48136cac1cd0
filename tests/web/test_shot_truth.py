"""The shot page, the dashboard and the script page tell the truth (issue 32, part B).

The provisional pick and the circled take are marked, findings are listed once with
their take, the comparison opens on the pick against the newest other picture, frames are
numbered from ``[project] first_frame`` with timecode while stored 0-based, ``--kind`` has
one default, and the script page shows the screenplay with each line linked to its shot.
"""

from __future__ import annotations

import html
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from setpiece.production.context import Production
from web.helpers import Browserless, Film


def _app(film: Film) -> Any:
    from setpiece.web.app import create_app

    production = film.production
    return create_app(production.config.root, database_url=production.config.database_url)


def _login(app: Any, film: Film, name: str) -> Browserless:
    browser = Browserless(app)
    assert browser.login(name, film.passwords[name]).status_code == 303
    return browser


def _set_toml(film: Film, text: str) -> None:
    path = film.production.config.root / "setpiece.toml"
    path.write_text(path.read_text() + "\n" + text)


def _selected(page: str, select_id: str) -> str:
    block = re.search(rf'<select id="{select_id}">(.*?)</select>', page, re.S)
    assert block, select_id
    chosen = re.search(r'<option value="([^"]+)" selected>', block.group(1))
    assert chosen, block.group(1)
    return chosen.group(1)


def test_the_provisional_pick_then_the_circled_take_are_marked(film: Film, session_of: Any) -> None:
    from setpiece.production.picks import pick_provisional
    from setpiece.production.review import approve

    picks = pick_provisional(film.production)
    assert [p.take for p in picks] == [film.takes[1]]  # ties go to the newest
    page = session_of("vic").get("/shots/1A").text
    assert "Provisional pick: <a" in page and "<b>1A/2</b>" in page
    assert re.search(rf'id="take-{film.takes[1]}"[^>]*\n\s*data-pick="provisional"', page)
    assert 'data-pick="circled"' not in page
    assert page.count("provisional pick</span>") == 1

    film.production.actor = "dora"
    with film.production.transaction() as session:
        from setpiece.model.orm import Shot

        session.scalars(select(Shot)).one().status = "review"
    approve(film.as_("dora"), "1A", film.takes[0])
    page = session_of("vic").get("/shots/1A").text
    assert "Circled take: <a" in page and "<b>1A/1</b>" in page
    assert re.search(rf'id="take-{film.takes[0]}"[^>]*\n\s*data-pick="circled"', page)
    assert "provisional pick</span>" not in page


def test_findings_are_listed_once_with_their_take(film: Film, session_of: Any) -> None:
    from setpiece.production.records import record_finding

    record_finding(
        film.production, "continuity.look_jump", take=film.takes[1], frame=0, detail="sodium cast"
    )
    record_finding(film.production, "continuity.format", shot="1A", detail="shot-wide note")
    page = session_of("vic").get("/shots/1A").text
    assert page.count("sodium cast") == 1 and page.count("shot-wide note") == 1
    assert f'on <a href="#take-{film.takes[1]}">1A/2</a>' in page
    assert "on the shot" in page
    assert "None." not in page
    assert "Findings <small>2</small>" in page
    assert '<a href="#findings">1 finding(s)</a>' in page  # the take's card points there


def test_compare_opens_on_the_pick_against_the_newest_other_picture(
    film: Film, session_of: Any, make: Any
) -> None:
    """A retimed copy of a take is the same picture: the comparison skips the pick's lineage."""
    from setpiece.production.picks import pick_provisional

    retimed = make.take(film.shot, parent=film.takes[0])  # 1A/3, made from 1A/1
    assert [p.take for p in pick_provisional(film.production)] == [retimed]
    page = session_of("vic").get("/shots/1A").text
    assert _selected(page, "compare-a") == retimed
    assert _selected(page, "compare-b") == film.takes[1]  # not 1A/1, the pick's own parent
    assert "<dd>1A/1</dd>" in page  # "From" names the parent as SHOT/NUMBER


def test_frames_are_shown_from_first_frame_and_stored_from_zero(film: Film, make: Any) -> None:
    from setpiece.production.board import list_comments
    from setpiece.production.records import record_finding

    _set_toml(film, "[project]\nfirst_frame = 1001\n")
    app = _app(film)
    clip = make.take(film.shot, video=True)  # 1A/3
    record_finding(film.production, "continuity.look_jump", take=clip, frame=2, detail="x")
    director = _login(app, film, "dora")
    page = director.get("/shots/1A").text
    assert "frame 1003 (00:00:00:02)" in page
    assert 'data-first-frame="1001"' in page and "Frame (from 1001)" in page
    form = {"note": "hold here", "take": clip, "frame": "1011", "csrf_token": director.csrf}
    sent = director.post("/shots/1A/comments", data=form)
    assert sent.status_code == 303, sent.text[-600:]
    (comment,) = list_comments(film.production, "1A")
    assert comment.frame == 10  # stored 0-based
    assert "frame 1011 (00:00:00:10)" in director.get("/shots/1A").text

    before = director.post("/shots/1A/comments", data={**form, "frame": "1000"})
    assert before.status_code == 422
    assert "frame 1000 is before the first frame, 1001" in html.unescape(before.text)
    past = director.post("/shots/1A/comments", data={**form, "frame": "1013"})
    assert past.status_code == 422
    assert "1A/3 has 12 frame(s), 1001 to 1012: frame 1013 is past its end" in past.text
    assert len(list_comments(film.production, "1A")) == 1  # nothing half-written


def test_the_cli_frame_option_takes_the_shown_number(film: Film, cli: Any) -> None:
    from setpiece.production.board import list_comments

    _set_toml(film, "[project]\nfirst_frame = 1001\n")
    root = str(film.production.config.root)
    base = ["-C", root, "--as", "dora", "review", "comment", "1A", "--take", "1A/2"]
    code, out, err = cli(*base, "--note", "here", "--frame", "1001")
    assert code == 0, err
    assert "frame 1001 (00:00:00:00)" in out
    assert list_comments(film.production, "1A")[0].frame == 0
    code, out, err = cli(*base, "--note", "early", "--frame", "7")
    assert code == 2
    assert "frame 7 is before the first frame, 1001" in err
    assert len(list_comments(film.production, "1A")) == 1
    from setpiece.production.records import record_finding

    record_finding(film.production, "continuity.look_jump", take=film.takes[1], frame=2, detail="x")
    code, out, err = cli("-C", root, "--as", "dora", "findings", "list")
    assert code == 0, err
    assert "continuity.look_jump 1A/2 frame 1003 (00:00:00:02): x" in out


def test_one_kind_default_for_make_render_and_the_board(film: Film) -> None:
    from setpiece.generate.settings import render_settings
    from setpiece.production.takes import list_takes

    assert render_settings({}).kind == "image"
    page = _login(_app(film), film, "art").get("/shots/1A").text
    assert "<option selected>image</option>" in page
    _set_toml(film, '[render]\nkind = "video"\n')
    app = _app(film)
    artist = _login(app, film, "art")
    assert "<option selected>video</option>" in artist.get("/shots/1A").text
    form = {"takes": "1", "generator": "previs", "csrf_token": artist.csrf}
    queued = artist.post("/shots/1A/render", data=form)
    assert queued.status_code == 303
    newest = list_takes(film.production, "1A")[-1]
    assert newest.kind == "video"


def test_the_dashboard_and_history_name_takes_by_shot_and_number(
    film: Film, session_of: Any
) -> None:
    from setpiece.production.picks import pick_provisional

    pick_provisional(film.production)
    viewer = session_of("vic")
    dashboard = viewer.get("/").text
    assert ">1A/2</a>" in dashboard
    assert film.takes[1] not in dashboard
    history = viewer.get("/shots/1A").text.split('id="history"')[1]
    assert "take 1A/2" in history and film.takes[1] not in history


def _screenplay(scenes: int) -> str:
    """A screenplay of ``scenes`` scenes: action, a prop, an exchange, a transition."""
    parts = ["Title: Long Night\n\n"]
    for n in range(1, scenes + 1):
        place = "INT. TRAIN CORRIDOR - NIGHT" if n % 2 else "EXT. PLATFORM - DAY"
        parts.append(
            f"{place} #{n}#\n\n"
            f"ANNA walks the length of car {n}, a LANTERN swinging in her hand.\n\n"
            f"ANNA\n(quietly)\nCar {n}. Nobody here either.\n\n"
            f"BEN\nThen we keep walking until we find them.\n\n"
            "CUT TO:\n\n"
        )
    return "".join(parts)


def test_the_script_page_shows_190_scenes_as_a_screenplay(
    production: Production, make: Any, tmp_path: Path
) -> None:
    from setpiece.production.accounts import add_member, reset_password
    from setpiece.script.importer import import_script
    from setpiece.script.planning import plan_shots
    from setpiece.web.app import create_app

    script = tmp_path / "long.fountain"
    script.write_text(_screenplay(190))
    import_script(production, script)
    plan_shots(production)
    add_member(production, "ana", "admin")
    add_member(production, "vic", "viewer")
    password = reset_password(production, "vic", "vic chose this password").password
    app = create_app(production.config.root, database_url=production.config.database_url)
    viewer = Browserless(app)
    assert viewer.login("vic", password).status_code == 303
    started = time.perf_counter()
    response = viewer.get("/script")
    seconds = time.perf_counter() - started
    page = response.text
    print(f"/script, 190 scenes: {seconds:.2f} s, {len(page) / 1e6:.2f} MB, load {os.getloadavg()}")
    assert response.status_code == 200
    assert seconds < 10 and len(page) < 3_000_000
    assert page.count('class="scene"') == 190
    assert page.count('<p class="sp-character">') == 380
    assert page.count('<p class="sp-transition">CUT TO:</p>') == 190
    # Scene 7: ANNA's line opens her single, BEN's his, the action the lantern's insert.
    scene = page.split('id="scene-7"')[1].split('<section class="scene')[0]
    anna = re.search(
        r'<p class="sp-dialogue sp-dialogue"><a href="/shots/([^"]+)"[^>]*>Car 7\.', scene
    )
    ben = re.search(r'<a href="/shots/([^"]+)"[^>]*>Then we keep walking', scene)
    action = re.search(r'<p class="sp-action"><a href="/shots/([^"]+)"', scene)
    assert anna and ben and action
    shots = re.findall(
        r'<li><a href="/shots/([^"]+)">[^<]*</a>[^\n]*\n\s*(\S+) ([^<]*?) <small>', scene
    )
    described = {code: f"{size} {text}" for code, size, text in shots}
    assert described[anna.group(1)].startswith("MCU Single: ANNA"), described
    assert described[ben.group(1)].startswith("MCU Single: BEN"), described
    assert "LANTERN" in described[action.group(1)] or "Master" in described[action.group(1)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_covering_shots_rules(production: Production) -> None:
    from setpiece.production.screenplay import covering_shots
    from setpiece.production.views import ShotView, SubjectView

    def shot(code: str, size: str, description: str, *subjects: tuple[str, str]) -> ShotView:
        from datetime import UTC, datetime

        return ShotView(
            code,
            "1",
            len(code) + ord(code[-1]),
            description,
            size,
            "eye",
            None,
            None,
            None,
            None,
            "todo",  # type: ignore[arg-type]
            [SubjectView(n, k, None, None, None) for n, k in subjects],
            0,
            1,
            datetime.now(UTC),
            None,
        )

    shots = [
        shot("1A", "WS", "Master", ("ANNA", "character"), ("BEN", "character")),
        shot("1B", "MS", "Two-shot", ("ANNA", "character"), ("BEN", "character")),
        shot("1C", "MCU", "Single: ANNA", ("ANNA", "character")),
        shot("1D", "CU", "Insert: KEY", ("KEY", "prop")),
    ]
    body = [
        {"type": "action", "text": "Rain."},
        {"type": "character", "text": "ANNA", "name": "ANNA"},
        {"type": "dialogue", "text": "Hello."},
        {"type": "character", "text": "BEN", "name": "BEN"},
        {"type": "dialogue", "text": "Hi."},
        {"type": "action", "text": "She drops the KEY."},
        {"type": "transition", "text": "CUT TO:"},
    ]
    assert covering_shots(body, shots) == ["1A", "1C", "1C", "1B", "1B", "1D", None]
