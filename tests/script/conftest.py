"""Fixture factories for the screenplay tests: small scripts written to tmp."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

WriteScript = Callable[..., Path]


@pytest.fixture
def write_script(tmp_path: Path) -> WriteScript:
    """Write a script file in tmp and return its path.

    Call it as ``write_script(content, name="script.fountain")``; ``content`` is
    text (written as UTF-8) or bytes (written as they are).
    """

    def write(content: str | bytes, name: str = "script.fountain") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
