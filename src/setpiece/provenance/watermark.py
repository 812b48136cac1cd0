"""An invisible watermark that says which project and which take a delivered file came from.

Why our own: the anchor, the ``invisible-watermark`` package, imports torch and a non-
headless OpenCV at load time, its ``dwtDct`` method loses the payload at JPEG quality 80
and neither of its methods carries error correction or says whether a mark is there at
all. Measured on 36 pictures (``bench/provenance_watermark.py``, ``bench/RESULTS.md``,
7 Dec 2026), no picture is marked under 45 dB from its master (mean 49.5 dB; dwtDctSvd
43.5 dB mean, 33.6 dB at worst), and the whole payload is kept after JPEG 90/80/70/50,
resizing to 0.75, +20 % brightness and H.264 CRF 23 on 35 of 36 (the 36th, ``clock``, has
texture on a quarter of its pixels: it cannot carry the mark within 45 dB, and delivery
says so), half size on 34 and CRF 28 on 33, where dwtDctSvd keeps it in 10/36 pictures at
JPEG 70 and 0/36 after any resize. Like both anchor
methods it does not survive a 10 % crop (the grid moves; no resynchronisation yet). It
needs numpy and headless OpenCV only.

What it decides:

- The payload is 72 bits: 16 bits of project code, the 40 bits of the take id
  (8 characters of 5 bits), and a CRC-16 over both. A rate-1/2 convolutional code
  (constraint length 7, the NASA generators 171/133) turns it into 156 coded bits,
  decoded with soft-decision Viterbi.
- The image is divided into a grid of cells in *relative* coordinates (64x64, or
  128x128 from 480 px on the short side), so resizing keeps every cell in place.
  Each coded bit owns a keyed, scattered set of cells and a keyed +-1 chip per
  cell. The mark is a smooth luma pattern: per-cell amplitudes upsampled bilinearly,
  then scaled per pixel by the local texture (:func:`_texture_mask`: the standard
  deviation of luma in a 15-pixel window, none below 1.5 grey levels, and a 3x3 gate
  that keeps it off flat pixels beside texture; stills take its square root, which spreads
  the mark more evenly over textured pixels), added to R, G and B alike. Flat
  areas (a paper margin, a grey card, sky without grain) are left exactly as they
  were: a flat 1920x1080 mid-grey still comes back unchanged, and carries no mark,
  which delivery reports (``TOO_FLAT`` in :mod:`.deliver`) and ``detect`` reads as
  "no mark".
- Two formats share that payload, code, grid and mask, with different keys:

  * **quantised** (stills, :func:`embed`; spread-transform dither modulation): each
    bit's statistic is a projection of its cells' residuals (cell minus its 3x3
    neighbourhood) onto their chips, weighted by 1 / (``QIM_WEIGHT_FLOOR`` x mean luma
    / 128 + the neighbourhood's activity) and divided by the square root of its cell
    count. Both terms of the weight grow with the picture's gain, so a picture made 20 %
    brighter gives the same statistic (the point of rational dither modulation). The
    statistic is moved to the nearest point of its bit's lattice (keyed dither + k
    ``QIM_STEP``, a 1 half a step further), then checked on the written 8-bit image and
    corrected up to ``QIM_ROUNDS`` times; a bit's amplitude is capped at
    ``QIM_MAX_STRENGTH`` (20, before the texture mask: a pixel changes by 30 grey levels
    at most). No still is marked at under ``QIM_PSNR`` (45 dB) from its master: where the
    cap would cost more (a picture whose texture is on a few pixels), that picture's cap
    is lowered until it does not, and a still whose mark then no longer reads back (a
    contact sheet with one small panel) is delivered unmarked (``TOO_FLAT`` in
    :mod:`.deliver`). A bit costs at most half a step whatever the
    picture's own correlation with it: the first format paid that correlation back
    (informed embedding), which kept busy pictures (gravel, brick, grass) at 36-38 dB and
    the mean at 42.6 dB. Soft value: -cos(2 pi phase) on the lattice. Pictures with
    little texture pay the most (the mark has few pixels to go to): ``clock`` at its own
    size would be at 37.8 dB; at 45 dB its mark does not read back.
  * **spread** (video frames, :func:`embed_luma`, and stills delivered before the
    quantised format): each bit's cells carry +-amplitude x chip; embedding is informed
    (it measures the picture's own correlation and adds what cancels it plus a margin,
    ``VIDEO_STRENGTH`` 3.5: 2.0 and 2.5 lost the textured 720p clip at CRF 28). Flat pixels
    of video frames get ``VIDEO_FLOOR`` (0.2) of the mark: H.264 removed a mark confined
    to the few textured pixels of the demo's previs preview movie; a floor of 0.5 lost the
    textured 720p clip at CRF 28. Older delivered stills carry this format and are still
    read.

- Detection (spread format) shrinks the luma to the grid by area averaging, subtracts each
  cell's 3x3 neighbourhood mean (removing most of the picture), weights each cell by
  the inverse of its neighbourhood's activity (:func:`_weights`: busy cells, whose
  residual is mostly picture, count less; that cut the cost of busy pictures by about
  1 dB at the same robustness), and correlates each bit's cells with their chips.
  Embedding is *informed*: it measures that same statistic on the host and adds, per
  bit, what cancels the picture's own opposing correlation plus a fixed margin, then
  checks the written 8-bit image once more and tops up the bits still short.
- Video: every frame carries its take's payload, written into the Y plane; the
  detector adds the normalised soft values of the frames it reads before
  decoding (soft voting, per format and grid), and decodes runs of frames apart when a
  cut's frames name different takes. Small moving video (320x180) loses the mark to H.264 at
  CRF 28; from 720p it survives (tests/provenance/test_watermark.py).
- Two marks on one picture (two projects' deliveries in turn): the second embedding
  quantises the statistic of the picture with the first mark in it, so it writes over
  it and ``detect`` would name the second; the CRC and the codeword correlation keep a
  mix of the two from ever being reported (tests/provenance/test_watermark.py). Delivery therefore
  refuses to mark a picture that already carries another take's mark
  (:mod:`.deliver`), so a file Setpiece delivers never hides an earlier mark.
- "Found" needs both the CRC to match and the soft values to agree with the
  re-encoded codeword above ``FOUND_CORRELATION``; the false-positive rate of
  that rule on unmarked pictures is measured in the bench.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from setpiece.errors import InvalidInputError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CODED_BITS",
    "FOUND_CORRELATION",
    "PAYLOAD_BITS",
    "Detection",
    "Payload",
    "SoftVote",
    "detect",
    "embed",
    "embed_luma",
    "project_code",
    "psnr",
]

KEY = b"setpiece-watermark-v1"
PROJECT_BITS = 16
TAKE_BITS = 40
CRC_BITS = 16
PAYLOAD_BITS = PROJECT_BITS + TAKE_BITS + CRC_BITS
_CONSTRAINT = 7
_G = (0o171, 0o133)
CODED_BITS = 2 * (PAYLOAD_BITS + _CONSTRAINT - 1)
GRIDS = (64, 128)
LARGE_GRID_FROM = 480  # short side in pixels from which the grid is 128x128
VIDEO_STRENGTH = 3.5  # video frames: 2.0 and 2.5 lost the textured 720p clip to H.264 CRF 28
MAX_STRENGTH = 40.0  # spread format: cap on a bit's amplitude, before the per-pixel texture mask
# The quantised format's cap on a bit's amplitude (clock: 40 -> 35.9 dB, 20 -> 37.8 dB,
# 14 -> 39.5 dB but clock was then lost to +20 % brightness and H.264 CRF 28).
QIM_MAX_STRENGTH = 20.0
# Each still's own cost: when the mark at that cap would leave the picture under QIM_PSNR dB
# from its master (a picture whose texture is on a few pixels: clock, a page of text), the
# cap is lowered for that picture alone, by bisection, until it is not (QIM_SEARCH halvings).
QIM_PSNR = 45.0
QIM_SEARCH = 6
# The per-pixel texture mask (see _texture_mask): local standard deviation of luma in a
# MASK_SIDE window; none of the mark below FLAT_STD grey levels, full at FLAT_STD + FULL_STD.
MASK_SIDE = 15
FLAT_STD = 1.5
FULL_STD = 8.0
MASK_TOP = 1.5
# Video frames keep some mark on flat areas: a previs movie is mostly flat, and H.264
# wipes out a mark confined to its few textured pixels (the demo's preview movie lost it).
VIDEO_FLOOR = 0.2
# The detector's weights (see _weights): cells are weighted by 1 / (WEIGHT_FLOOR + the mean
# absolute residual of the WEIGHT_SIDE x WEIGHT_SIDE cells around them), in grey levels.
WEIGHT_FLOOR = 4.0
WEIGHT_SIDE = 5
# Correlation of the soft values with the decoded codeword: about 0.82 on pictures that
# carry no mark (the best of 2**72 codewords fits noise that well; the quantised format's
# -cos soft values: median 0.77, at most 0.82 over 440 unmarked cases), 0.95-1.0 on marked ones.
FOUND_CORRELATION = 0.86
_NOISE_CORRELATION = 0.80
# The quantised mark of stills (see _embed_qim): its own key, so that its cells and chips
# are independent of the first format's; the quantiser step of each bit's projection; the
# weights' floor, in multiples of the picture's mean luma / 128 (``SCALE_FLOOR`` at least);
# up to ``QIM_ROUNDS`` corrections after the 8-bit image is written, until every bit is
# within ``QIM_TOLERANCE`` steps of its lattice point.
QIM_KEY = b"setpiece-watermark-v2"
QIM_STEP = 1.0
QIM_WEIGHT_FLOOR = 8.0
QIM_ROUNDS = 3
QIM_TOLERANCE = 0.05
SCALE_FLOOR = 0.25
_TAKE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


@dataclass(frozen=True)
class Payload:
    """What the mark says: a 16-bit project code and a take id."""

    project: int
    take: str

    def bits(self) -> list[int]:
        if not 0 <= self.project < 1 << PROJECT_BITS:
            raise InvalidInputError(f"project code {self.project} does not fit in 16 bits")
        take = self.take.lower()
        if len(take) != 8 or any(ch not in _TAKE_ALPHABET for ch in take):
            raise InvalidInputError(f"take id {self.take!r} is not an 8-character Setpiece take id")
        value = self.project
        for ch in take:
            value = (value << 5) | _TAKE_ALPHABET.index(ch)
        data = _to_bits(value, PROJECT_BITS + TAKE_BITS)
        return data + _to_bits(_crc16(data), CRC_BITS)

    @classmethod
    def from_bits(cls, bits: list[int]) -> Payload | None:
        data, crc = bits[: PROJECT_BITS + TAKE_BITS], bits[PROJECT_BITS + TAKE_BITS :]
        if _crc16(data) != _from_bits(crc):
            return None
        value = _from_bits(data)
        take = "".join(_TAKE_ALPHABET[(value >> (5 * (7 - i))) & 31] for i in range(8))
        return cls(project=value >> TAKE_BITS, take=take)


@dataclass(frozen=True)
class Detection:
    """What ``detect`` found: the payload when found, and how well the picture agreed."""

    found: bool
    payload: Payload | None
    confidence: float
    bit_agreement: float  # share of coded bits whose sign agrees with the decoded codeword
    frames: int = 1


def project_code(name: str, created: str) -> int:
    """A project's 16-bit code: from its name and creation time, stable for its life."""
    digest = hashlib.sha256(f"{name}\x00{created}".encode()).digest()
    return int.from_bytes(digest[:2], "big")


