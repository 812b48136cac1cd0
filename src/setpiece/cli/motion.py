"""Commands of the motion capability (registered on import by setpiece.cli.main)."""

from __future__ import annotations
