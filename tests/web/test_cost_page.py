"""The board's dashboard shows the spend per unit and the budget left (production/cost.py)."""

from __future__ import annotations

from typing import Any

import pytest
import tomli_w

from setpiece.model.orm import Take
from setpiece.production.context import Production

pytest.importorskip("fastapi")

from web.helpers import Browserless, make_film


def test_the_dashboard_shows_spend_and_remaining_budget(production: Production, make: Any) -> None:
    path = production.config.root / "setpiece.toml"
    path.write_text(path.read_text() + "\n" + tomli_w.dumps({"budget": {"credits": 100}}))
    production = Production.open(
        production.config.root, database_url=production.config.database_url, actor="ana"
    )
    film = make_film(production, make)
    browser = Browserless(film.app)
    assert browser.login("vic", film.passwords["vic"]).status_code == 303
    empty = browser.get("/").text
    assert "<td>credits</td><td>0</td><td>0</td>" in empty and "<td>100</td><td>100</td>" in empty
    with production.transaction() as session:  # as the render queue records a Runway take
        take = session.get(Take, film.takes[0])
        assert take is not None
        take.cost_amount, take.cost_unit = "16", "credits"
    page = browser.get("/").text
    assert '<section id="spend"' in page
    assert "<td>credits</td><td>16</td><td>0</td>" in page
    assert "<td>100</td><td>84</td>" in page
    # The dashboard's JSON carries the same lines: what remains of each unit's budget.
    lines = browser.get("/api/v1/dashboard").json()["budget"]["lines"]
    assert lines == [
        {"unit": "credits", "spent": "16", "queued": "0", "limit": "100", "remaining": "84"}
    ]
    browser.client.close()
