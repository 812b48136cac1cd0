"""Every optional feature without its extra: exit 2 (bad input, not a bug), naming the extra.

Each case runs the real command in a fresh interpreter in which the extra's package
cannot be imported (``sys.modules[name] = None`` makes ``import name`` raise
ImportError and ``find_spec`` find nothing), on a real project.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from mediafactory import write_png

# The interpreter the command runs in: the named packages are missing, then `setpiece`.
ENTRY = (
    "import sys\n"
    "for name in sys.argv[1].split(','):\n"
    "    sys.modules[name] = None\n"
    "from setpiece.cli.main import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)

# extra -> (the packages made missing, the command a user types)
CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "web": (("uvicorn",), ("serve", "--port", "1")),
    "ray": (("ray",), ("render", "--executor", "ray")),
    "s3": (("s3fs",), ("init", "elsewhere", "--media", "s3://bucket/film")),
    "diffusers": (("torch",), ("render", "1A", "--generator", "diffusers")),
    "comfyui": (("websockets",), ("render", "1A", "--generator", "comfyui")),
    "runway": (("runwayml",), ("render", "1A", "--generator", "runway")),
    "replicate": (("replicate",), ("render", "1A", "--generator", "replicate")),
    "faces": (("dlib",), ("check", "continuity")),
}


@pytest.fixture
def film(cli, tmp_path: Path) -> Path:
    """Shot 1A, a close-up of ANNA (who has a reference photo), with an imported take:
    the identity check applies to it."""
    assert cli("init", "film", "--resolution", "320x180").code == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. HANGAR - DAY").code == 0
    face = tmp_path / "anna.png"  # a reference must show one face (issue 27)
    Image.fromarray(data.astronaut()).save(face)
    assert cli("character", "add", "ANNA", "--ref", face).code == 0
    assert cli("shot", "add", "1", "--code", "1A", "--size", "CU", "--characters", "ANNA").code == 0
    take = write_png(tmp_path / "take.png", 160, 90, seed=2)
    assert cli("take", "import", "1A", take).code == 0
    return tmp_path / "film"


def run_without(
    missing: tuple[str, ...], command: tuple[str, ...], film: Path
) -> subprocess.CompletedProcess[str]:
    """``setpiece COMMAND`` in ``film`` with the ``missing`` modules unimportable."""
    return subprocess.run(
        [sys.executable, "-c", ENTRY, ",".join(missing), *command],
        cwd=film,
        env={**os.environ, "SETPIECE_USER": "ana"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("extra", sorted(CASES))
def test_a_missing_extra_exits_2_and_names_it(extra: str, film: Path) -> None:
    missing, command = CASES[extra]
    result = run_without(missing, command, film)
    assert result.returncode == 2, result.stderr
    assert f"pip install 'setpiece[{extra}]'" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_our_own_module_failing_to_import_is_a_bug_not_a_missing_extra(film: Path) -> None:
    """``needs_extra`` lets a Setpiece module's ImportError through: exit 1, not 2."""
    result = run_without(("setpiece.web.app",), ("serve", "--port", "1"), film)
    assert result.returncode == 1, result.stderr
    assert "internal error" in result.stderr and "setpiece[web]" not in result.stderr
