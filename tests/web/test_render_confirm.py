"""`[render] confirm_over` from the API and the board, not only the CLI.

A render started from the web spent past the threshold without asking: the API now refuses
it with the quote unless the body says ``"confirm": true``, and the board's render button
answers with the quote and a button that starts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from setpiece.generate.base import (
    Capabilities,
    Cost,
    Generator,
    Mode,
    RenderRequest,
    RenderResult,
)
from setpiece.generate.registry import _REGISTERED, register
from web.helpers import error_of


class Priced(Generator):
    """Quotes 8 credits a take, as a hosted backend's rate table would (renders nothing here)."""

    name = "priced"
    default_capabilities = Capabilities(modes=frozenset({Mode.TEXT_TO_IMAGE}))

    def quote(self, request: RenderRequest) -> Cost:
        return Cost(amount=Decimal(8), unit="credits")

    def render(self, request: RenderRequest, workdir: Path, progress: Any = None) -> RenderResult:
        raise AssertionError("the tests only queue")


@pytest.fixture(autouse=True)
def _priced() -> Iterator[None]:
    register(Priced)
    yield
    _REGISTERED.pop("priced", None)


def jobs(api: Any) -> int:
    return len(api("vic").get("/api/v1/jobs").json()["items"])


def test_the_api_refuses_a_render_over_confirm_over_unless_confirmed(film: Any, api: Any) -> None:
    artist = api("art")
    refused = artist.post("/api/v1/shots/1A/render", json={"takes": 2, "generator": "priced"})
    assert refused.status_code == 422, refused.text
    error = error_of(refused)
    assert error["code"] == "confirmation_required"
    assert error["message"] == (
        "this render is quoted at 16 credits for 2 take(s), over [render] confirm_over "
        '(credits = 0): send "confirm": true to start it'
    )
    assert jobs(api) == 0
    confirmed = artist.post(
        "/api/v1/shots/1A/render", json={"takes": 2, "generator": "priced", "confirm": True}
    )
    assert confirmed.status_code == 201, confirmed.text
    assert len(confirmed.json()["takes"]) == 2 and jobs(api) == 2
    free = artist.post("/api/v1/shots/1A/render", json={"takes": 1})  # previs: nothing to ask
    assert free.status_code == 201, free.text


def test_the_board_asks_with_the_quote_before_it_renders(film: Any, session_of: Any) -> None:
    art = session_of("art")
    form = {"takes": "1", "kind": "image", "generator": "priced", "csrf_token": art.csrf}
    asked = art.client.post("/shots/1A/render", data=form)
    assert asked.status_code == 422
    assert "Confirm the render" in asked.text and 'id="confirm-form"' in asked.text
    assert "quoted at 8 credits for 1 take(s)" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert len(art.get("/api/v1/jobs").json()["items"]) == 0
    started = art.client.post("/shots/1A/render", data={**form, "confirm": "yes"})
    assert started.status_code == 303
    assert len(art.get("/api/v1/jobs").json()["items"]) == 1
