"""An upload that is not usable media is refused naming the caller's own file, as it really is.

The server keeps an upload in a temporary folder while the import checks it; the
refusal must name the file the caller sent, never that folder.
"""

from __future__ import annotations

import tempfile
from typing import Any

import pytest

from web.helpers import error_of

HTML = b"<!DOCTYPE html>\n<html><body>Page not found</body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'

edge_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@edge_only
@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "plate.png",
            HTML,
            "plate.png is an HTML document, not an image or a video Setpiece can read",
        ),
        ("logo.svg", SVG, "logo.svg is an SVG drawing, which Setpiece cannot read"),
        ("notes.png", b"call sheet, day 3\n", "notes.png is a text file, not an image"),
        ("empty.png", b"", "empty.png is empty (0 bytes)"),
    ],
)
def test_the_api_names_the_uploaded_file_and_what_it_is(
    film: Any, api: Any, name: str, content: bytes, expected: str
) -> None:
    response = api("art").post(
        "/api/v1/shots/1A/takes", files={"file": (name, content, "image/png")}
    )
    assert response.status_code == 422, response.text
    message = error_of(response)["message"]
    assert message.startswith(expected), message
    assert tempfile.gettempdir() not in message
    assert "setpiece-upload-" not in message


@edge_only
def test_the_board_names_the_uploaded_file(film: Any, session_of: Any) -> None:
    art = session_of("art")
    response = art.client.post(
        "/shots/1A/takes",
        files={"file": ("still.png", HTML, "image/png")},
        data={"csrf_token": art.csrf},
    )
    assert response.status_code == 422, response.text
    assert "still.png is an HTML document, not an image or a video Setpiece can read" in (
        response.text
    )
    assert "setpiece-upload-" not in response.text
    assert tempfile.gettempdir() not in response.text
