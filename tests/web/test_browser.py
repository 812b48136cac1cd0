"""The board in a real Chromium (Debian's /usr/bin/chromium, driven by Playwright).

A director and an artist work at the same time: the director opens a shot, plays a
video take, approves it, and the artist's board moves the shot to approved without
a reload; a viewer sees no approve button and gets 403 from the API anyway.
Screenshots go to test-artifacts/web/<test>/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from web.helpers import LiveServer, make_film

CHROMIUM = os.environ.get("SETPIECE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
)


def log_in(page: Any, url: str, name: str, password: str, then: str = "/") -> None:
    page.goto(f"{url}/login?next={then}")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    # The page's own scripts have run; its images (posters made on demand) may still load.
    page.wait_for_url(f"{url}{then}", wait_until="domcontentloaded")


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_director_and_artist_work_together(
    production: Any, make: Any, browser: Any, artefacts: Path
) -> None:
    film = make_film(production, make, poll_seconds=0.1)
    video = make.take(film.shot, video=True)
    with LiveServer(film.app) as server:
        director = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        artist = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

        log_in(director, server.url, "dora", film.passwords["dora"], "/board")
        director.click(".card[data-shot='1A']")
        director.wait_for_url(f"{server.url}/shots/1A")
        director.wait_for_selector("body[data-feed=open]")
        player = director.locator(f"#take-{video} video")
        player.scroll_into_view_if_needed()
        player.evaluate("v => { v.muted = true; return v.play(); }")
        director.wait_for_function(f"document.querySelector('#take-{video} video').currentTime > 0")
        director.screenshot(path=str(artefacts / "1-director-plays-take.png"), full_page=True)

        # The artist imports a new take from the browser; the director's page shows it.
        log_in(artist, server.url, "art", film.passwords["art"], "/shots/1A")
        artist.set_input_files("#upload-form input[type=file]", str(make.still("new.png")))
        artist.fill("#upload-form input[name=prompt]", "from the artist's browser")
        artist.click("#upload-form button[type=submit]")
        artist.wait_for_selector("#takes [data-number='4']")
        director.wait_for_selector("#takes [data-number='4']", timeout=15000)
        fresh = director.get_attribute("#takes [data-number='4']", "data-take")
        assert "from the artist's browser" in director.inner_text(f"#take-{fresh}")

        artist.goto(f"{server.url}/board")
        artist.wait_for_selector("body[data-feed=open]")
        assert artist.locator(".column[data-status=wip] [data-shot='1A']").count() == 1

        # Compare the new take with the video as a wipe, then approve the new one.
        director.select_option("#compare-a", video)
        director.select_option("#compare-b", fresh)
        director.check("input[name=compare-mode][value=wipe]")
        director.wait_for_selector("#compare.wipe .b")
        assert director.locator("#wipe").is_visible()
        director.screenshot(path=str(artefacts / "2-director-compares.png"), full_page=True)

        director.click(f"button.approve[data-take='{fresh}']")
        director.wait_for_url(f"{server.url}/shots/1A")
        assert director.inner_text("#shot-status") == "approved"
        assert "circled" in director.inner_text(f"#take-{fresh} header")

        # The artist's board follows without a reload.
        artist.wait_for_selector(".column[data-status=approved] [data-shot='1A']", timeout=15000)
        assert artist.locator(".column[data-status=wip] [data-shot='1A']").count() == 0
        artist.screenshot(path=str(artefacts / "3-artist-board-updated.png"), full_page=True)

        director.click("#logout")
        director.wait_for_url(f"{server.url}/login")
        director.goto(f"{server.url}/board")
        director.wait_for_url(f"{server.url}/login?next=/board")
        director.screenshot(path=str(artefacts / "4-logged-out.png"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_viewer_sees_no_approve_button_and_is_refused(
    production: Any, make: Any, browser: Any, artefacts: Path
) -> None:
    film = make_film(production, make)
    with LiveServer(film.app) as server:
        viewer = browser.new_context().new_page()
        log_in(viewer, server.url, "vic", film.passwords["vic"], "/shots/1A")
        assert viewer.locator("button.approve").count() == 0
        assert viewer.locator("#comment-form").count() == 1  # viewers comment (issue 33)
        status = viewer.evaluate(
            """async ([take]) => {
                const csrf = document.querySelector('meta[name=csrf-token]').content;
                const r = await fetch('/api/v1/shots/1A/approve', {method: 'POST',
                    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
                    body: JSON.stringify({take})});
                return [r.status, (await r.json()).error.code];
            }""",
            [film.takes[0]],
        )
        assert status == [403, "forbidden"]
        viewer.screenshot(path=str(artefacts / "viewer-shot-page.png"), full_page=True)
    with production.transaction() as session:
        from setpiece.model.orm import Take

        assert session.get(Take, film.takes[0]).status == "ready"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_first_login_sets_a_new_password_then_opens_the_board(
    production: Any, make: Any, browser: Any, artefacts: Path
) -> None:
    from setpiece.production.accounts import add_member

    film = make_film(production, make)
    one_time = add_member(film.as_("ana"), "ned", "artist").password
    with LiveServer(film.app) as server:
        page = browser.new_context().new_page()
        log_in(page, server.url, "ned", one_time, "/account/password")
        assert page.locator("input[name=current_password]").count() == 0
        page.goto(f"{server.url}/board")  # nothing else until a new password is set
        page.wait_for_url(f"{server.url}/account/password")
        page.screenshot(path=str(artefacts / "1-set-your-password.png"), full_page=True)
        page.fill("input[name=new_password]", "ned's own password")
        page.fill("input[name=repeat_password]", "ned's own password")
        page.click("form.login button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        page.goto(f"{server.url}/board")
        page.wait_for_selector(".column[data-status=wip] [data-shot='1A']")
        page.screenshot(path=str(artefacts / "2-board.png"), full_page=True)