def _to_bits(value: int, count: int) -> list[int]:
    return [(value >> (count - 1 - i)) & 1 for i in range(count)]


def _from_bits(bits: list[int]) -> int:
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def _crc16(bits: list[int]) -> int:
    """CRC-16/CCITT-FALSE over a bit list."""
    crc = 0xFFFF
    for bit in bits:
        top = (crc >> 15) & 1
        crc = (crc << 1) & 0xFFFF
        if top ^ bit:
            crc ^= 0x1021
    return crc


def _encode(bits: list[int]) -> list[int]:
    state = 0
    out: list[int] = []
    for bit in [*bits, *([0] * (_CONSTRAINT - 1))]:
        state = ((state << 1) | bit) & ((1 << _CONSTRAINT) - 1)
        out.extend(bin(state & g).count("1") & 1 for g in _G)
    return out


@lru_cache(maxsize=1)
def _trellis() -> tuple[Any, Any, Any]:
    import numpy as np

    states = 1 << (_CONSTRAINT - 1)
    # For each next state and each of its two predecessors: the predecessor and the outputs.
    prev = np.zeros((states, 2), dtype=np.int64)
    outs = np.zeros((states, 2, 2), dtype=np.float64)
    for nxt in range(states):
        bit = nxt & 1
        for k, high in enumerate((0, 1)):
            before = (nxt >> 1) | (high << (_CONSTRAINT - 2))
            register = (before << 1) | bit
            prev[nxt, k] = before
            outs[nxt, k] = [2 * (bin(register & g).count("1") & 1) - 1 for g in _G]
    bits = np.arange(states) & 1
    return prev, outs, bits


