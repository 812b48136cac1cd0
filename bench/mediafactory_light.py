"""A distinct small PNG per index, for benchmarks that need many takes quickly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_still(path: Path, index: int, size: tuple[int, int] = (64, 36)) -> Path:
    rng = np.random.default_rng(index)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path
