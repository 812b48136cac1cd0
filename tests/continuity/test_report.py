"""The continuity report a person reads: SHOT/NUMBER, skipped checks summarised, columns
filled or marked, numbers apart from their thresholds, evidence side by side."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from setpiece.continuity.check import ContinuityFinding, ContinuityReport, Skipped
from setpiece.continuity.report import render_html, score_text, side_by_side, write_html
from setpiece.errors import InvalidInputError
from setpiece.model.findings import Unreadable


def _report() -> ContinuityReport:
    labels = {f"t{i:07d}": f"{1 + i // 10}{'ABCDEFGHIJ'[i % 10]}/1" for i in range(55)}
    labels["mqpnfqwe"] = "3B/2"
    skipped = [
        Skipped(label.split("/")[0], take, "identity", "generator previs draws silhouettes")
        for take, label in labels.items()
        if take != "mqpnfqwe"
    ]
    skipped += [Skipped("3B", "mqpnfqwe", "look", "insert of KNIFE: the frame shows the prop")]
    skipped += [
        Skipped("1A", "t0000000", "format", "superseded by its derived take 1A/2"),
        Skipped("1B", "t0000001", "format", "superseded by its derived take 1B/2"),
    ]
    findings = [
        ContinuityFinding(
            "look_jump", "3B", "mqpnfqwe", None, 0, 10.041, 10.0, "cut from 3A/1 to 3B/2: ..."
        ),
        ContinuityFinding(
            "identity_drift", "1A", "t0000000", "ANNA", 12, 0.6001, 0.6, "ANNA looks different"
        ),
    ]
    unreadable = [Unreadable("t0000001", "1B/1", "1B", 40, "decoding stopped")]
    return ContinuityReport(findings, 56, skipped, ["a note"], unreadable, labels)


def _visible(page: str) -> str:
    """The page's text as shown: tags and inline pictures left out."""
    text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]+"', "", page))
    return " ".join(text.split()).replace(" :", ":")


def test_takes_are_named_shot_slash_number_never_by_id() -> None:
    page = render_html(_report(), "Continuity report")
    assert "3B/2" in page and "mqpnfqwe" not in page
    assert not any(take in page for take in _report().labels)


def test_skipped_checks_are_summarised_with_counts_and_a_disclosure() -> None:
    page = render_html(_report(), "Continuity report")
    text = _visible(page)
    assert "identity not applied to 55 take(s): generator previs draws silhouettes" in text
    assert "look not applied to 1 take(s): insert of KNIFE" in text
    assert "format not applied to 2 take(s): superseded by its derived take" in text
    assert "1A/1 (superseded by its derived take 1A/2), 1B/1 (superseded" in text
    assert page.count("<details>") == 3 and "1A/1, 1B/1, 1C/1" in page
    assert text.count("generator previs draws silhouettes") == 1  # not 55 lines


def test_columns_are_filled_or_marked_and_scores_differ_from_thresholds() -> None:
    page = render_html(_report(), "Continuity report")
    rows = re.findall(r"<tr><td class=kind>.*?</tr>", page)
    look, identity = rows
    assert "<td>3B/2</td><td><span class=na>—</span></td><td>0</td>" in look
    assert "<td>10.04 / 10</td>" in look
    assert "<td>1A/1</td><td>ANNA</td><td>12</td><td>0.6001 / 0.6</td>" in identity
    assert "1B/1 frame 40: decoding stopped" in _visible(page)
    assert score_text(12.7209, 10.0) == "12.72 / 10"
    assert score_text(None, None) == ""


def test_evidence_side_by_side_with_captions() -> None:
    left = np.zeros((90, 160, 3), np.uint8)
    right = np.full((45, 80, 3), 200, np.uint8)
    plain = Image.open(io.BytesIO(side_by_side([left, right])))
    captioned = Image.open(
        io.BytesIO(side_by_side([left, right], captions=["3A/1 frame 71", "3B/2 frame 0"]))
    )
    assert plain.size == (320 + 8 + 320, 180)
    assert captioned.size == (plain.width, 180 + 28)
    under = np.asarray(captioned)[182:, :320]
    assert under.max() > 150  # the caption's letters are drawn under the first picture


def test_write_html_is_atomic_and_refuses_bad_targets(tmp_path: Path) -> None:
    path = write_html(_report(), tmp_path / "report.html")
    assert Path(path).read_text(encoding="utf-8").startswith("<!doctype html>")
    with pytest.raises(InvalidInputError, match="extension"):
        write_html(_report(), tmp_path / "report.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
