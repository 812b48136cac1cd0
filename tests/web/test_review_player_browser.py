"""The playlist player in a real Chromium: a live review session followed by another browser,
keyboard review of a ten-take playlist from start to finish, and a viewer refused with the
API's reason (Debian's /usr/bin/chromium driven by Playwright, the app under uvicorn).

Every wait is on a condition of the page (the player's data-position and data-frame, a
status line's text), never on a fixed sleep. Screenshots go to test-artifacts/web/<test>/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from web.helpers import Film, LiveServer, make_film
from web.test_browser import ARGS, CHROMIUM, log_in

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
)



@pytest.fixture
def browser() -> Any:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


WAIT_MS = 5000  # the bound for a follower to show the leader's take and frame


def review_film(production: Any, make: Any) -> tuple[Film, list[str]]:
    """Scene 1: 1A (two stills). Scene 2: 2A-2H, one take each (2B, 2D, 2F are 12-frame
    clips). Every shot waits for review; the playlist "dailies" holds the ten takes."""
    from setpiece.production.playlists import create_playlist
    from setpiece.production.shots import set_shot_status

    film = make_film(production, make, poll_seconds=0.1)
    second = make.scene("EXT. ROOF - DAWN")
    codes = ["1A"] + [f"2{letter}" for letter in "ABCDEFGH"]
    for code in codes[1:]:
        make.shot(code, second, description=f"roof {code}", duration=1)
        make.take(code, video=code in ("2B", "2D", "2F"))
    dora = film.as_("dora")
    for code in codes:
        set_shot_status(dora, code, "review")
    made = create_playlist(dora, "dailies", query="review")
    assert made.takes == 10
    return film, codes


def player(browser: Any, server: LiveServer, film: Film, name: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(page, server.url, name, film.passwords[name], "/playlists")
    page.click("#playlists a:text('dailies')")
    page.wait_for_selector("#player[data-position='1']")
    page.wait_for_selector("body[data-feed=open]")
    return page


def at(page: Any, position: int, frame: int, timeout: int = WAIT_MS) -> None:
    page.wait_for_selector(
        f"#player[data-position='{position}'][data-frame='{frame}'][data-state=stopped]",
        timeout=timeout,
    )


def said(page: Any, selector: str = "#said") -> str:
    page.wait_for_function(
        f"() => document.querySelector({selector!r}).textContent.length > 0", timeout=15000
    )
    text = str(page.inner_text(selector))
    page.evaluate(f"() => {{ document.querySelector({selector!r}).textContent = ''; }}")
    return text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_follower_shows_the_leaders_take_and_frame(
    production: Any,
    make: Any,
    browser: Any,
    artefacts: Path,
) -> None:
    from setpiece.production.playlists import get_session

    film, _ = review_film(production, make)
    with LiveServer(film.app) as server:
        leader = player(browser, server, film, "dora")
        follower = player(browser, server, film, "vic")  # a viewer follows
        follower.click("#join")
        follower.wait_for_selector("#session[data-following='1']")

        leader.click("#lead")
        assert said(leader, "#session-said") == "You lead the session."
        leader.wait_for_selector("#join[aria-pressed=true]")
        leader.focus("#player")
        for key in ("ArrowDown", "ArrowDown", "ArrowDown", "Period", "Period", "Period"):
            leader.keyboard.press(key)
        at(leader, 4, 3)  # 2B, a clip: frame 3
        at(follower, 4, 3)
        assert follower.get_attribute("#player", "data-take") == leader.get_attribute(
            "#player", "data-take"
        )
        assert follower.inner_text("#session-state").startswith("dora leads")
        session = get_session(production, "dailies")
        assert (session.leader, session.position, session.frame, session.label) == (
            "dora",
            4,
            3,
            "2B/1",
        )
        leader.keyboard.press("Comma")
        at(follower, 4, 2)
        follower.screenshot(path=str(artefacts / "1-follower.png"), full_page=True)

        # The follower tries to lead: a viewer follows and comments, and is told so.
        follower.click("#lead")
        refused = said(follower, "#session-said")
        assert refused.startswith("You cannot lead:") and "viewer" in refused

        # The lead handed over: the artist leads, the director follows.
        artist = player(browser, server, film, "art")
        artist.click("#join")
        artist.wait_for_selector("#session[data-following='1']")
        at(artist, 4, 2)
        leader.fill("#handover-to", "art")
        leader.click("#handover-go")
        assert said(leader, "#session-said") == "The lead is art's now."
        artist.wait_for_function("() => document.getElementById('session').dataset.leader === 'art'")
        artist.wait_for_selector("#session[data-following='0']")
        artist.focus("#player")
        artist.keyboard.press("ArrowUp")
        at(artist, 3, 0)
        at(leader, 3, 0)
        at(follower, 3, 0)
        assert leader.inner_text("#session-state").startswith("art leads")
        leader.screenshot(path=str(artefacts / "2-director-follows.png"), full_page=True)
