"""A derived take's operations: one typed record, stored flat as the reserved keys held it."""

from __future__ import annotations

from setpiece.model.operations import Operation


def test_an_operation_is_stored_flat_and_read_back() -> None:
    retime = Operation("retime", 1, {"fps": "24/1", "factor": None})
    assert retime.record() == {"name": "retime", "version": 1, "fps": "24/1", "factor": None}
    assert Operation.from_record(retime.record()) == retime


def test_an_operation_without_a_version_keeps_none() -> None:
    assert Operation("retime").record() == {"name": "retime"}
    assert Operation.from_record({"name": "match", "to": "x"}) == Operation(
        "match", None, {"to": "x"}
    )
    assert Operation.from_record({"name": "match", "version": "two"}).version is None
