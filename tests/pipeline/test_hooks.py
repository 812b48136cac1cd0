"""What the layer above connects: motion's flicker check in the continuity pass.

``setpiece.pipeline.hooks`` hands motion's judgement (``motion.project.temporal_check``)
the continuity pass's scope, skipping generators that declare they draw every frame
exactly; the arrival hooks are tested at each entry point in tests/integrity/test_arrival.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motion.conftest import sliding, write_frames
from setpiece.continuity.check import check_continuity
from setpiece.pipeline.hooks import TemporalChecker, continuity_checkers
from setpiece.production.context import Production
from setpiece.production.takes import import_takes
from setpiece.production.views import Recipe


def _flicker(path: Path, amount: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    base = sliding(step=1, seed=seed)
    gains = 1 + rng.uniform(-amount, amount, 24)
    return write_frames(
        path,
        lambda i: np.clip(base(i).astype(float) * 0.6 * gains[i], 0, 255).astype(np.uint8),
        24,
    )


def test_the_cli_and_make_run_continuity_then_motion() -> None:
    assert [c.name for c in continuity_checkers()] == ["identity", "look", "format", "temporal"]


def test_a_flickering_take_is_found_and_a_drawn_one_skipped(
    production: Production, make, tmp_path: Path
) -> None:
    shot = make.shot("4A")
    clips = [_flicker(tmp_path / f"s{i}.mp4", 0.0, i) for i in range(2)]
    clips.append(_flicker(tmp_path / "shaky.mp4", 0.2, 9))
    ids = [import_takes(production, shot, [p]).created[0].id for p in clips]
    drawn = import_takes(
        production, shot, [_flicker(tmp_path / "previs.mp4", 0.3, 4)], Recipe(backend="previs")
    ).created[0]

    report = check_continuity(production, checkers=[TemporalChecker()])

    assert report.takes_checked == 3
    (finding,) = report.findings
    assert finding.kind == "temporal_flicker" and finding.take == ids[2] and finding.shot == "4A"
    (skipped,) = report.skipped
    assert (skipped.take, skipped.check) == (drawn.id, "temporal")
    assert skipped.reason == "generator previs draws every frame exactly (no flicker)"
