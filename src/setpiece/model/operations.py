"""The operations that made a derived take from its parent (retime, colour match, deflicker...).

A derived take records every operation between it and its first ancestor, oldest first,
its own last. The list is a column of its own on the take (``takes.operations``), not keys
inside the generator's free ``parameters``: the make pipeline, the disclosure and the
delivered copy's manifest all read it, so it gets one typed shape. The settings of an
operation are the operation's own (its owner in ``motion`` or ``continuity`` writes them
and the manifest repeats them), so they stay a mapping.

Stored (and written into C2PA manifests) as the flat record
``{"name": "retime", "version": 1, ...settings}``, the shape the reserved
``parameters["operation"]`` key held before migration 0007.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Operation"]


@dataclass(frozen=True)
class Operation:
    """One operation that changed a take's picture.

    Attributes:
        name: What was done (``retime``, ``colour_match``, ``deflicker``...).
        version: The operation's version, when its owner gives one.
        settings: The operation's settings, as its owner recorded them.
    """

    name: str
    version: int | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The flat record stored on the take and written into manifests."""
        flat: dict[str, Any] = {"name": self.name}
        if self.version is not None:
            flat["version"] = self.version
        flat.update({k: v for k, v in self.settings.items() if k not in ("name", "version")})
        return flat

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Operation:
        """Reads a flat record back (see :meth:`record`)."""
        version = record.get("version")
        return cls(
            name=str(record.get("name", "")),
            version=int(version)
            if isinstance(version, int | str) and str(version).isdigit()
            else None,
            settings={k: v for k, v in record.items() if k not in ("name", "version")},
        )
