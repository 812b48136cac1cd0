"""The integrity report as one HTML file: each finding with the take's frame beside
the reference frame, so a reviewer sees the evidence without opening the store.

Pictures are embedded (base64 PNG) so the file can be mailed or archived alone.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from setpiece.model.findings import NearDuplicate
from setpiece.production.context import Production
from setpiece.production.records import list_findings
from setpiece.production.views import FindingView
from setpiece.store.frames import check_target, temporary_file

__all__ = ["write_report"]


def _picture(production: Production, finding: FindingView) -> str:
    if finding.evidence is None:
        return "<p>(no evidence picture)</p>"
    from setpiece.store.media import MediaStore

    ext = Path(finding.evidence.path).suffix.lower()
    key = MediaStore.key_for(finding.evidence.sha256, ext)
    with production.store.open(key) as handle:
        data = base64.b64encode(handle.read()).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" '
        'alt="the take frame (left) beside the reference frame (right)">'
    )


def write_report(production: Production, path: str | os.PathLike[str]) -> Path:
    """Writes every ``near_duplicate`` finding, with its evidence, to an HTML file.

    Raises:
        InvalidInputError: The target is not an .html file in a writable folder.
    """
    target = check_target(path, (".html", ".htm"), "integrity report")
    findings = list_findings(production, kind="near_duplicate")
    title = html.escape(production.project_row().name)
    rows = []
    for finding in findings:
        copy = finding.payload
        copies = (
            f"<p>Copies <b>{html.escape(copy.reference.title)}</b> "
            f"(reference {html.escape(str(copy.reference.id))}), frame "
            f"{copy.reference_frame}: Hamming {copy.hamming}, SSIM {copy.ssim}"
            f"{' (mirrored)' if copy.mirrored else ''}.</p>"
            if isinstance(copy, NearDuplicate)
            else f"<p>{html.escape(finding.detail)}</p>"
        )
        rows.append(
            "<section>"
            f"<h2>Shot {html.escape(finding.shot or '?')}, take {html.escape(finding.take or '?')}"
            f", frame {finding.frame}</h2>"
            f"{copies}"
            f"<figure>{_picture(production, finding)}"
            "<figcaption>Left: the take. Right: the reference.</figcaption></figure>"
            "</section>"
        )
    body = "\n".join(rows) or "<p>No near-duplicates found.</p>"
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Integrity: {title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}img{max-width:100%}"
        "section{border-top:1px solid #ccc;padding:1em 0}</style></head><body>"
        f"<h1>Integrity report: {title}</h1>"
        f"<p>{len(findings)} near-duplicate finding(s).</p>{body}</body></html>\n"
    )
    with temporary_file(target) as temp:
        Path(temp).write_text(page, encoding="utf-8")
    return target
