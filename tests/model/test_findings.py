"""Finding payloads and unreadable takes: one typed shape each, stored as the JSON checks wrote."""

from __future__ import annotations

import orjson
import pytest

from setpiece.model.findings import (
    FormatMismatch,
    IdentityDrift,
    IdentityDriftWithinTake,
    IdentityFound,
    LookJump,
    NearDuplicate,
    ReferenceWorkRef,
    TemporalFlicker,
    Unreadable,
    read_payload,
)
from setpiece.production.views import jsonable

# (kind, payload, the JSON the check wrote before payloads were typed)
STORED = [
    (
        "identity_drift",
        IdentityDrift(0.71, 3, "ANNA", "dlib"),
        b'{"largest":0.71,"frames_over":3,"character":"ANNA","embedder":"dlib"}',
    ),
    (
        "identity_drift",
        IdentityDriftWithinTake(True, 4, "ANNA", "dlib"),
        b'{"within_take":true,"from_frame":4,"character":"ANNA","embedder":"dlib"}',
    ),
    ("identity_missing", IdentityFound("BOB", "dlib"), b'{"character":"BOB","embedder":"dlib"}'),
    (
        "look_jump",
        LookJump("1A", "abc", None, 9.5, 0.3, 150.0, 0.02, "cielab", "setpiece match x --to abc"),
        b'{"from_shot":"1A","from_take":"abc","time_of_day":null,"delta_e2000":9.5,"stops":0.3,'
        b'"kelvin":150.0,"contrast":0.02,"model":"cielab","fix":"setpiece match x --to abc"}',
    ),
    (
        "format_mismatch",
        FormatMismatch(["640x480, not 1920x1080"]),
        b'{"problems":["640x480, not 1920x1080"]}',
    ),
    ("temporal_flicker", TemporalFlicker("3", 0.12), b'{"scene":"3","scene_median":0.12}'),
    (
        "near_duplicate",
        NearDuplicate(
            ReferenceWorkRef(2, "painting"), 0, 5, 0.93, 0.95, None, False, [0, 0, 64, 48]
        ),
        b'{"reference":{"id":2,"title":"painting"},"reference_frame":0,"hamming":5,"ssim":0.93,'
        b'"coarse_ssim":0.95,"colour":null,"mirrored":false,"box":[0,0,64,48]}',
    ),
]


@pytest.mark.parametrize(("kind", "payload", "stored"), STORED)
def test_a_payload_is_stored_as_before_and_read_back(
    kind: str, payload: object, stored: bytes
) -> None:
    assert orjson.dumps(jsonable(payload)) == stored
    assert read_payload(kind, orjson.loads(stored)) == payload


def test_an_unknown_kind_or_shape_reads_as_nothing() -> None:
    assert read_payload("someone_elses_check", {"x": 1}) is None
    assert read_payload("look_jump", {"from_shot": "1A"}) is None
    assert read_payload("near_duplicate", {**orjson.loads(STORED[-1][2]), "reference": 2}) is None


def test_one_unreadable_shape_for_every_check() -> None:
    bad = Unreadable("abc", "1A/2", "1A", 17, "the file ends early")
    assert jsonable(bad) == {
        "take": "abc",
        "label": "1A/2",
        "shot": "1A",
        "frame": 17,
        "reason": "the file ends early",
    }
    from setpiece.integrity import Unreadable as IntegrityUnreadable

    assert IntegrityUnreadable is Unreadable
