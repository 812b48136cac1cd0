"""Drawing on frames and assigning shots in a real Chromium (issue 33): a director draws on a
take and assigns the shot, the artist finds it under "My shots" with the drawing; bad
drawings are refused with the API's limit (Debian's /usr/bin/chromium driven by Playwright,
the app under uvicorn).

Every wait is on a condition (the page's status lines, the SVG's data attributes), never a
sleep: the machine running these may be loaded, and live refreshes arrive whenever others
change the shot. Screenshots go to test-artifacts/web/<test>/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from web.helpers import LiveServer, make_film
from web.test_browser import CHROMIUM, log_in

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
)

WAIT = 20_000  # ms: a loaded two-core machine takes seconds to render a page


def _page(browser: Any) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(WAIT)
    return page


def _said(page: Any, selector: str, state: str | None = None) -> str:
    """The status line's text once it says something (in ``state``, when given)."""
    want = f"[data-state={state}]" if state else ""
    page.wait_for_function(
        "(s) => { const e = document.querySelector(s); return e && e.textContent.length > 0; }",
        arg=f"{selector}{want}",
    )
    return str(page.inner_text(selector))


def _drag(page: Any, tool: str, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Draws with ``tool`` from ``start`` to ``end`` (fractions of the picture)."""
    page.click(f"#draw-stage [data-tool={tool}]")
    box = _picture(page)
    assert box is not None and box["width"] > 100, box
    x0, y0 = box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"]
    x1, y1 = box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=12)
    page.mouse.up()


def _picture(page: Any) -> dict[str, float]:
    """The SVG's box in the viewport, scrolled into view (the mouse reaches the viewport only)."""
    layer = page.locator("#draw-stage svg.draw-layer")
    layer.scroll_into_view_if_needed()
    box = layer.bounding_box()
    assert box is not None
    return dict(box)


def _pending(page: Any, count: int) -> None:
    page.wait_for_selector(f"#draw-stage svg.draw-layer[data-pending='{count}']")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_drawing_and_an_assignment_reach_the_artist(
    production: Any, make: Any, browser: Any, artefacts: Path
) -> None:
    from setpiece.production.annotations import list_annotations
    from setpiece.production.assignments import list_assignments, today
    from setpiece.production.review import add_comment

    film = make_film(production, make, poll_seconds=0.1)
    yesterday = (today() - timedelta(days=1)).isoformat()
    with LiveServer(film.app) as server:
        director = _page(browser)
        log_in(director, server.url, "dora", film.passwords["dora"], "/shots/1A")
        director.wait_for_selector("body[data-feed=open]")
        director.wait_for_selector("#draw-stage svg.draw-layer[data-loaded='1']")
        assert director.inner_text("#assigned") == "Not assigned to anyone."

        # Assigned with a date in the past: allowed, and the warning is shown.
        director.select_option("#assign-to", "art")
        director.fill("#assign-due", yesterday)
        director.click("#assign")
        said = _said(director, "#assign-said", "warned")
        assert said.startswith(f"1A assigned to art, due {yesterday}.")
        assert f"due date {yesterday} is in the past" in said
        assert [(a.shot, a.assignee, a.due) for a in list_assignments(production)] == [
            ("1A", "art", yesterday)
        ]
        # The head of the page follows (the live refresh), late.
        director.wait_for_function(
            "() => document.getElementById('assigned').textContent.includes('late')"
        )

        # A drawing: a box, an arrow, a stroke and a text, in the picture's own coordinates.
        take = director.eval_on_selector("#draw-take", "s => s.value")
        _drag(director, "box", (0.1, 0.2), (0.5, 0.6))
        _pending(director, 1)
        _drag(director, "arrow", (0.8, 0.8), (0.6, 0.5))
        _pending(director, 2)
        _drag(director, "stroke", (0.2, 0.8), (0.4, 0.9))
        _pending(director, 3)
        director.click("#draw-stage [data-tool=text]")
        director.fill("#draw-stage .draw-text", "too dark here")
        box = _picture(director)
        director.mouse.click(box["x"] + 0.55 * box["width"], box["y"] + 0.1 * box["height"])
        _pending(director, 4)
        # A live update arriving mid-drawing (the artist comments) leaves the drawing alone.
        refreshed = int(director.evaluate("() => Number(document.body.dataset.refreshed || 0)"))
        add_comment(film.as_("art"), "1A", "on my way", take=take)
        director.wait_for_function(
            "(n) => Number(document.body.dataset.refreshed || 0) > n", arg=refreshed
        )
        _pending(director, 4)
        director.fill("#draw-stage .draw-note", "too dark: lift the corridor")
        director.click("#draw-stage .draw-save")
        assert _said(director, "#draw-stage .draw-said", "saved").startswith(
            "Drawing saved on frame 0 of 1A/"
        )
        director.screenshot(path=str(artefacts / "1-director-drew.png"), full_page=True)

        (stored,) = list_annotations(production, take)
        assert (stored.author, stored.note, stored.frame_start, stored.frame_end) == (
            "dora",
            "too dark: lift the corridor",
            0,
            0,
        )
        assert [s.kind for s in stored.shapes] == ["box", "arrow", "stroke", "text"]
        (x0, y0), (x1, y1) = stored.shapes[0].points
        assert (x0, y0, x1, y1) == pytest.approx((0.1, 0.2, 0.5, 0.6), abs=0.02)
        assert stored.shapes[1].points[1] == pytest.approx((0.6, 0.5), abs=0.02)
        assert len(stored.shapes[2].points) >= 3
        assert stored.shapes[3].text == "too dark here"

        # The artist: the shot is under "My shots", late; on it the drawing over the take.
        artist = _page(browser)
        log_in(artist, server.url, "art", film.passwords["art"], "/mine")
        row = artist.locator("#mine tr[data-shot='1A']")
        assert row.get_attribute("class") == "late"
        assert yesterday in row.inner_text()
        assert "1 drawing" in row.locator("td.drawings").inner_text()
        row.locator("td.drawings a").click()  # from the count of drawings to the shot
        artist.wait_for_url(f"{server.url}/shots/1A")
        assert artist.eval_on_selector("#draw-take", "s => s.value") == take
        layer = "#draw-stage svg.draw-layer"
        artist.wait_for_selector(f"{layer}[data-shown='1'] g.stored[data-drawing='{stored.id}']")
        drawn = artist.eval_on_selector_all(
            f"{layer} g.stored > g", "gs => gs.map(g => g.dataset.kind)"
        )
        assert drawn == ["box", "arrow", "stroke", "text"]
        assert artist.text_content(f"{layer} text") == "too dark here"
        # Drawn to the picture's size: the box spans 40 % of the shown width.
        width = float(artist.eval_on_selector(layer, "s => s.getBoundingClientRect().width"))
        rect = float(artist.eval_on_selector(f"{layer} rect", "r => r.getBBox().width"))
        assert rect == pytest.approx(0.4 * width, rel=0.05)
        assert "too dark: lift the corridor" in artist.inner_text("#draw-stage .draw-list")
        artist.screenshot(path=str(artefacts / "2-artist-sees-it.png"), full_page=True)

        # The board card says whose the shot is, by when, and that it is late; so does the
        # dashboard.
        artist.goto(f"{server.url}/board")
        card = artist.locator("[data-shot='1A'] .assignee")
        assert card.inner_text() == f"art, due {yesterday} late"
        artist.goto(f"{server.url}/")
        assert artist.locator("#late tr[data-shot='1A']").inner_text().startswith("1A\tart")

        # The director's page, reloaded, shows the stored drawing too.
        director.reload()
        director.wait_for_selector(f"{layer}[data-shown='1']")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_drawings_are_refused_with_the_limit(
    production: Any, make: Any, browser: Any, artefacts: Path
) -> None:
    from setpiece.production.annotations import list_annotations

    film = make_film(production, make, poll_seconds=0.1)
    with LiveServer(film.app) as server:
        artist = _page(browser)
        log_in(artist, server.url, "art", film.passwords["art"], "/shots/1A")
        artist.wait_for_selector("#draw-stage svg.draw-layer[data-loaded='1']")
        take = artist.eval_on_selector("#draw-take", "s => s.value")
        artist.fill("#draw-stage .draw-note", "runaway")
        # 100,000 points: refused before it is sent, with the API's limit.
        artist.evaluate(
            """() => {
              const points = Array.from({length: 100000}, (_, i) => [(i % 1000) / 1000, 0.5]);
              document.getElementById('draw-stage').setpieceDraw.addShape(
                {kind: 'stroke', points: points, colour: '#ff3b30', width: 4});
            }"""
        )
        artist.click("#draw-stage .draw-save")
        refused = _said(artist, "#draw-stage .draw-said", "refused")
        assert refused == (
            "The drawing has 100,000 points: the limit is 10,000 a drawing; simplify the strokes."
        )
        # The same drawing sent anyway (a client that does not check): the API refuses it.
        status = artist.evaluate(
            """async (url) => {
              const points = Array.from({length: 100000}, (_, i) => [(i % 1000) / 1000, 0.5]);
              const r = await fetch(url, {method: 'POST', headers: {'Content-Type':
                'application/json', 'X-CSRF-Token': document.querySelector(
                'meta[name=csrf-token]').content}, body: JSON.stringify({note: 'x', frame: 0,
                shapes: [{kind: 'stroke', points: points}]})});
              return [r.status, (await r.json()).error.message];
            }""",
            f"/api/v1/takes/{take}/annotations",
        )
        assert status[0] == 413 and "over the limit of" in status[1]
        artist.click("#draw-stage .draw-clear")
        artist.wait_for_selector("#draw-stage svg.draw-layer[data-pending='0']")

        # Malformed coordinates (outside the picture): the API's reason, shown as it says it.
        artist.evaluate(
            """() => document.getElementById('draw-stage').setpieceDraw.addShape(
                {kind: 'box', points: [[0.1, 0.2], [1.5, 0.2]], colour: '#ff3b30', width: 4})"""
        )
        artist.click("#draw-stage .draw-save")
        refused = _said(artist, "#draw-stage .draw-said", "refused")
        assert refused.startswith("Not saved: ") and "shapes.0.points.1.0" in refused
        # Nothing to save, or no note: said, nothing sent.
        artist.click("#draw-stage .draw-clear")
        artist.evaluate(
            "() => { document.querySelector('#draw-stage .draw-said').textContent = '' }"
        )
        artist.click("#draw-stage .draw-save")
        assert _said(artist, "#draw-stage .draw-said", "refused").startswith("Draw something first")
        artist.screenshot(path=str(artefacts / "1-refused.png"), full_page=True)
        assert list_annotations(production, take) == []

        # A viewer draws and comments (issue 33), and has no way to assign.
        viewer = _page(browser)
        log_in(viewer, server.url, "vic", film.passwords["vic"], "/shots/1A")
        viewer.wait_for_selector("#draw-stage svg.draw-layer[data-loaded='1']")
        assert viewer.locator("#draw-stage .draw-tools").count() == 1
        assert viewer.locator("#assign-form").count() == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_drawings_show_and_take_frames_as_the_board_numbers_them(
    production: Any, make: Any, browser: Any, artefacts: Path
) -> None:
    """With ``[project] first_frame = 1001`` the drawing box says 1001 for stored frame 0,
    "Up to frame" takes the shown number, and the API's refusals speak the same numbers."""
    from setpiece.production.annotations import list_annotations
    from setpiece.web.app import create_app

    film = make_film(production, make)
    toml = production.config.root / "setpiece.toml"
    toml.write_text(toml.read_text() + "\n[project]\nfirst_frame = 1001\n")
    clip = make.take(film.shot, video=True)  # 1A/3, 12 frames
    app = create_app(production.config.root, database_url=production.config.database_url)
    with LiveServer(app) as server:
        director = _page(browser)
        log_in(director, server.url, "dora", film.passwords["dora"], "/shots/1A")
        assert director.get_attribute("#drawing-box", "data-first-frame") == "1001"
        hint = director.inner_text("#drawing-box .hint")
        assert hint.startswith("Frames are numbered from 1001") and "from 0" not in hint
        director.select_option("#draw-take", clip)
        layer = f"#draw-stage svg.draw-layer[data-take='{clip}']"
        director.wait_for_selector(f"{layer}[data-loaded='1']")
        director.wait_for_function(
            "() => { const v = document.querySelector('#draw-stage video');"
            " return v && v.readyState >= 1; }"
        )
        assert director.get_attribute("#draw-stage .draw-end", "min") == "1001"

        _drag(director, "box", (0.1, 0.2), (0.5, 0.6))
        _pending(director, 1)
        said = _said(director, "#draw-stage .draw-said", "pending")
        assert said == "1 shape(s) on frame 1001, not saved yet."
        director.fill("#draw-stage .draw-note", "hold the lantern")
        # Before the drawing's own frame: refused here, nothing sent.
        director.fill("#draw-stage .draw-end", "1000")
        director.click("#draw-stage .draw-save")
        assert _said(director, "#draw-stage .draw-said", "refused") == (
            "Up to frame 1000 is before the drawing's frame, 1001: type a frame from 1001 on."
        )
        # Past the take's end: the API's refusal, in the numbers the page shows.
        director.fill("#draw-stage .draw-end", "1013")
        director.click("#draw-stage .draw-save")
        director.wait_for_function(
            "() => document.querySelector('#draw-stage .draw-said').textContent"
            ".startsWith('Not saved')"
        )
        assert director.inner_text("#draw-stage .draw-said") == (
            "Not saved: take 1A/3 has 12 frames (1001-1012): frame 1013 is past its end"
        )
        assert list_annotations(production, clip) == []

        director.fill("#draw-stage .draw-end", "1003")
        director.click("#draw-stage .draw-save")
        assert _said(director, "#draw-stage .draw-said", "saved") == (
            "Drawing saved on frames 1001-1003 of 1A/3."
        )
        (stored,) = list_annotations(production, clip)
        assert (stored.frame_start, stored.frame_end) == (0, 2)  # stored from 0
        assert director.inner_text("#draw-stage .draw-list .draw-seek") == "frames 1001-1003"
        director.screenshot(path=str(artefacts / "1-frames-from-1001.png"), full_page=True)
