"""The continuity report a person reads: each finding with its pictures side by side.

Evidence pictures are made here too (the reference face beside the offending face, or
the two shots' frames of a look jump), so the stored evidence and the HTML report show
the same thing. The HTML file is self-contained (pictures inline as PNG data URIs) so it
can be mailed or opened from anywhere; it is written through a temporary file and never
left half-written.
"""

from __future__ import annotations

import base64
import html
import io
import os
from typing import TYPE_CHECKING

import numpy as np

from setpiece.store.frames import check_target, temporary_file

if TYPE_CHECKING:
    from setpiece.continuity.check import ContinuityReport

__all__ = ["identity_rows", "identity_section", "side_by_side", "write_html"]


def side_by_side(pictures: list[np.ndarray], height: int = 180) -> bytes:
    """RGB pictures scaled to one height and laid left to right, as PNG bytes."""
    from PIL import Image

    scaled = []
    for rgb in pictures:
        image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
        width = max(1, round(image.width * height / max(1, image.height)))
        scaled.append(image.resize((width, height), Image.Resampling.BILINEAR))
    gap = 8
    canvas = Image.new(
        "RGB", (sum(i.width for i in scaled) + gap * (len(scaled) - 1), height), (32, 32, 32)
    )
    x = 0
    for image in scaled:
        canvas.paste(image, (x, 0))
        x += image.width + gap
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


_STYLE = """
body{font-family:system-ui,sans-serif;background:#111;color:#ddd;margin:2em}
h1{font-weight:500}table{border-collapse:collapse;margin-bottom:2em}
td,th{border-bottom:1px solid #333;padding:.4em .8em;text-align:left;vertical-align:top}
.kind{font-family:monospace;color:#fc6}img{max-width:720px;display:block;margin-top:.4em}
.note{color:#999}
"""


def _text(value: object) -> str:
    return html.escape("" if value is None else str(value))


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
    rows = []
    for f in report.findings:
        picture = ""
        if f.evidence_png:
            data = base64.b64encode(f.evidence_png).decode("ascii")
            picture = f'<img alt="evidence" src="data:image/png;base64,{data}">'
        score = "" if f.score is None else f"{f.score:.3f} / {f.threshold:g}"
        rows.append(
            f"<tr><td class=kind>{_text(f.kind)}</td><td>{_text(f.shot)}</td>"
            f"<td>{_text(f.take)}</td><td>{_text(f.character)}</td><td>{_text(f.frame)}</td>"
            f"<td>{_text(score)}</td><td>{_text(f.detail)}{picture}</td></tr>"
        )
    skipped = "".join(
        f"<li>{_text(s.shot)} {_text(s.take)}: {_text(s.reason)}</li>" for s in report.skipped
    )
    notes = "".join(f"<li>{_text(n)}</li>" for n in report.notes)
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_text(title)}</h1>"
        f"<p>{report.takes_checked} take(s) checked, {len(report.findings)} finding(s).</p>"
        "<table><tr><th>kind</th><th>shot</th><th>take</th><th>character</th><th>frame</th>"
        "<th>score / threshold</th><th>detail</th></tr>"
        + "".join(rows)
        + "</table>"
        + identity_section(report)
        + (f"<h2>Identity checks not applied</h2><ul class=note>{skipped}</ul>" if skipped else "")
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
