"""The layers hold: ``lint-imports`` keeps pyproject's contracts, as CI runs it (.ci/run).

Imports go down, never up, and the capabilities share only what a lower layer offers
([tool.importlinter] in pyproject.toml; the README's "How it fits together" draws them).
Within the shot board (``setpiece.web``) the modules import one way too, so they cannot
import each other in a circle. The second test runs the same contracts over a tiny package
with one import upward, so a broken layer is known to fail them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")

pytestmark = pytest.mark.skipif(
    not Path(LINT_IMPORTS).exists(), reason="import-linter is not installed (the test extra)"
)


def _lint(cwd: Path, src: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [LINT_IMPORTS, str(config), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_package_keeps_its_layers() -> None:
    result = _lint(ROOT, ROOT / "src", ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


# Every layer of the contract, as an empty module, so the contracts find them all.
_MODULES = (
    "errors timebase config lettering drawing matte colour model plugins store production project "
    "script "
    "generate voice "
    "continuity integrity motion edit provenance pipeline cli web"
).split()
_WEB = (
    "app",
    "gate",
    "pages",
    "api",
    "deps",
    "auth",
    "settings",
)  # the shot board's, top to bottom


@pytest.mark.parametrize(
    ("module", "imports", "broken"),
    [
        (
            "store",
            "setpiece.production",
            "setpiece.store is not allowed to import setpiece.production",
        ),
        (
            "edit",
            "setpiece.provenance",
            "setpiece.edit is not allowed to import setpiece.provenance",
        ),
        ("model", "setpiece.cli", "setpiece.model is not allowed to import setpiece.cli"),
        ("web/deps", "setpiece.web.pages", "setpiece.web.deps is not allowed to import"),
    ],
)
def test_an_import_upward_or_across_breaks_a_contract(
    tmp_path: Path, module: str, imports: str, broken: str
) -> None:
    package = tmp_path / "src" / "setpiece"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in _MODULES:
        (package / f"{name}.py").write_text("")
    (package / "web.py").unlink()
    (package / "web").mkdir()
    for name in ("__init__", *_WEB):
        (package / "web" / f"{name}.py").write_text("")
    # Only the import hidden under TYPE_CHECKING: it counts all the same.
    (package / f"{module}.py").write_text(
        f"from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import {imports}\n"
    )
    contracts = (ROOT / "pyproject.toml").read_text()
    # The temporary exception names a module the tiny package has not: leave it out.
    contracts = "\n".join(
        line for line in contracts.splitlines() if not line.startswith("ignore_imports")
    )
    (tmp_path / "pyproject.toml").write_text(contracts)
    result = _lint(tmp_path, tmp_path / "src", tmp_path / "pyproject.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout
