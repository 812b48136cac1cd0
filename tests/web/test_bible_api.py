"""The bible over HTTP: read for members, edit for artists, If-Match for concurrent edits."""

from __future__ import annotations

from typing import Any

import pytest

from setpiece.model.enums import BibleKind
from setpiece.production.bible import add_entry, get_entry
from web.helpers import error_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def mara(film: Any) -> None:
    add_entry(film.production, BibleKind.CHARACTER, "MARA", description="60s")


def test_read_and_edit_with_the_version(film: Any, api: Any, mara: None) -> None:
    got = api("vic").get("/api/v1/bible/character/MARA")
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'
    assert got.json()["description"] == "60s"
    assert [e["name"] for e in api("vic").get("/api/v1/bible/character").json()] == ["MARA"]
    edited = api("art").patch(
        "/api/v1/bible/character/MARA",
        json={"description": "60s, grey braid"},
        headers={"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.headers["ETag"] == '"2"' and edited.json()["version"] == 2


def test_two_editors_at_once_the_second_gets_409(film: Any, api: Any, mara: None) -> None:
    first = api("art").patch(
        "/api/v1/bible/character/MARA", json={"description": "a", "version": 1}
    )
    assert first.status_code == 200
    second = api("dora").patch(
        "/api/v1/bible/character/MARA", json={"description": "b"}, headers={"If-Match": '"1"'}
    )
    assert second.status_code == 409
    assert "version 2: description by art" in error_of(second)["message"]
    assert get_entry(film.production, BibleKind.CHARACTER, "MARA").description == "a"


def test_refusals(film: Any, api: Any, mara: None) -> None:
    viewer = api("vic").patch("/api/v1/bible/character/MARA", json={"description": "x"})
    assert viewer.status_code == 403
    unknown = api("art").patch("/api/v1/bible/character/NOBODY", json={"description": "x"})
    assert unknown.status_code == 404 and "no character 'NOBODY'" in error_of(unknown)["message"]
    for body, headers in (
        ({"description": "x"}, {"If-Match": "yesterday"}),
        ({"description": "x", "version": 2}, {"If-Match": '"1"'}),
        ({"remove_refs": [1]}, {}),
    ):
        answer = api("art").patch("/api/v1/bible/character/MARA", json=body, headers=headers)
        assert answer.status_code == 422, answer.text
    monster = api("art").patch("/api/v1/bible/monster/MARA", json={})
    assert monster.status_code == 404 and "no part of the bible" in error_of(monster)["message"]
    assert get_entry(film.production, BibleKind.CHARACTER, "MARA").version == 1


def test_the_bible_page_shows_and_edits(film: Any, session_of: Any, mara: None) -> None:
    artist = session_of("art")
    page = artist.get("/bible")
    assert page.status_code == 200 and "MARA" in page.text and "version 1" in page.text
    saved = artist.post(
        "/bible/character/MARA",
        data={"description": "grey braid", "version": "1", "csrf_token": artist.csrf},
    )
    assert saved.status_code == 303, saved.text
    stale = artist.post(
        "/bible/character/MARA",
        data={"description": "red", "version": "1", "csrf_token": artist.csrf},
    )
    assert stale.status_code == 409
    assert get_entry(film.production, BibleKind.CHARACTER, "MARA").description == "grey braid"


def _png(colour: int = 128, size: int = 64) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (colour, 90, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_reference_is_uploaded_with_the_version(film: Any, api: Any, mara: None) -> None:
    add_entry(film.production, BibleKind.LOCATION, "BOOTH")
    added = api("art").post(
        "/api/v1/bible/location/BOOTH/refs",
        files={"file": ("booth.png", _png(), "image/png")},
        headers={"If-Match": '"1"'},
    )
    assert added.status_code == 201, added.text
    assert added.headers["ETag"] == '"2"' and len(added.json()["refs"]) == 1
    stale = api("dora").post(
        "/api/v1/bible/location/BOOTH/refs",
        files={"file": ("booth2.png", _png(200), "image/png")},
        data={"version": "1"},
    )
    assert stale.status_code == 409
    viewer = api("vic").post(
        "/api/v1/bible/location/BOOTH/refs", files={"file": ("v.png", _png(), "image/png")}
    )
    assert viewer.status_code == 403
    not_a_picture = api("art").post(
        "/api/v1/bible/location/BOOTH/refs",
        files={"file": ("notes.png", b"not a picture at all", "image/png")},
    )
    assert not_a_picture.status_code == 422
    message = error_of(not_a_picture)["message"]
    assert "notes.png" in message and "setpiece-upload-" not in message
    # A character's reference must show one face: a flat card shows none.
    faceless = api("art").post(
        "/api/v1/bible/character/MARA/refs", files={"file": ("card.png", _png(), "image/png")}
    )
    assert faceless.status_code == 422
    assert "reference card.png shows no face" in error_of(faceless)["message"]
    assert len(get_entry(film.production, BibleKind.LOCATION, "BOOTH").refs) == 1
    assert get_entry(film.production, BibleKind.CHARACTER, "MARA").refs == []


def test_the_bible_page_adds_a_picture(film: Any, session_of: Any, mara: None) -> None:
    add_entry(film.production, BibleKind.LOCATION, "BOOTH")
    artist = session_of("art")
    page = artist.get("/bible")
    assert 'action="/bible/location/BOOTH/refs"' in page.text and "Add a picture" in page.text
    added = artist.post(
        "/bible/location/BOOTH/refs",
        data={"version": "1", "csrf_token": artist.csrf},
        files={"file": ("booth.png", _png(), "image/png")},
    )
    assert added.status_code == 303, added.text
    forged = artist.post(
        "/bible/location/BOOTH/refs",
        data={"version": "2", "csrf_token": "forged"},
        files={"file": ("booth.png", _png(9), "image/png")},
    )
    assert forged.status_code == 403
    booth = get_entry(film.production, BibleKind.LOCATION, "BOOTH")
    assert booth.version == 2 and len(booth.refs) == 1


def test_a_voice_over_the_api_and_on_the_page(
    film: Any, api: Any, session_of: Any, mara: None
) -> None:
    pytest.importorskip("espeakng_loader", reason="the voices extra is not installed")
    voiced = api("art").patch(
        "/api/v1/bible/character/MARA",
        json={"voice": {"backend": "espeak", "voice": "en-us+f3", "rate": 160}},
    )
    assert voiced.status_code == 200, voiced.text
    assert voiced.json()["voice"]["voice"] == "en-us+f3"
    assert voiced.json()["version"] == 1  # a voice is not what a picture depends on
    unknown = api("art").patch(
        "/api/v1/bible/character/MARA", json={"voice": {"backend": "espeak", "voice": "xx-zz"}}
    )
    assert unknown.status_code == 404 and "no voice 'xx-zz'" in error_of(unknown)["message"]
    artist = session_of("art")
    assert "Voice: espeak:en-us+f3, rate 160" in artist.get("/bible").text
    page = artist.post(
        "/bible/character/MARA/voice",
        data={"backend": "espeak", "voice": "en-us+m3", "pitch": "40", "csrf_token": artist.csrf},
    )
    assert page.status_code == 303, page.text
    assert get_entry(film.production, BibleKind.CHARACTER, "MARA").voice == {
        "backend": "espeak",
        "voice": "en-us+m3",
        "rate": None,
        "pitch": 40,
        "sample": None,
    }
