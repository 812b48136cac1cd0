"""The continuity report a person reads: each finding with its pictures side by side.

Evidence pictures are made here too (the reference face beside the offending face, or
the two shots' frames of a look jump, each captioned with its take and frame), so the
stored evidence and the HTML report show the same thing. The HTML file is
self-contained (pictures inline as PNG data URIs) so it can be mailed or opened from
anywhere; it is written through a temporary file and never left half-written.

It speaks the production's language: takes as ``3B/2``, never their ids; checks that did
not apply summarised per check and reason with a count (the takes behind a disclosure
widget: the demo's 110 lines of previs takes skipped by the identity check become two);
a dash where a column does not apply to a finding; a score printed with enough decimals
to differ from the threshold it was compared with.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from setpiece.continuity.look import decimals_apart
from setpiece.store.frames import check_target, temporary_file

if TYPE_CHECKING:
    from setpiece.continuity.check import ContinuityFinding, ContinuityReport

__all__ = [
    "identity_rows",
    "identity_section",
    "render_html",
    "score_text",
    "side_by_side",
    "skipped_summary",
    "write_html",
]

_CAPTION = 28  # pixels under each picture for its caption


def side_by_side(
    pictures: list[np.ndarray], height: int = 180, captions: Sequence[str] | None = None
) -> bytes:
    """RGB pictures scaled to one height and laid left to right, as PNG bytes; each with
    its caption underneath when ``captions`` are given (``3A/2 frame 71``)."""
    from PIL import Image, ImageDraw

    scaled = []
    for rgb in pictures:
        image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
        width = max(1, round(image.width * height / max(1, image.height)))
        scaled.append(image.resize((width, height), Image.Resampling.BILINEAR))
    gap = 8
    below = _CAPTION if captions else 0
    canvas = Image.new(
        "RGB",
        (sum(i.width for i in scaled) + gap * (len(scaled) - 1), height + below),
        (32, 32, 32),
    )
    x = 0
    for index, image in enumerate(scaled):
        canvas.paste(image, (x, 0))
        if captions and index < len(captions):
            from setpiece.lettering import typeface

            draw = ImageDraw.Draw(canvas)
            typeface().draw(draw, (x + 4, height + 3), captions[index], 13, (230, 230, 230))
        x += image.width + gap
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


_STYLE = """
body{font-family:system-ui,sans-serif;background:#111;color:#ddd;margin:2em}
h1{font-weight:500}table{border-collapse:collapse;margin-bottom:2em}
td,th{border-bottom:1px solid #333;padding:.4em .8em;text-align:left;vertical-align:top}
.kind{font-family:monospace;color:#fc6}.na{color:#666}
img{max-width:960px;display:block;margin-top:.4em}
.note{color:#999}summary{cursor:pointer}
"""


def _text(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _cell(value: object) -> str:
    """A table cell's text, a dash where the column does not apply."""
    if value is None or value == "":
        return "<span class=na>—</span>"
    return _text(value)


def score_text(score: float | None, threshold: float | None) -> str:
    """ "score / threshold", the score with enough decimals to differ from the threshold."""
    if score is None:
        return ""
    if threshold is None:
        return f"{score:.3f}"
    return f"{decimals_apart(score, threshold, least=2)} / {threshold:g}"


_LABEL = re.compile(r"\s*\b[0-9A-Za-z][0-9A-Za-z.-]*/\d+\b")


def skipped_summary(report: ContinuityReport) -> list[tuple[str, str, list[str]]]:
    """Skipped takes grouped by check and reason: (check, reason, takes), most first.

    Reasons that differ only by the take they name ("superseded by its derived take 1A/2")
    are one group, each take listed with its own reason.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for skip in report.skipped:
        label = report.labels.get(skip.take, skip.shot)
        generic = _LABEL.sub("", skip.reason).strip()
        shown = label if generic == skip.reason else f"{label} ({skip.reason})"
        groups.setdefault((skip.check, generic), []).append(shown)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], -len(item[1]), item[0][1]))
    return [(check, reason, labels) for (check, reason), labels in ordered]


def _row(f: ContinuityFinding, labels: dict[str, str]) -> str:
    picture = ""
    if f.evidence_png:
        data = base64.b64encode(f.evidence_png).decode("ascii")
        picture = f'<img alt="evidence" src="data:image/png;base64,{data}">'
    take = labels.get(f.take, f.shot) if f.take else None
    return (
        f"<tr><td class=kind>{_text(f.kind)}</td><td>{_cell(f.shot)}</td>"
        f"<td>{_cell(take)}</td><td>{_cell(f.character)}</td><td>{_cell(f.frame)}</td>"
        f"<td>{_cell(score_text(f.score, f.threshold))}</td>"
        f"<td>{_text(f.detail)}{picture}</td></tr>"
    )


_IDENTITY_VERDICTS = {
    "identity_other": "a different person",
    "identity_drift": "likeness drifting",
    "identity_uncertain": "cannot be judged",
    "identity_missing": "no face",
    "identity_unexpected": "someone not listed",
}


def identity_rows(report: ContinuityReport) -> list[tuple[str, str, str, str, str, str]]:
    """Each identity finding as (verdict, kind, shot, character, frames judged, reason)."""
    rows = []
    for f in report.findings:
        if f.kind not in _IDENTITY_VERDICTS:
            continue
        frames = getattr(f.data, "frames", None)
        reason = getattr(f.data, "reason", None) or f.detail
        shown = ", ".join(map(str, frames)) if frames else ""
        rows.append((_IDENTITY_VERDICTS[f.kind], f.kind, f.shot, f.character or "", shown, reason))
    order = list(_IDENTITY_VERDICTS)
    return sorted(rows, key=lambda row: order.index(row[1]))


def identity_section(report: ContinuityReport) -> str:
    """The identity verdicts apart, each with the frames judged and the reason (HTML)."""
    rows = identity_rows(report)
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>{_text(verdict)}</td><td class=kind>{_text(kind)}</td><td>{_text(shot)}</td>"
        f"<td>{_text(character)}</td><td>{_text(frames)}</td><td>{_text(reason)}</td></tr>"
        for verdict, kind, shot, character, frames, reason in rows
    )
    return (
        "<h2>Identity verdicts</h2><table><tr><th>verdict</th><th>kind</th><th>shot</th>"
        "<th>character</th><th>frames judged</th><th>reason</th></tr>" + body + "</table>"
    )


def render_html(report: ContinuityReport, title: str) -> str:
    """The report as one HTML page."""
    rows = "".join(_row(f, report.labels) for f in report.findings)
    skipped = "".join(
        f"<li><b>{_text(check)}</b> not applied to {len(takes)} take(s): {_text(reason)}"
        f"<details><summary>the takes</summary>{_text(', '.join(takes))}</details></li>"
        for check, reason, takes in skipped_summary(report)
    )
    unreadable = "".join(
        f"<li>{_text(u.label)}"
        + (f" frame {u.frame}" if u.frame is not None else "")
        + f": {_text(u.reason)}</li>"
        for u in report.unreadable
    )
    notes = "".join(f"<li>{_text(n)}</li>" for n in report.notes)
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_text(title)}</h1>"
        f"<p>{report.takes_checked} take(s) checked, {len(report.findings)} finding(s).</p>"
        "<table><tr><th>kind</th><th>shot</th><th>take</th><th>character</th><th>frame</th>"
        "<th>score / threshold</th><th>detail and evidence</th></tr>"
        + rows
        + "</table>"
        + (f"<h2>Unreadable</h2><ul class=note>{unreadable}</ul>" if unreadable else "")
        + identity_section(report)
        + (f"<h2>Checks not applied</h2><ul class=note>{skipped}</ul>" if skipped else "")
        + (f"<h2>Notes</h2><ul class=note>{notes}</ul>" if notes else "")
        + "</body></html>"
    )


def write_html(
    report: ContinuityReport, path: str | os.PathLike[str], title: str = "Continuity report"
) -> str:
    """Writes the report to ``path`` (.html) atomically; returns the path written.

    Raises:
        InvalidInputError: The path has another extension or its folder cannot be written.
    """
    target = check_target(path, (".html", ".htm"), "HTML report")
    page = render_html(report, title)
    with temporary_file(target) as temp, open(temp, "w", encoding="utf-8") as handle:
        handle.write(page)
    return str(target)
