"""The integrity check's settings: one frozen set of defaults, read from setpiece.toml.

``[integrity]`` in setpiece.toml overrides any of them; the CLI and the arrival hook
read the same values through :func:`integrity_settings`. The defaults come from the
evaluation in bench/integrity_eval.py (see bench/RESULTS.md): a Hamming
radius that lets every transformed copy reach pixel verification, and floors on the
three verification measures (SSIM, coarse SSIM, colour agreement) that separate aligned
copies from unrelated photographs and, mostly, from other frames of the same previs film.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from setpiece.config import load_section, setting

__all__ = ["IntegritySettings", "integrity_settings"]


@dataclass(frozen=True)
class IntegritySettings:
    """How references are sampled and how takes are matched against them.

    Attributes:
        check_on_arrival: Check new takes as soon as they are imported or rendered.
        hamming: Largest Hamming distance (of 64 bits) for a code to be a candidate.
        ssim: Smallest SSIM (64 px, equalised), after alignment, for a near-duplicate.
        coarse_ssim: Smallest SSIM of the raw grey pictures at 32 px, same alignment.
        colour: Smallest colour agreement (a*/b* correlation at 16 px), unless either
            picture has no colour; -1 turns the test off.
        stride: Every ``stride``-th video frame is sampled (plus every shot change).
        cut: Mean absolute grey difference (0-255) that marks a shot change.
        candidates: Most candidate reference frames verified on the pixels per take frame.
        thumb: Longest side of the reference thumbnails kept for verification.
        keypoints: When the codes name nothing, match the frame's local features against
            every reference thumbnail (:mod:`setpiece.integrity.keypoints`); false is the
            previous rule (codes and pixel verification only).
        keypoint_inliers: Fewest inliers of the keypoint stage's geometric fit.
        keypoint_agreement: Smallest fraction of overlapping grid cells that must agree
            once the take is warped onto the reference.
    """

    check_on_arrival: bool = False
    hamming: int = setting(14, low=0, high=32)
    # The three floors, chosen together at Hamming 14 (bench/RESULTS.md): natural
    # copies recall 0.956 with no false positive; previs frames of other locations 13 false
    # matches of 158 (SSIM 0.4 alone: 885 of 1,041; SSIM 0.5 alone: 382 of 538).
    ssim: float = setting(0.4, low=0.0, high=1.0)
    coarse_ssim: float = setting(0.7, low=0.0, high=1.0)
    colour: float = setting(0.55, low=-1.0, high=1.0)
    stride: int = setting(12, low=1, high=100000)
    cut: float = setting(30.0, low=0.0, high=255.0)
    candidates: int = setting(8, low=1, high=1000)
    thumb: int = setting(256, low=32, high=4096)
    # Chosen in bench/integrity_transforms.py (bench/RESULTS.md, issue 30).
    keypoints: bool = True
    keypoint_inliers: int = setting(12, low=4, high=500)
    keypoint_agreement: float = setting(0.5, low=0.0, high=1.0)


def integrity_settings(settings: dict[str, Any] | None) -> IntegritySettings:
    """The ``[integrity]`` table of a parsed setpiece.toml over the defaults.

    Raises:
        InvalidInputError: An unknown key, or a value of the wrong type or range, named as
            ``setpiece.toml [integrity] key`` (:func:`setpiece.config.load_section`).
    """
    return load_section(IntegritySettings, (settings or {}).get("integrity"), section="integrity")
