"""The shot list is kept per database revision, and every writer moves the revision."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from setpiece.model.enums import BibleKind
from setpiece.production.bible import add_entry
from setpiece.production.board import shots_page
from setpiece.production.context import Production
from setpiece.production.shots import add_shot, parse_subjects, set_shot_status


@pytest.fixture
def outside(production: Production) -> Iterator[Engine]:
    """Another writer on the same database: plain SQL, no Setpiece code on its way."""
    engine = create_engine(production.db.url)
    yield engine
    engine.dispose()


def _write(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql))


def _shots(production: Production) -> dict[str, dict[str, object]]:
    page = shots_page(production)
    return {
        s.code: {
            "description": s.description,
            "takes": s.takes,
            "subjects": [x.name for x in s.subjects],
            "status": s.status,
        }
        for s in page.items
    }


def test_a_page_asked_for_again_is_kept_until_something_it_shows_changes(
    production: Production, make, outside: Engine
) -> None:
    scene = make.scene()
    add_entry(production, BibleKind.CHARACTER, "MARA")
    add_shot(production, scene, "1A", description="wide", subjects=parse_subjects("MARA@left"))
    add_shot(production, scene, "1B", description="close")
    first = shots_page(production)
    assert shots_page(production) is first  # kept: nothing changed
    assert shots_page(production, limit=1) is not first  # another page is another entry

    # A service's change shows at once.
    set_shot_status(production, "1B", "wip")
    assert _shots(production)["1B"]["status"] == "wip"

    # So does every change made around Setpiece, straight in the database.
    _write(outside, "UPDATE shots SET description = 'wider' WHERE code = '1A'")
    assert _shots(production)["1A"]["description"] == "wider"
    _write(outside, "UPDATE bible_entries SET name = 'MARA VOSS' WHERE name = 'MARA'")
    assert _shots(production)["1A"]["subjects"] == ["MARA VOSS"]
    _write(outside, "DELETE FROM shot_subjects")
    assert _shots(production)["1A"]["subjects"] == []

    take = make.take("1A")
    assert _shots(production)["1A"]["takes"] == 1
    _write(outside, "UPDATE takes SET shot_id = (SELECT id FROM shots WHERE code = '1B')")
    shown = _shots(production)
    assert (shown["1A"]["takes"], shown["1B"]["takes"]) == (0, 1)

    # A take's status is not on the list: changing it keeps the page.
    kept = shots_page(production)
    _write(outside, f"UPDATE takes SET status = 'rejected' WHERE id = '{take}'")
    assert shots_page(production) is kept
    _write(outside, f"DELETE FROM takes WHERE id = '{take}'")
    assert _shots(production)["1B"]["takes"] == 0


def test_a_change_rolled_back_leaves_the_kept_page(production: Production, make) -> None:
    make.shot("1A")
    kept = shots_page(production)
    with pytest.raises(RuntimeError), production.transaction() as session:
        session.execute(text("UPDATE shots SET description = 'never'"))
        raise RuntimeError("changed my mind")
    again = shots_page(production)
    assert again.items[0].description == kept.items[0].description != "never"
