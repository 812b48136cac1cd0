"""The shot page and the script page in a real Chromium (issue 32, part B).

The pick is marked where the director looks for it; the comparison opens on the pick
against the newest other picture; "Use A's frame" never moves the comment to another take
without saying so; the script page shows the screenplay and a line opens its shot.
Screenshots go to test-artifacts/web/<test>/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from web.helpers import LiveServer, make_film
from web.test_browser import CHROMIUM, log_in

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_shot_page_marks_the_pick_and_keeps_the_comment_on_its_take(
    production: Any,
    make: Any,
    browser: Any,
    artefacts: Path,
) -> None:
    from setpiece.production.picks import pick_provisional

    film = make_film(production, make)
    retimed = make.take(film.shot, parent=film.takes[0])  # 1A/3, the same picture as 1A/1
    pick_provisional(production)
    with LiveServer(film.app) as server:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(page, server.url, "dora", film.passwords["dora"], "/shots/1A")
        assert page.inner_text("#pick").startswith("Provisional pick: 1A/3")
        card = page.locator(f"#take-{retimed}")
        assert card.get_attribute("data-pick") == "provisional"
        assert "provisional pick" in card.locator("header").inner_text()
        assert page.locator("[data-pick]").count() == 1
        # The comparison: the pick (A) against the newest take that is another picture (B).
        assert page.input_value("#compare-a") == retimed
        assert page.input_value("#compare-b") == film.takes[1]
        page.wait_for_selector(f"#compare img.a[data-take='{retimed}']")
        assert page.inner_text("#frame-here") == "Use A's frame (1A/3)"
        page.screenshot(path=str(artefacts / "1-pick-marked.png"), full_page=True)

        # The comment is on another take: "Use A's frame" changes nothing, and says so.
        page.select_option("#comment-take", film.takes[0])
        page.click("#frame-here")
        assert page.input_value("#comment-take") == film.takes[0]
        assert page.input_value("#comment-frame") == ""
        status = page.inner_text("#frame-status")
        assert "The comment is on take 1A/1, A shows take 1A/3: nothing changed" in status
        page.screenshot(path=str(artefacts / "2-frame-refused.png"), full_page=True)

        # On the shot: it moves the comment to A's take and says it did.
        page.select_option("#comment-take", "")
        page.click("#frame-here")
        assert page.input_value("#comment-take") == retimed
        assert page.input_value("#comment-frame") == "0"
        assert "now on take 1A/3 (it was on the shot)" in page.inner_text("#frame-status")
        page.fill("#comment-note", "hold the light here")
        page.click("#comment-form button[type=submit]")
        page.wait_for_selector("text=hold the light here")
        assert "on 1A/3 frame 0 (00:00:00:00)" in page.inner_text("#comments")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_script_page_shows_the_screenplay_and_a_line_opens_its_shot(
    production: Any,
    make: Any,
    browser: Any,
    artefacts: Path,
    tmp_path: Path,
) -> None:
    from setpiece.script.importer import import_script
    from setpiece.script.planning import plan_shots

    film = make_film(production, make)
    script = tmp_path / "night.fountain"
    script.write_text(
        "INT. TRAIN CORRIDOR - NIGHT\n\n"
        "ANNA walks the corridor, a LANTERN swinging in her hand.\n\n"
        "ANNA\n(quietly)\nNobody here either.\n\n"
        "BEN\nThen we keep walking.\n\n"
        "CUT TO:\n\n"
        "EXT. PLATFORM - DAY\n\n"
        "The train pulls away.\n"
    )
    import_script(production, script, force=True)
    plan_shots(production)
    with LiveServer(film.app) as server:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(page, server.url, "vic", film.passwords["vic"], "/script")
        character = page.locator(".sp-character").first
        assert character.inner_text() == "ANNA"
        assert page.locator(".sp-parenthetical").first.inner_text() == "(quietly)"
        assert page.locator(".sp-transition").first.inner_text() == "CUT TO:"

        # Formatted as a screenplay: the cue further right than the dialogue, the dialogue
        # further right than the action.
        def left(selector: str) -> float:
            box = page.locator(selector).first.bounding_box()
            assert box is not None
            return float(box["x"])

        assert left(".sp-character") > left(".sp-dialogue") > left(".sp-action")
        page.screenshot(path=str(artefacts / "1-screenplay.png"), full_page=True)
        line = page.locator(".sp-dialogue a", has_text="Then we keep walking")
        code = line.get_attribute("data-shot")
        assert code is not None
        line.click()
        page.wait_for_url(f"{server.url}/shots/{code}")
        assert "Single: BEN" in page.inner_text(".desc")
        page.screenshot(path=str(artefacts / "2-the-line-s-shot.png"), full_page=True)
