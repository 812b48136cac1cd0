"""Commands of the integrity capability (registered on import by setpiece.cli.main)."""

from __future__ import annotations
