"""A folder that takes no new file, for the tests of writers refusing one (exit 5).

Tests run as root in CI, and root writes into a folder whatever its mode: there the
fixture gives ``/proc``, which takes no new files. Use it as ``unwritable = locked.unwritable``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """A folder this user cannot create files in: read-only by mode, or /proc for root."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)
        return
    if not Path("/proc/self").is_dir():
        pytest.skip("root writes anywhere, and there is no /proc to refuse it")
    yield Path("/proc")
