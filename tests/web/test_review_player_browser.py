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
from web.test_browser import CHROMIUM, log_in

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
)


WAIT_MS = 5000  # the bound for a follower to show the leader's take and frame


def review_film(production: Any, make: Any) -> tuple[Film, list[str]]:
    """Scene 1: 1A (two stills). Scene 2: 2A-2H, one take each (2B, 2D, 2F are 12-frame
    clips). Every shot waits for review; the playlist "dailies" names the ten takes (the
    ``review`` query would offer one take a shot: nine)."""
    from setpiece.production.playlists import create_playlist
    from setpiece.production.shots import set_shot_status

    film = make_film(production, make, poll_seconds=0.1)
    second = make.scene("EXT. ROOF - DAWN")
    codes = ["1A"] + [f"2{letter}" for letter in "ABCDEFGH"]
    takes = list(film.takes)
    for code in codes[1:]:
        make.shot(code, second, description=f"roof {code}", duration=1)
        takes.append(make.take(code, video=code in ("2B", "2D", "2F")))
    dora = film.as_("dora")
    for code in codes:
        set_shot_status(dora, code, "review")
    made = create_playlist(dora, "dailies", takes=takes)
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
        artist.wait_for_function(
            "() => document.getElementById('session').dataset.leader === 'art'"
        )
        artist.wait_for_selector("#session[data-following='0']")
        artist.focus("#player")
        artist.keyboard.press("ArrowUp")
        at(artist, 3, 0)
        at(leader, 3, 0)
        at(follower, 3, 0)
        assert leader.inner_text("#session-state").startswith("art leads")
        leader.screenshot(path=str(artefacts / "2-director-follows.png"), full_page=True)