def _viterbi(soft: np.ndarray) -> list[int]:
    """Soft-decision Viterbi: ``soft`` > 0 means a 1; returns the data bits."""
    import numpy as np

    prev, outs, state_bits = _trellis()
    states = prev.shape[0]
    steps = len(soft) // 2
    metric = np.full(states, -np.inf)
    metric[0] = 0.0
    choice = np.zeros((steps, states), dtype=np.int64)
    for t in range(steps):
        pair = soft[2 * t : 2 * t + 2]
        branch = outs @ pair  # (states, 2)
        candidates = metric[prev] + branch
        pick = np.argmax(candidates, axis=1)
        choice[t] = pick
        metric = candidates[np.arange(states), pick]
    state = 0  # the tail drives the encoder back to zero
    decoded: list[int] = []
    for t in range(steps - 1, -1, -1):
        decoded.append(int(state_bits[state]))
        state = int(prev[state, choice[t, state]])
    decoded.reverse()
    return decoded[:PAYLOAD_BITS]


@lru_cache(maxsize=4)
def _layout(grid: int, key: bytes = KEY) -> tuple[Any, Any]:
    """Which coded bit each cell carries, and its chip (+-1), from the key."""
    import numpy as np

    seed = int.from_bytes(hashlib.sha256(key + grid.to_bytes(2, "big")).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    cells = grid * grid
    owner = np.arange(cells) % CODED_BITS
    rng.shuffle(owner)
    chips = rng.choice(np.array([-1.0, 1.0]), size=cells)
    return owner.reshape(grid, grid), chips.reshape(grid, grid)


def grid_for(width: int, height: int) -> int:
    return GRIDS[1] if min(width, height) >= LARGE_GRID_FROM else GRIDS[0]


def _luma(rgb: np.ndarray) -> np.ndarray:
    import numpy as np

    pixels = rgb.astype(np.float32)
    return pixels[..., 0] * 0.299 + pixels[..., 1] * 0.587 + pixels[..., 2] * 0.114


def _residual(luma: np.ndarray, grid: int) -> np.ndarray:
    import cv2
    import numpy as np

    small = cv2.resize(luma, (grid, grid), interpolation=cv2.INTER_AREA).astype(np.float64)
    local = cv2.blur(small, (3, 3), borderType=cv2.BORDER_REFLECT)
    return np.asarray(small - local)


def _weights(residual: np.ndarray) -> np.ndarray:
    """Per cell, how much the detector trusts it: the inverse of the local activity.

    A busy cell (an edge, gravel) has a large residual of its own that says nothing about
    the mark; weighting by 1 / (floor + local mean absolute residual) keeps such cells
    from drowning the quiet ones (a locally optimum detector for a host whose variance
    changes from cell to cell).
    """
    import cv2
    import numpy as np

    activity = cv2.blur(np.abs(residual), (WEIGHT_SIDE, WEIGHT_SIDE), borderType=cv2.BORDER_REFLECT)
    return np.asarray(1.0 / (WEIGHT_FLOOR + activity))


def _statistic(luma: np.ndarray, grid: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Per coded bit: the weighted correlation of its cells' residual with their chips.

    ``weights`` None: the picture's own (what detection does); given: a fixed, linear
    statistic (what embedding uses to plan the mark on the host's weights).
    """
    import numpy as np

    owner, chips = _layout(grid)
    residual = _residual(luma, grid)
    if weights is None:
        weights = _weights(residual)
    weighted = (residual * weights * chips).ravel()
    return np.bincount(owner.ravel(), weights=weighted, minlength=CODED_BITS)


def embed(rgb: np.ndarray, payload: Payload) -> np.ndarray:
    """Returns a marked copy of an RGB uint8 picture (HxWx3), in the quantised format."""
    import numpy as np

    base = rgb.astype(np.float32)
    return _embed_qim(
        _luma(rgb),
        payload,
        lambda pattern: np.clip(base + pattern[..., None], 0, 255).round().astype(np.uint8),
        _luma,
    )


def embed_luma(
    luma: np.ndarray, payload: Payload, *, strength: float = VIDEO_STRENGTH
) -> np.ndarray:
    """Returns a marked copy of a luma plane (HxW uint8), e.g. the Y of a video frame."""
    import numpy as np

    base = luma.astype(np.float32)
    return _embed(
        base,
        payload,
        strength,
        lambda pattern: np.clip(base + pattern, 0, 255).round().astype(np.uint8),
        lambda marked: marked.astype(np.float32),
        floor=VIDEO_FLOOR,
    )


def _embed(
    luma: np.ndarray,
    payload: Payload,
    strength: float,
    apply: Callable[[np.ndarray], np.ndarray],
    luma_of: Callable[[np.ndarray], np.ndarray],
    floor: float = 0.0,
) -> np.ndarray:
    import cv2
    import numpy as np

    height, width = luma.shape[:2]
    if min(height, width) < 16:
        raise InvalidInputError(f"a {width}x{height} picture is too small to carry a watermark")
    grid = grid_for(width, height)
    owner, chips = _layout(grid)
    signs = np.array(_encode(payload.bits()), dtype=np.float64) * 2 - 1
    # Masking, per pixel: the mark is scaled by the local texture, so flat areas get none.
    shade = _texture_mask(luma)
    if floor > 0:  # video: flat pixels get the floor, textured ones their own share
        shade = np.where(shade > 0, shade, np.float32(floor))
    unit = chips * signs[owner]

    def pattern(amplitude: np.ndarray) -> np.ndarray:
        cells = (unit * amplitude[owner]).astype(np.float32)
        smooth = cv2.resize(cells, (width, height), interpolation=cv2.INTER_LINEAR)
        return np.asarray(smooth * shade)

    weights = _weights(_residual(luma, grid))
    gain = _statistic(pattern(np.ones(CODED_BITS)), grid, weights) * signs
    gain = np.maximum(gain, 1e-6)
    host = _statistic(luma, grid) * signs
    target = strength * np.abs(gain)
    amplitude = np.clip((target - host) / gain, 0.0, MAX_STRENGTH)
    for _ in range(2):
        marked = apply(pattern(amplitude))
        short = target - _statistic(luma_of(marked), grid) * signs
        if not np.any(short > 0.05 * target):
            break
        amplitude = np.clip(amplitude + np.maximum(short, 0) / gain, 0.0, MAX_STRENGTH)
    return marked


def _qim_statistic(luma: np.ndarray, grid: int) -> np.ndarray:
    """Per coded bit of the quantised mark: a gain-invariant projection of its cells.

    The cells' residuals are weighted by 1 / (``QIM_WEIGHT_FLOOR`` x the picture's scale +
    the local activity), both proportional to the picture's contrast, so the weighted
    residual, and the projection, do not change when the picture is made brighter or
    darker by a factor (rational dither modulation's point), and quiet cells count more
    than busy ones, as in :func:`_weights`.
    """
    import cv2
    import numpy as np

    owner, chips = _layout(grid, QIM_KEY)
    residual = _residual(luma, grid)
    scale = max(float(np.mean(luma)) / 128.0, SCALE_FLOOR)
    activity = cv2.blur(np.abs(residual), (WEIGHT_SIDE, WEIGHT_SIDE), borderType=cv2.BORDER_REFLECT)
    weighted = (residual * chips / (QIM_WEIGHT_FLOOR * scale + activity)).ravel()
    sums = np.bincount(owner.ravel(), weights=weighted, minlength=CODED_BITS)
    counts = np.bincount(owner.ravel(), minlength=CODED_BITS)
    return np.asarray(sums / np.sqrt(counts))


@lru_cache(maxsize=4)
def _dither(grid: int) -> Any:
    import numpy as np

    """Each bit's keyed dither, as a share of ``QIM_STEP``."""
    digest = hashlib.sha256(QIM_KEY + b"dither" + grid.to_bytes(2, "big")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big")).uniform(size=CODED_BITS)


def _qim_target(stat: np.ndarray, signs: np.ndarray, grid: int) -> np.ndarray:
    """The nearest point of each bit's lattice (0: dither + k step; 1: half a step on)."""
    import numpy as np

    offset = (_dither(grid) + (signs > 0) * 0.5) * QIM_STEP
    return np.asarray(offset + QIM_STEP * np.round((stat - offset) / QIM_STEP))


def _qim_soft(luma: np.ndarray, grid: int) -> np.ndarray:
    """Soft values of the quantised mark: +1 on a 1's lattice point, -1 on a 0's."""
    import numpy as np

    phase = _qim_statistic(luma, grid) / QIM_STEP - _dither(grid)
    return np.asarray(-np.cos(2 * np.pi * phase))


def _embed_qim(
    luma: np.ndarray,
    payload: Payload,
    apply: Callable[[np.ndarray], np.ndarray],
    luma_of: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    import cv2
    import numpy as np

    height, width = luma.shape[:2]
    if min(height, width) < 16:
        raise InvalidInputError(f"a {width}x{height} picture is too small to carry a watermark")
    grid = grid_for(width, height)
    owner, chips = _layout(grid, QIM_KEY)
    signs = np.array(_encode(payload.bits()), dtype=np.float64) * 2 - 1
    # The square root of the texture mask: flat pixels still get none, weakly textured
    # ones a larger share. Spread more evenly, the mark needs less amplitude for the same
    # statistic (36 pictures: mean PSNR 47.9 -> 49.5 dB at the same robustness), and it is
    # no stronger where the picture is nearly flat (bench/RESULTS.md, 7 Dec 2026).
    shade = np.sqrt(_texture_mask(luma) * np.float32(MASK_TOP))

    def pattern(amplitude: np.ndarray) -> np.ndarray:
        cells = (chips * amplitude[owner]).astype(np.float32)
        smooth = cv2.resize(cells, (width, height), interpolation=cv2.INTER_LINEAR)
        return np.asarray(smooth * shade)

    host = _qim_statistic(luma, grid)
    gain = _qim_statistic(luma + pattern(np.ones(CODED_BITS)), grid) - host
    gain = np.maximum(gain, 1e-3)
    master = apply(np.zeros((height, width), np.float32))

    def mark(cap: float) -> tuple[np.ndarray, float]:
        amplitude = np.clip((_qim_target(host, signs, grid) - host) / gain, -cap, cap)
        marked = apply(pattern(amplitude))
        for _ in range(QIM_ROUNDS):
            stat = _qim_statistic(luma_of(marked), grid)
            error = _qim_target(stat, signs, grid) - stat
            if np.max(np.abs(error)) < QIM_TOLERANCE * QIM_STEP:
                break
            amplitude = np.clip(amplitude + error / gain, -cap, cap)
            marked = apply(pattern(amplitude))
        return marked, psnr(master, marked)

    marked, quality = mark(QIM_MAX_STRENGTH)
    if quality >= QIM_PSNR:
        return marked
    best, low, high = master, 0.0, QIM_MAX_STRENGTH
    for _ in range(QIM_SEARCH):
        trial, quality = mark((low + high) / 2)
        if quality >= QIM_PSNR:
            best, low = trial, (low + high) / 2
        else:
            high = (low + high) / 2
    return best


def psnr(master: np.ndarray, marked: np.ndarray) -> float:
    """PSNR (dB) of a marked picture against its master; infinite when they are equal."""
    import numpy as np

    error = float(np.mean((master.astype(np.float64) - marked.astype(np.float64)) ** 2))
    return float("inf") if error == 0 else 10 * float(np.log10(255**2 / error))


def _texture_mask(luma: np.ndarray) -> np.ndarray:
    """Per pixel, how much of the mark it takes: 0 on flat areas, rising with local contrast."""
    import cv2
    import numpy as np

    values = luma.astype(np.float32)

    def local_std(side: int) -> np.ndarray:
        window = (side, side)
        mean = cv2.blur(values, window, borderType=cv2.BORDER_REFLECT)
        square = cv2.blur(values * values, window, borderType=cv2.BORDER_REFLECT)
        return np.asarray(np.sqrt(np.maximum(square - mean * mean, 0.0)))

    # The wide window makes the mask smooth (a mask that follows the grain pixel by pixel
    # is high frequency, and H.264 removes it); the 3x3 gate keeps it off flat pixels
    # next to texture, which the wide window alone would mark (halos along edges).
    near = np.clip(local_std(3) - 0.5, 0.0, 1.0)
    gate = np.asarray(
        cv2.erode(cv2.dilate(near, np.ones((5, 5), np.uint8)), np.ones((3, 3), np.uint8))
    )
    wide = np.clip((local_std(MASK_SIDE) - FLAT_STD) / FULL_STD, 0.0, MASK_TOP)
    return np.asarray(wide * gate, dtype=np.float32)


def _soft(rgb: np.ndarray, grid: int) -> np.ndarray:
    """Soft values of the first format (spread spectrum, video frames and older stills)."""
    import numpy as np

    stat = _statistic(_luma(rgb), grid)
    scale = float(np.sqrt(np.mean(stat * stat))) or 1.0
    return np.asarray(stat / scale)


FORMATS = ("quantised", "spread")
"""The two formats ``detect`` reads: stills are marked ``quantised`` (:func:`embed`); video
frames, and stills delivered before the quantised mark, ``spread`` (:func:`embed_luma`)."""


class SoftVote:
    """Adds the soft values of many pictures (video frames) and decodes once.

    The frames' soft values are kept too, so a cut whose frames name different takes can
    be decoded run by run (``windows``). Both formats and both grids are read; a payload
    is reported only when its CRC matches and its codeword agrees with the soft values.
    """

    def __init__(self) -> None:
        self._frames: list[dict[tuple[str, int], Any]] = []

    @property
    def frames(self) -> int:
        return len(self._frames)

    def add(self, rgb: np.ndarray) -> None:
        luma = _luma(rgb)
        soft: dict[tuple[str, int], Any] = {}
        for grid in GRIDS:
            soft["quantised", grid] = _qim_soft(luma, grid)
            soft["spread", grid] = _soft(rgb, grid)
        self._frames.append(soft)

    def result(self, start: int = 0, stop: int | None = None) -> Detection:
        """Decodes the frames ``start:stop`` (all by default) voted together."""
        import numpy as np

        chosen = self._frames[start:stop]
        best = Detection(False, None, 0.0, 0.0, len(chosen))
        if not chosen:
            return best
        for key in chosen[0]:
            soft = np.sum([frame[key] for frame in chosen], axis=0)
            candidate = _decode(soft, len(chosen))
            if (candidate.found, candidate.confidence) > (best.found, best.confidence):
                best = candidate
        return best

    def windows(self, size: int) -> list[tuple[int, Detection]]:
        """Decodes runs of ``size`` consecutive frames: (first frame, detection) per run."""
        return [(start, self.result(start, start + size)) for start in range(0, self.frames, size)]


def _decode(soft: np.ndarray, frames: int) -> Detection:
    import numpy as np

    decoded = _viterbi(soft)
    code = np.array(_encode(decoded), dtype=np.float64) * 2 - 1
    confidence = float(np.sum(code * soft) / (np.sum(np.abs(soft)) or 1.0))
    agreement = float(np.mean(np.sign(soft) == code))
    payload = Payload.from_bits(decoded)
    found = payload is not None and confidence >= FOUND_CORRELATION
    scaled = min(1.0, max(0.0, (confidence - _NOISE_CORRELATION) / (1 - _NOISE_CORRELATION)))
    return Detection(found, payload if found else None, round(scaled, 4), agreement, frames)


def detect(rgb: np.ndarray) -> Detection:
    """Looks for a mark in one RGB uint8 picture."""
    vote = SoftVote()
    vote.add(rgb)
    return vote.result()


def soft_bits(rgb: np.ndarray, grid: int) -> np.ndarray:
    """The soft values of a still's coded bits (quantised format; the bench's bit accuracy)."""
    return _qim_soft(_luma(rgb), grid)


def coded_bits(payload: Payload) -> list[int]:
    """The coded bits a payload is written as (for the bench's bit accuracy)."""
    return _encode(payload.bits())
