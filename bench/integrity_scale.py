"""Scale of the integrity index: a two-hour film's frames looked up in millions of codes.

Usage: python bench/integrity_scale.py [--sizes 1000000,10000000] [--queries 172800]

Synthetic 64-bit codes stand in for reference frames (uniform random, the easy case
for bucket sizes; real pHashes cluster, which fills some buckets more). The queries
are 172,800 codes (24 fps x 2 hours): nine in ten are copies of indexed codes with
0-14 random bits flipped, one in ten unrelated. Setpiece's index (multi-index
hashing with dense bucket tables, :mod:`setpiece.integrity.index`) answers all of
them at the check's radius; FAISS's ``IndexBinaryFlat`` (brute force) and
``IndexBinaryMultiHash`` answer a sample of the same queries in the same run, and
their time for the whole film is extrapolated linearly (each query costs the same
for brute force). Memory is the index's own arrays and the process's resident size.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from setpiece.integrity.index import HammingIndex, hamming
from setpiece.integrity.settings import IntegritySettings

FILM = 24 * 60 * 60 * 2


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def make(size: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2**64 - 1, size=size, dtype=np.uint64, endpoint=True)
    source = rng.integers(0, size, size=queries)
    asked = codes[source].copy()
    flips = rng.integers(0, 15, size=queries)
    for count in range(1, 15):
        rows = np.nonzero(flips == count)[0]
        for _ in range(count):  # may hit a bit twice: then fewer flips, which is fine
            bits = rng.integers(0, 64, size=len(rows)).astype(np.uint64)
            asked[rows] ^= np.uint64(1) << bits
    unrelated = rng.random(queries) < 0.1
    asked[unrelated] = rng.integers(
        0, 2**64 - 1, size=int(unrelated.sum()), dtype=np.uint64, endpoint=True
    )
    source[unrelated] = -1
    return codes, asked, source


def faiss_codes(codes: np.ndarray) -> np.ndarray:
    return codes.astype(">u8").view(np.uint8).reshape(-1, 8)


def main() -> None:
    import faiss

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--queries", type=int, default=FILM)
    parser.add_argument("--sample", type=int, default=2000, help="queries given to FAISS")
    args = parser.parse_args()
    faiss.omp_set_num_threads(2)
    radius = IntegritySettings().hamming
    print(f"radius {radius}; {args.queries} queries; FAISS on {args.sample} of them, extrapolated")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at start (other work on the machine): {load}")
    for size in (int(s) for s in args.sizes.split(",")):
        codes, asked, source = make(size, args.queries)
        before = rss_mb()
        started = time.perf_counter()
        index = HammingIndex(codes)
        built = time.perf_counter() - started
        started = time.perf_counter()
        hits = index.search(asked, radius)
        searched = time.perf_counter() - started
        truth = hamming(codes[np.maximum(source, 0)], asked)
        mine = set(zip(hits.query.tolist(), hits.code.tolist(), strict=True))
        copies = source >= 0
        found = np.array([(q, int(s)) in mine for q, s in enumerate(source)])
        guaranteed = copies & (truth <= index.guaranteed_radius)
        beyond = copies & (truth > index.guaranteed_radius) & (truth <= radius)
        print(
            f"\n{size:,} codes: build {built:.1f} s, search {searched:.1f} s "
            f"({searched / len(asked) * 1e6:.0f} us/query), index {index.nbytes / 2**20:.0f} MiB, "
            f"RSS +{rss_mb() - before:.0f} MiB (peak {peak_mb():.0f} MiB)"
        )
        print(
            f"  found: {found[guaranteed].mean():.4f} of {guaranteed.sum()} copies within "
            f"{index.guaranteed_radius} (guaranteed), {found[beyond].mean():.4f} of "
            f"{beyond.sum()} at {index.guaranteed_radius + 1}-{radius}; "
            f"{len(hits.query)} hits in all"
        )
        sample = asked[: args.sample]
        for name, make_index in (
            ("FAISS IndexBinaryFlat (brute force)", lambda: faiss.IndexBinaryFlat(64)),
            (
                "FAISS IndexBinaryMultiHash(3x21 bits, 2 flips)",
                lambda: faiss.IndexBinaryMultiHash(64, 3, 21),
            ),
        ):
            other = make_index()
            started = time.perf_counter()
            other.add(faiss_codes(codes))
            if hasattr(other, "nflip"):
                other.nflip = 2
            built_other = time.perf_counter() - started
            started = time.perf_counter()
            other.range_search(faiss_codes(sample), radius + 1)  # FAISS: distance < radius
            took = time.perf_counter() - started
            whole = took * len(asked) / len(sample)
            print(
                f"  {name}: build {built_other:.1f} s, {took:.1f} s for {len(sample)} queries, "
                f"~{whole:.0f} s for the film (x{whole / searched:.1f} Setpiece's time)"
            )
            del other
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"  load average now: {load}")
        del index, hits, codes


if __name__ == "__main__":
    main()
