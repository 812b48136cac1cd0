"""Motion: retiming by optical flow, deflicker, shot boundaries, temporal measures.

Usable on any video file (no project needed) and, through ``setpiece.motion.project``,
as operations that make derived takes inside a project. Modules import their heavy
libraries (PyAV, OpenCV) inside functions; importing this package is cheap. Video is
read and written through ``setpiece.store.video`` (rational rates, range, pixel
format, rotation, audio), which every other part that touches video uses too.

    flow       DIS optical flow at reduced scale, occlusion, warping, interpolation
    retime     frame-rate change and slow motion, never across a cut
    deflicker  edge-preserving temporal gain correction
    cuts       hard cuts, fades, dissolves
    measure    warping error, flicker index, frozen runs
    split      one file per shot
    project    derived takes, stored measures, temporal_flicker findings
"""

from __future__ import annotations

from setpiece.motion.config import MotionSettings, motion_settings

__all__ = ["MotionSettings", "motion_settings"]
