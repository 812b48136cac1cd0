"""Cursors as data and as signed tokens: ranges, shapes, tags, scopes."""

from __future__ import annotations

import base64

import pytest

from setpiece.errors import InvalidInputError
from setpiece.production.feed import event_id, events_after
from setpiece.production.paging import (
    ID,
    INT32,
    MAX_CURSOR,
    MAX_ID,
    CursorError,
    CursorSigner,
    check_id,
    decode_cursor,
    encode_cursor,
    page_of,
)

REFUSED = "cursor is not one this server gave: start again without it"


@pytest.mark.parametrize(
    "key, shape",
    [
        ([2**63], [ID]),
        ([2**63], [int]),
        ([-(2**63) - 1], [int]),
        ([-1], [ID]),
        ([10**100], [ID]),
        ([1.5], [ID]),
        ([None], [ID]),
        ([[1]], [ID]),
        ([2**31], [ID]),
        ([1, 2], [INT32, INT32, ID]),
        ([1, 2**31, 3], [INT32, INT32, ID]),
        ([1, 2, 2**64], [INT32, INT32, ID]),
        ([1], [str]),
    ],
)
def test_a_key_outside_its_shape_is_refused(key: list[object], shape: list[object]) -> None:
    with pytest.raises(CursorError, match=REFUSED) as raised:
        decode_cursor(encode_cursor(key), shape)  # type: ignore[arg-type]
    assert raised.value.http_status == 400 and isinstance(raised.value, InvalidInputError)


def test_keys_at_the_edges_of_their_ranges_are_kept() -> None:
    assert decode_cursor(encode_cursor([MAX_ID]), [ID]) == [MAX_ID]
    assert decode_cursor(encode_cursor([0]), [ID]) == [0]
    assert decode_cursor(encode_cursor([-(2**31), 5, MAX_ID]), [INT32, INT32, ID]) == [
        -(2**31),
        5,
        MAX_ID,
    ]
    assert decode_cursor(encode_cursor([2**63 - 1]), [int]) == [2**63 - 1]
    assert decode_cursor(encode_cursor(["vic"]), [str]) == ["vic"]


def test_a_deeply_nested_cursor_is_refused_not_crashed() -> None:
    deep = base64.urlsafe_b64encode(b"[" * 180 + b"]" * 180).decode()
    assert len(deep) <= MAX_CURSOR
    with pytest.raises(CursorError):
        decode_cursor(deep, [ID])
    with pytest.raises(CursorError):
        decode_cursor("W" * 300, [ID])  # base64 of '[[[[...': JSON that does not end


def test_a_signed_cursor_opens_only_on_its_list_and_server() -> None:
    signer = CursorSigner(b"server secret")
    cursor = encode_cursor([41])
    signed = signer.sign(cursor, "/api/v1/jobs")
    assert signed is not None and signed.startswith(cursor + ".")
    assert signer.open(signed, "/api/v1/jobs") == cursor
    assert signer.open(None, "/api/v1/jobs") is None and signer.open("", "/x") is None
    assert signer.sign(None, "/api/v1/jobs") is None
    other = CursorSigner(b"another server")
    forged = [
        cursor,  # no tag
        signed[:-1],  # truncated
        signed[:-1] + ("A" if signed[-1] != "A" else "B"),  # a tag changed
        encode_cursor([42]) + signed[len(cursor) :],  # a key changed under its tag
        other.sign(cursor, "/api/v1/jobs"),  # another server's
        signed + "=",
        " " + signed,
        "A" * (MAX_CURSOR + 1),
        "é." + "A" * 22,
        "\x00",
    ]
    for each in forged:
        with pytest.raises(CursorError, match=REFUSED):
            signer.open(each, "/api/v1/jobs")
    with pytest.raises(CursorError, match=REFUSED):
        signer.open(signed, "/api/v1/events")  # another list's


def test_a_page_is_signed_for_its_list() -> None:
    signer = CursorSigner(b"k")
    page = page_of(list(range(5)), lambda i: i, None, 2, ID)
    signed = signer.sign_page(page, "/api/v1/scenes")
    assert signed.items == [0, 1] and signed.next_cursor != page.next_cursor
    assert signer.open(signed.next_cursor, "/api/v1/scenes") == page.next_cursor
    last = page_of(list(range(2)), lambda i: i, None, 2, ID)
    assert signer.sign_page(last, "/x") is last


@pytest.mark.parametrize("value", [-1, 2**31, 2**63, True, 10**30])
def test_an_id_out_of_range_is_refused(value: int) -> None:
    with pytest.raises(InvalidInputError, match="out of range: give 0 to"):
        check_id(value, "event id")


@pytest.mark.parametrize(
    "text", ["", "-1", "2147483648", "9223372036854775807", "1" * 25, "²", "1e3", " 1"]
)
def test_an_event_id_sent_as_text_is_checked(text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"Last-Event-ID .* is not an event id"):
        event_id(text, "Last-Event-ID")


def test_the_feed_refuses_a_position_out_of_range(production) -> None:
    assert event_id(str(MAX_ID)) == MAX_ID
    assert events_after(production, MAX_ID).items == []
    for beyond in (2**31, 2**63):
        with pytest.raises(InvalidInputError, match=f"event id {beyond} is out of range"):
            events_after(production, beyond)
