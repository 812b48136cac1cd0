"""Perceptual codes, the Hamming index and the settings: the parts under the check."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import ImageOps

from integrity.pictures import copy_of, scene
from setpiece.errors import InvalidInputError
from setpiece.integrity.hashing import (
    WINDOWS,
    pack_codes,
    query_codes,
    reference_codes,
    to_signed,
    to_unsigned,
    unpack_codes,
)
from setpiece.integrity.index import HammingIndex, hamming
from setpiece.integrity.settings import IntegritySettings, integrity_settings
from setpiece.integrity.verify import verify


def _closest(reference: np.ndarray, query: np.ndarray) -> tuple[int, int, int]:
    """(distance, window, mirrored) of the closest pair of codes."""
    d = hamming(reference_codes(reference)[None, :], query_codes(query)[:, None])
    mirrored, window = np.unravel_index(int(d.argmin()), d.shape)
    return int(d.min()), int(window), int(mirrored)


def test_a_copy_stays_close_and_verifies_while_another_picture_does_not() -> None:
    original = scene(1)
    distance, window, mirrored = _closest(np.asarray(original), np.asarray(copy_of(original)))
    assert distance <= IntegritySettings().hamming
    assert mirrored == 1  # the copy is a mirror image
    match = verify(np.asarray(copy_of(original)), np.asarray(original), WINDOWS[window], True)
    assert match.ssim >= IntegritySettings().ssim

    other = np.asarray(scene(2))
    distance, window, mirrored = _closest(np.asarray(original), other)
    unrelated = verify(other, np.asarray(original), WINDOWS[window], bool(mirrored))
    assert unrelated.ssim < IntegritySettings().ssim


def test_mirroring_swaps_the_two_query_codes() -> None:
    picture = scene(3)
    plain, flipped = query_codes(np.asarray(picture))
    assert tuple(query_codes(np.asarray(ImageOps.mirror(picture)))) == (flipped, plain)


def test_codes_round_trip_through_the_database_shapes() -> None:
    codes = reference_codes(np.asarray(scene(4)))
    assert len(codes) == len(WINDOWS)
    assert np.array_equal(unpack_codes(pack_codes(codes)), codes)
    for code in (0, 1, 2**63 - 1, 2**63, 2**64 - 1):
        assert to_unsigned(to_signed(code)) == code
        assert -(2**63) <= to_signed(code) < 2**63


def test_a_flat_or_tiny_frame_hashes_without_error() -> None:
    flat = np.full((1, 1, 3), 90, dtype=np.uint8)
    assert len(reference_codes(flat)) == len(WINDOWS)
    assert len(query_codes(flat)) == 2


def test_the_index_finds_exactly_what_brute_force_finds_within_its_guarantee() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 2**63, size=5000, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    queries = codes[:300].copy()
    for i in range(len(queries)):
        for bit in rng.choice(64, int(rng.integers(0, 9)), replace=False):
            queries[i] ^= np.uint64(1 << int(bit))
    index = HammingIndex(codes, tables=3, flips=2)
    radius = index.guaranteed_radius
    hits = index.search(queries, radius, batch=64)
    found = set(zip(hits.query.tolist(), hits.code.tolist(), strict=True))
    expected = {
        (q, int(c))
        for q in range(len(queries))
        for c in np.nonzero(hamming(codes, queries[q]) <= radius)[0]
    }
    assert found == expected
    assert len(found) >= len(queries)  # every query finds at least its own source
    assert np.array_equal(hits.distance, hamming(codes[hits.code], queries[hits.query]))


def test_an_empty_index_finds_nothing() -> None:
    hits = HammingIndex(np.empty(0, dtype=np.uint64)).search(np.array([5], dtype=np.uint64), 10)
    assert len(hits.query) == 0


def test_settings_are_read_from_the_integrity_table_and_validated() -> None:
    assert integrity_settings({}) == IntegritySettings()
    config = integrity_settings({"integrity": {"check_on_arrival": True, "ssim": 0.7}})
    assert config.check_on_arrival and config.ssim == 0.7
    for table, key in (
        ({"hamming": 99}, "[integrity] hamming: expected a whole number from 0 to 32, got 99"),
        ({"ssim": "high"}, '[integrity] ssim: expected a number from 0 to 1, got "high"'),
        ({"check_on_arrival": "yes"}, "[integrity] check_on_arrival: expected true or false"),
        ({"threshold": 3}, "[integrity]: unknown key 'threshold'; known keys: check_on_arrival"),
        ({"stride": 1.5}, "[integrity] stride: expected a whole number from 1 to 100000"),
    ):
        with pytest.raises(InvalidInputError, match=re.escape(f"setpiece.toml {key}")):
            integrity_settings({"integrity": table})
