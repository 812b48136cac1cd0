"""The board's error pages gave the command line's advice ("'setpiece shot list' shows the
shots") to people in a browser: they now say the board's, or leave it out; the API keeps
the message whole."""

from __future__ import annotations

from typing import Any

import pytest

from setpiece.errors import web_message
from web.helpers import error_of


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            "no shot '9Z': 'setpiece shot list' shows the shots",
            "no shot '9Z': the board lists the shots",
        ),
        (
            "take 1A/1: x.mp4 cannot be decoded (bad data); run 'setpiece fsck'",
            "take 1A/1: x.mp4 cannot be decoded (bad data)",
        ),
        (
            "its media is missing: re-import the take or run 'setpiece fsck'",
            "its media is missing: re-import the take",
        ),
        ("ANNA changed: now 3 ('setpiece character show ANNA')", "ANNA changed: now 3"),
        (
            "unknown or revoked API token: make one with 'setpiece user token'",
            "unknown or revoked API token",
        ),
        (
            "the disk is full (/p): free some space, then run the command again",
            "the disk is full (/p): free some space, then try again",
        ),
        (
            "a plain refusal: with a reason; and what to do",
            "a plain refusal: with a reason; and what to do",
        ),
        ("'setpiece fsck --gc' removes it", "'setpiece fsck --gc' removes it"),  # all there is
    ],
)
def test_web_messages_leave_out_the_commands(message: str, shown: str) -> None:
    assert web_message(message) == shown


def test_an_error_page_gives_the_boards_advice_not_a_command(
    film: Any, session_of: Any, api: Any
) -> None:
    page = session_of("vic").get("/shots/9Z")
    assert page.status_code == 404
    assert "no shot &#39;9Z&#39;: the board lists the shots" in page.text
    assert "setpiece shot list" not in page.text
    answer = api("vic").get("/api/v1/shots/9Z")  # a script reads the message whole
    assert "'setpiece shot list'" in error_of(answer)["message"]