def decide(page: Any, key: str, note: str | None = None) -> str:
    """Presses ``key`` on the player; a note (retake, comment) is typed into its dialog."""
    page.keyboard.press(key)
    if note is not None:
        page.wait_for_selector("#note-dialog[open]")
        page.keyboard.type(note)
        page.keyboard.press("Enter")
        page.wait_for_selector("#note-dialog:not([open])", state="attached")
    return said(page)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refresh_fetched_before_a_decision_landed_does_not_take_it_back(
    production: Any, make: Any, browser: Any
) -> None:
    """A change elsewhere makes the player fetch the playlist; that answer is held in the
    browser while the reviewer asks for a retake, and arrives after it: the retake stays
    on its take (CI: a retake shown, then gone from the list)."""
    from setpiece.production.shots import set_shot_status

    film, _ = review_film(production, make)
    with LiveServer(film.app) as server:
        page = player(browser, server, film, "dora")
        held: list[Any] = []

        def hold_first(route: Any) -> None:
            if held:
                route.continue_()
            else:
                held.append((route, route.fetch()))  # the playlist as it is now

        page.route("**/api/v1/playlists/dailies", hold_first)
        set_shot_status(production, "2H", "wip")  # someone else's move
        for _ in range(100):
            if held:
                break
            page.wait_for_timeout(50)
        assert held, "the player never fetched the playlist after the change"
        page.focus("#player")
        assert decide(page, "r", "wrong lens") == "Retake of 1A asked for: wrong lens"
        page.evaluate(
            """() => {
              window.takenBack = false;
              const li = document.querySelector("#items > li");
              new MutationObserver(function () {
                if (!li.dataset.decision) window.takenBack = true;
              }).observe(li, {attributes: true, attributeFilter: ["data-decision"]});
            }"""
        )
        route, stale = held[0]
        route.fulfill(response=stale)
        page.wait_for_timeout(1500)  # the held answer, and the refresh asked for after it
        assert page.evaluate("() => window.takenBack") is False
        first = "#items > li:first-child"
        assert page.get_attribute(first, "data-decision") == "retake: wrong lens"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_keyboard_review_of_a_ten_take_playlist(
    production: Any, make: Any, browser: Any, artefacts: Path
) -> None:
    from setpiece.production.board import list_comments
    from setpiece.production.review import shot_history
    from setpiece.production.shots import get_shot
    from setpiece.production.takes import list_takes

    film, codes = review_film(production, make)
    with LiveServer(film.app) as server:
        page = player(browser, server, film, "dora")
        assert "A approve" in page.inner_text("#keys") and "R retake" in page.inner_text("#keys")
        assert page.evaluate("() => document.activeElement.id") == "player"
        labels = page.eval_on_selector_all("#items > li", "l => l.map(e => e.dataset.label)")
        assert labels == ["1A/1", "1A/2"] + [f"{c}/1" for c in codes[1:]]
        assert "In the cut: after the start of the cut, before 2A" in page.inner_text("#context")

        # 1A/1: a comment on its frame; 1A/2: approved.
        assert decide(page, "c", "hold the light longer") == "Comment on 1A/1 at frame 0 saved."
        page.keyboard.press("ArrowDown")
        at(page, 2, 0)
        assert decide(page, "a").startswith("1A/2 approved")
        assert page.inner_text("#decision") == "Decision on 1A/2: approved (circled)."
        page.keyboard.press("ArrowDown")
        at(page, 3, 0)
        # The cut as it was when the page loaded: 1A had no pick yet, so a slate of 2 s.
        assert "after 1A (slate, 48 frames), before 2B" in page.inner_text("#context")
        # In the cut's context: the shot before (1A's 2 s slate), the take, the shot after.
        page.keyboard.press("x")
        assert page.is_checked("#in-context")
        page.keyboard.press("Space")
        page.wait_for_selector("#player[data-state=context]")
        assert "showing the before shot" in page.inner_text("#where")
        page.wait_for_function(
            "() => document.getElementById('where').textContent.includes('the after shot')",
            timeout=15000,
        )
        at(page, 3, 0, timeout=15000)
        page.keyboard.press("x")
        assert decide(page, "r", "the roof is too bright") == (
            "Retake of 2A asked for: the roof is too bright"
        )
        # 2B/1, a 12-frame clip: frame steps, played to its end, back to its start, approved.
        page.keyboard.press("ArrowDown")
        at(page, 4, 0)
        for key in ("Period", "ArrowRight", "ArrowRight", "Comma", "ArrowLeft"):
            page.keyboard.press(key)
        at(page, 4, 1)
        assert "frame 1 (2 of 12)" in page.inner_text("#where")
        page.keyboard.press("l")
        at(page, 4, 11, timeout=15000)
        page.keyboard.press("j")
        at(page, 4, 0, timeout=15000)
        # Space plays too (the clip lasts half a second: its end is what can be waited on).
        page.keyboard.press("Space")
        at(page, 4, 11, timeout=15000)
        page.keyboard.press("k")
        at(page, 4, 11)
        assert decide(page, "a").startswith("2B/1 approved")
        page.keyboard.press("ArrowDown")
        at(page, 5, 0)
        assert decide(page, "a").startswith("2C/1 approved")
        page.keyboard.press("ArrowDown")
        at(page, 6, 0)
        # A retake without its reason is not asked for.
        page.keyboard.press("r")
        page.wait_for_selector("#note-dialog[open]")
        page.keyboard.press("Escape")
        assert said(page) == "No retake of 2D: it needs a reason."
        assert decide(page, "r", "wrong lens") == "Retake of 2D asked for: wrong lens"
        for position, key, note in (
            (7, "a", None),
            (8, "r", "too dark"),
            (9, "a", None),
            (10, "r", "the sky flickers"),
        ):
            page.keyboard.press("ArrowDown")
            at(page, position, 0)
            decide(page, key, note)
        page.keyboard.press("ArrowDown")  # the last take stays
        at(page, 10, 0)
        decisions = page.eval_on_selector_all(
            "#items > li", "l => l.map(e => e.dataset.decision || '')"
        )
        page.screenshot(path=str(artefacts / "1-reviewed.png"), full_page=True)

    assert decisions == [
        "",
        "approved (circled)",
        "retake: the roof is too bright",
        "approved (circled)",
        "approved (circled)",
        "retake: wrong lens",
        "approved (circled)",
        "retake: too dark",
        "approved (circled)",
        "retake: the sky flickers",
    ]
    statuses = {code: get_shot(production, code).status for code in codes}
    assert statuses == {
        "1A": "approved",
        "2A": "retake",
        "2B": "approved",
        "2C": "approved",
        "2D": "retake",
        "2E": "approved",
        "2F": "retake",
        "2G": "approved",
        "2H": "retake",
    }
    circled = [t.label for t in list_takes(production) if t.status == "circled"]
    assert circled == ["1A/2", "2B/1", "2C/1", "2E/1", "2G/1"]
    notes = [h.note for h in shot_history(production, "2D") if h.note]
    assert "wrong lens" in notes
    comment = list_comments(production, "1A")[-1]
    assert (comment.note, comment.take, comment.frame, comment.author) == (
        "hold the light longer",
        film.takes[0],
        0,
        "dora",
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_clip_that_stalls_while_it_plays_is_stepped_to_its_end(
    production: Any, make: Any, browser: Any, artefacts: Path
) -> None:
    """Chromium could leave a clip playing at "current data only", its time still, after
    quick frame steps (the keyboard review test waited 15 s on it, now and then): the
    player steps such a clip frame by frame. Here the browser's play never moves the clip."""
    film, _ = review_film(production, make)
    with LiveServer(film.app) as server:
        page = player(browser, server, film, "dora")
        for position in (2, 3, 4):
            page.keyboard.press("ArrowDown")
            at(page, position, 0)
        assert "(4 of 10) · frame 0 (1 of 12)" in page.inner_text("#where")
        page.evaluate("() => { HTMLMediaElement.prototype.play = () => Promise.resolve(); }")
        page.keyboard.press("l")
        page.wait_for_selector("#player[data-state=playing]")
        at(page, 4, 11, timeout=15000)
        assert "frame 11 (12 of 12)" in page.inner_text("#where")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_viewer_cannot_approve_and_is_told_why(
    production: Any, make: Any, browser: Any, artefacts: Path
) -> None:
    from setpiece.production.board import list_comments
    from setpiece.production.shots import get_shot

    film, _ = review_film(production, make)
    with LiveServer(film.app) as server:
        page = player(browser, server, film, "vic")
        refused = decide(page, "a")
        assert refused.startswith("1A/1 not approved:") and "director" in refused
        assert page.locator("#said.error").count() == 1
        assert page.inner_text("#decision").startswith("No decision on 1A/1 yet")
        refused = decide(page, "r", "I would like another")
        assert refused.startswith("No retake of 1A:") and "director" in refused
        # A viewer follows and comments (issue 33): the comment is saved, under their name.
        saved = decide(page, "c", "nice")
        assert saved.startswith("Comment on 1A/1 at frame") and saved.endswith("saved.")
        page.screenshot(path=str(artefacts / "1-viewer-refused.png"), full_page=True)

        # The playlists page: a viewer is offered no form; a director's unknown query is
        # refused with the service's reason, a good one opens the player.
        page.goto(f"{server.url}/playlists")
        assert page.locator("#new-playlist").count() == 0
        director = browser.new_context().new_page()
        log_in(director, server.url, "dora", film.passwords["dora"], "/playlists")
        director.fill("#pl-name", "roof")
        director.fill("#pl-query", "everything")
        with director.expect_response(lambda r: r.request.method == "POST") as answer:
            director.click("#pl-create")
        assert answer.value.status == 422
        assert "unknown playlist query 'everything'" in director.inner_text("#playlist-problem")
        assert director.input_value("#pl-name") == "roof"
        director.fill("#pl-query", "scene:2")
        director.click("#pl-create")
        director.wait_for_selector("#player[data-position='1']")
        assert director.locator("#items > li").count() == 8
        director.screenshot(path=str(artefacts / "2-new-playlist.png"), full_page=True)
    assert get_shot(production, "1A").status == "review"
    assert [c.note for c in list_comments(production, "1A") if c.author == "vic"] == ["nice"]
