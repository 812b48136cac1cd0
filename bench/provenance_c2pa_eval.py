"""Content Credentials evaluation: ``setpiece verify``'s code on the c2pa projects' own fixtures.

Each fixture is verified with ``setpiece.provenance.credentials.verify_file`` (the code
behind ``setpiece verify``) and compared with the ground truth its SOURCE.txt gives:
the validation state, the failure code, the active manifest's title, assertion labels
and ingredient titles of the known-good reports (compared structurally: instance ids
and library versions differ between c2pa versions).

    python bench/provenance_c2pa_eval.py [DATA]     # DATA defaults to ../shared/data
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stats import wilson
from _timing import machine


def anchors_from(settings_file: Path, folder: Path) -> Path:
    pem = json.loads(settings_file.read_text())["trust"]["trust_anchors"]
    target = folder / (settings_file.stem + ".pem")
    target.write_text(pem.replace("\\n", "\n"))
    return target


def structure(manifest: dict | None) -> dict:
    if not manifest:
        return {}
    return {
        "title": manifest.get("title"),
        "assertions": sorted(a.get("label") for a in manifest.get("assertions") or []),
        "ingredients": [i.get("title") for i in manifest.get("ingredients") or []],
    }


def main() -> int:
    from setpiece.provenance.credentials import verify_file
    from setpiece.provenance.settings import ProvenanceSettings

    root = Path(__file__).resolve().parents[1]
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared" / "data"
    py = data / "c2pa_python_fixtures"
    rs = data / "c2pa_rs_fixtures_with_known_good"
    known = rs / "known_good"
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        py_trust = ProvenanceSettings(
            trust_anchors=anchors_from(py / "trust_config_test_settings.json", folder)
        )
        rs_trust = ProvenanceSettings(trust_anchors=anchors_from(rs / "test_settings.json", folder))
        plain = ProvenanceSettings()
        # (label, file, settings, expected state, expected failure code, known-good report)
        cases = [
            ("python A.jpg", py / "A.jpg", plain, "none", None, None),
            ("python C.jpg", py / "C.jpg", plain, "Valid", None, None),
            ("python C.jpg + trust", py / "C.jpg", py_trust, "Trusted", None, None),
            ("rs C.jpg", rs / "C.jpg", plain, "Valid", None, known / "C.json"),
            ("rs CA.jpg", rs / "CA.jpg", plain, "Valid", None, known / "CA.json"),
            (
                "rs XCA.jpg",
                rs / "XCA.jpg",
                rs_trust,
                "Invalid",
                "assertion.dataHash.mismatch",
                known / "XCA.json",
            ),
            ("rs cloud.jpg", rs / "cloud.jpg", plain, "none", None, None),
        ]
        rows, passed = [], 0
        for label, path, settings, state, code, report in cases:
            result = verify_file(path, settings)
            ok = result.state == state
            if code:
                ok = ok and any(r.startswith(code) for r in result.reasons)
            detail = ""
            if report is not None:
                good = json.loads(report.read_text())
                expected = structure(good["manifests"][good["active_manifest"]])
                same = structure(result.manifest) == expected
                ok = ok and same
                detail = (
                    "structure matches known_good"
                    if same
                    else f"structure differs: {structure(result.manifest)} vs {expected}"
                )
            passed += int(ok)
            rows.append(
                f"| {label} | {state}{' / ' + code if code else ''} | {result.state} | {'; '.join(result.reasons)[:90]} | {detail} | {'pass' if ok else 'FAIL'} |"
            )
        # The signed BMFF videos: no state is given as ground truth; reported as read.
        extra = [
            f"| rs {name} | (not stated) | {verify_file(rs / name, plain).state} | | | - |"
            for name in ("video1.mp4", "c.mov")
        ]
    lo, hi = wilson(passed, len(cases))
    print(
        f"C2PA fixtures through setpiece verify: {passed}/{len(cases)} agree with ground truth ({lo:.0%}-{hi:.0%} 95% CI); {machine()}"
    )
    print()
    print("| fixture | expected | setpiece verify | reasons | known_good | result |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows + extra))
    return 0 if passed == len(cases) else 1


if __name__ == "__main__":
    raise SystemExit(main())
