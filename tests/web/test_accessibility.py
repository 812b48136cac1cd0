"""Every page of the board passes axe-core with no serious or critical violation (issue 32).

axe-core comes from npm, pinned: ``.ci/run`` unpacks ``npm pack axe-core@AXE_VERSION`` into
the cache named below (or set ``SETPIECE_AXE_CORE`` to an ``axe.min.js``). Where it is absent
the test is skipped with the command that gets it, except under ``CI=true``, where it fails.
The page is checked in Debian's Chromium through Playwright, after its scripts ran, with
every rule axe has (WCAG 2 A and AA, and its best practices); violations of impact
"moderate" and "minor" are printed, not failed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from setpiece.generate.registry import _REGISTERED, register
from web.helpers import LiveServer, make_film
from web.test_browser import log_in
from web.test_render_confirm import Priced

CHROMIUM = os.environ.get("SETPIECE_CHROMIUM", "/usr/bin/chromium")
AXE_VERSION = "4.11.0"
AXE = Path(
    os.environ.get("SETPIECE_AXE_CORE")
    or Path.home() / ".cache" / "setpiece" / f"axe-core-{AXE_VERSION}" / "package" / "axe.min.js"
)
FAILING = ("serious", "critical")

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
)


def axe_source() -> str:
    """axe.min.js, checked to be the pinned version."""
    if not AXE.is_file():
        reason = (
            f"axe-core {AXE_VERSION} is not installed at {AXE}: run 'npm pack"
            f" axe-core@{AXE_VERSION}' and unpack it there (.ci/run does), or set SETPIECE_AXE_CORE"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"required in CI but missing: {reason}")
        pytest.skip(reason)
    source = AXE.read_text(encoding="utf-8")
    assert f"axe v{AXE_VERSION}" in source[:300], f"{AXE} is not axe-core {AXE_VERSION}"
    return source


def violations(page: Any, source: str) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (the script is added, not served)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=source)
    result: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return result


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_has_no_serious_or_critical_violation(
    production: Any,
    make: Any,
    browser: Any,
    artefacts: Path,
    request: pytest.FixtureRequest,
) -> None:
    from setpiece.production.picks import pick_provisional
    from setpiece.production.records import record_finding
    from setpiece.production.review import add_comment

    source = axe_source()
    register(Priced)  # a generator that quotes a price: the board asks before it renders
    request.addfinalizer(lambda: _REGISTERED.pop("priced", None))
    film = make_film(production, make)
    make.take(film.shot, video=True)
    pick_provisional(production)
    record_finding(production, "continuity.look_jump", take=film.takes[1], frame=0, detail="cast")
    add_comment(film.as_("dora"), "1A", "hold the light", take=film.takes[0])
    from setpiece.production.playlists import create_playlist

    create_playlist(film.as_("dora"), "dailies", takes=film.takes)
    pages = {
        "board": "/board",
        # Filtered, grouped by scene, its group open (the URL a shared view carries).
        "board-open": "/board?group=scene&provisional=1&open=1",
        # An unknown status: the clear message, with the filters, instead of the cards.
        "board-problem": "/board?status=nope",
        "mine": "/mine",
        "shot": "/shots/1A",
        "shots": "/shots",
        "script": "/script",
        "dashboard": "/",
        "bible": "/bible",
        "jobs": "/jobs",
        "users": "/users",
        "disclosure": "/disclosure",
        "password": "/account/password",
        "error": "/shots/NOPE",
        "playlists": "/playlists",
        "player": "/playlists/1",
    }
    failed: dict[str, list[dict[str, Any]]] = {}
    with LiveServer(film.app) as server:
        # axe is added as a script of the test's (the board's CSP allows none inline).
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{server.url}/login")
        found = violations(page, source)
        failed["login"] = [v for v in found if v["impact"] in FAILING]
        log_in(page, server.url, "ana", film.passwords["ana"], "/")
        for name, path in pages.items():
            page.goto(f"{server.url}{path}")
            page.wait_for_load_state("networkidle")
            found = violations(page, source)
            failed[name] = [v for v in found if v["impact"] in FAILING]
            for v in found:
                if v["impact"] not in FAILING:
                    print(f"{name}: {v['impact']} {v['id']}: {v['help']} {v['nodes']}")
            page.screenshot(path=str(artefacts / f"{name}.png"), full_page=True)
        # The render confirmation: a render quoted over [render] confirm_over asks first.
        page.goto(f"{server.url}/shots/1A")
        page.fill("#render-form input[name=generator]", "priced")
        page.click("#render-form button[type=submit]")
        page.wait_for_selector("#confirm-form")
        found = violations(page, source)
        failed["render-confirm"] = [v for v in found if v["impact"] in FAILING]
        page.screenshot(path=str(artefacts / "render-confirm.png"), full_page=True)
    assert {name: found for name, found in failed.items() if found} == {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_shot_page_works_from_the_keyboard(
    production: Any,
    make: Any,
    browser: Any,
) -> None:
    """Tab reaches the comment form's fields in reading order, and Enter posts the comment."""
    film = make_film(production, make)
    with LiveServer(film.app) as server:
        page = browser.new_context().new_page()
        log_in(page, server.url, "dora", film.passwords["dora"], "/shots/1A")
        page.focus("#comment-take")
        order = []
        for _ in range(4):
            page.keyboard.press("Tab")
            order.append(page.evaluate("document.activeElement.id || document.activeElement.name"))
        assert order == ["comment-frame", "frame-here", "comment-note", ""]
        page.focus("#comment-note")
        page.keyboard.type("from the keyboard")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=from the keyboard")
