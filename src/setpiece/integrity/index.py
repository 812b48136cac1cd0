"""The binary index: every reference code within a Hamming radius of a query code.

Measured before choosing (bench/integrity_scale.py on the 2-core VM, 64-bit codes,
172,800 queries = a two-hour film at 24 fps; figures in bench/RESULTS.md):
FAISS's ``IndexBinaryFlat`` compares every query with every code, tens of minutes
for the film at 10 million codes; ``IndexBinaryMultiHash`` (3 tables of 21 bits,
2 flips) keeps one ``unordered_map`` per table and took 30 s per 20,000 queries at
10 million codes (about 260 s for the film). This module is multi-index hashing
(Norouzi, Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index
Hashing", CVPR 2012) in numpy with *dense* bucket tables: each table sorts the codes
by one substring and keeps an offsets array of 2**bits + 1 entries, so a probe is
two array reads and a whole batch of queries is probed with vectorised gathers
instead of hash-map lookups; it answers the film in under a minute at 10 million.

By the pigeonhole principle, a code within distance ``tables * (flips + 1) - 1`` of a
query agrees with it on at least one substring up to ``flips`` bits, so every such
code is found; codes further away (up to ``radius``) are found when one substring
happens to be close, which multiple windows per reference frame make likely.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["HammingIndex", "Hits", "hamming"]


@dataclass(frozen=True)
class Hits:
    """What a batch lookup found: parallel arrays, one entry per (query, code) pair."""

    query: np.ndarray  # int64: the query's position in the batch
    code: np.ndarray  # int64: the code's position in the index
    distance: np.ndarray  # int64: Hamming distance


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bitwise Hamming distance of uint64 arrays (broadcast)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.int64)


def _flip_masks(bits: int, flips: int) -> np.ndarray:
    masks = [0]
    for count in range(1, flips + 1):
        for chosen in itertools.combinations(range(bits), count):
            masks.append(sum(1 << b for b in chosen))
    return np.array(masks, dtype=np.int64)


class HammingIndex:
    """Multi-index hashing over 64-bit codes with dense bucket tables.

    Args:
        codes: The codes (uint64), addressed by position in lookups.
        tables: How many substrings the 64 bits are split into (2 to 4).
        flips: Bits flipped per substring when probing (0 to 3).
    """

    def __init__(self, codes: np.ndarray, *, tables: int = 3, flips: int = 2) -> None:
        if not 2 <= tables <= 4:
            raise ValueError("tables must be 2 to 4")
        if not 0 <= flips <= 3:
            raise ValueError("flips must be 0 to 3")
        self.codes = np.ascontiguousarray(codes, dtype=np.uint64)
        self.tables = tables
        self.flips = flips
        widths = [64 // tables + (1 if i < 64 % tables else 0) for i in range(tables)]
        if max(widths) > 24:
            raise ValueError("substrings over 24 bits make the bucket tables too large")
        # per table: (shift, width, order, offsets, flip masks, codes in bucket order)
        self._parts: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        shift = 64
        for width in widths:
            shift -= width
            keys = self._keys(self.codes, shift, width)
            order = np.argsort(keys, kind="stable").astype(np.int64)
            offsets = np.zeros((1 << width) + 1, dtype=np.int64)
            np.cumsum(np.bincount(keys, minlength=1 << width), out=offsets[1:])
            masks = _flip_masks(width, flips)
            # the codes again in bucket order: a probe then reads one contiguous run
            # instead of entries scattered over the whole array
            self._parts.append((shift, width, order, offsets, masks, self.codes[order]))

    @property
    def guaranteed_radius(self) -> int:
        """Every code within this distance of a query is always found."""
        return self.tables * (self.flips + 1) - 1

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def nbytes(self) -> int:
        """Memory held by the codes and the tables."""
        return self.codes.nbytes + sum(
            o.nbytes + f.nbytes + c.nbytes for _, _, o, f, _, c in self._parts
        )

    @staticmethod
    def _keys(codes: np.ndarray, shift: int, width: int) -> np.ndarray:
        mask = np.uint64((1 << width) - 1)
        return ((codes >> np.uint64(shift)) & mask).astype(np.int64)

    def search(self, queries: np.ndarray, radius: int, *, batch: int = 4096) -> Hits:
        """Every (query, code) pair within ``radius`` that the probes reach, each once.

        Args:
            queries: uint64 query codes.
            radius: Largest Hamming distance kept.
            batch: Queries probed at once (memory grows with it).
        """
        queries = np.ascontiguousarray(queries, dtype=np.uint64)
        found_q: list[np.ndarray] = []
        found_c: list[np.ndarray] = []
        found_d: list[np.ndarray] = []
        empty = np.empty(0, dtype=np.int64)
        if len(self.codes) == 0 or len(queries) == 0:
            return Hits(empty, empty, empty)
        for start in range(0, len(queries), batch):
            chunk = queries[start : start + batch]
            pairs_q: list[np.ndarray] = []
            pairs_c: list[np.ndarray] = []
            for shift, width, order, offsets, masks, ordered in self._parts:
                probes = (self._keys(chunk, shift, width)[:, None] ^ masks[None, :]).ravel()
                lo = offsets[probes]
                counts = offsets[probes + 1] - lo
                total = int(counts.sum())
                if total == 0:
                    continue
                # bucket runs laid end to end: position i of run j is lo[j] + i
                starts = np.cumsum(counts) - counts
                positions = np.arange(total, dtype=np.int64) + np.repeat(lo - starts, counts)
                owner = np.repeat(np.arange(len(probes), dtype=np.int64) // len(masks), counts)
                distance = hamming(ordered[positions], chunk[owner])
                keep = distance <= radius
                pairs_q.append(owner[keep])
                pairs_c.append(order[positions[keep]])
            if not pairs_q:
                continue
            q = np.concatenate(pairs_q)
            c = np.concatenate(pairs_c)
            key = np.unique(q * len(self.codes) + c)
            q, c = key // len(self.codes), key % len(self.codes)
            found_q.append(q + start)
            found_c.append(c)
            found_d.append(hamming(self.codes[c], chunk[q]))
        if not found_q:
            return Hits(empty, empty, empty)
        return Hits(np.concatenate(found_q), np.concatenate(found_c), np.concatenate(found_d))
