"""The ``[provenance]`` section of setpiece.toml, with its defaults in one place.

    [provenance]
    certificate = "keys/signer.pem"   # PEM chain, leaf first (default: the dev keys)
    key = "keys/signer.key"           # PEM private key
    trust_anchors = "keys/ca.pem"     # optional: CAs whose signatures read as Trusted
    watermark = true                  # mark delivered copies
    sign = true                       # sign delivered copies

Relative paths are relative to the project folder. Without a certificate the
development keys that ``setpiece keys init`` writes to ``.setpiece/keys`` are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from setpiece.errors import InvalidInputError

__all__ = ["DEV_KEYS_DIR", "ProvenanceSettings"]

DEV_KEYS_DIR = Path(".setpiece") / "keys"


@dataclass(frozen=True)
class ProvenanceSettings:
    """Where the signing identity is and what delivery does."""

    root: Path = Path(".")
    certificate: Path | None = None
    key: Path | None = None
    trust_anchors: Path | None = None
    watermark: bool = True
    sign: bool = True

    @classmethod
    def from_settings(cls, root: Path, settings: dict[str, Any]) -> ProvenanceSettings:
        """Reads ``settings["provenance"]``; raises InvalidInputError naming a bad key."""
        section = settings.get("provenance", {})
        if not isinstance(section, dict):
            raise InvalidInputError("[provenance] in setpiece.toml must be a table")
        known = {"certificate", "key", "trust_anchors", "watermark", "sign"}
        for name in section:
            if name not in known:
                raise InvalidInputError(
                    f"unknown setting provenance.{name}: use one of {', '.join(sorted(known))}"
                )

        def path(name: str) -> Path | None:
            value = section.get(name)
            if value is None:
                return None
            if not isinstance(value, str) or not value.strip():
                raise InvalidInputError(f"provenance.{name} must be a file path, got {value!r}")
            candidate = Path(value).expanduser()
            return candidate if candidate.is_absolute() else root / candidate

        def flag(name: str, default: bool) -> bool:
            value = section.get(name, default)
            if not isinstance(value, bool):
                raise InvalidInputError(f"provenance.{name} must be true or false, got {value!r}")
            return value

        certificate, key = path("certificate"), path("key")
        if (certificate is None) != (key is None):
            raise InvalidInputError(
                "provenance.certificate and provenance.key go together: set both or neither"
            )
        return cls(
            root=root,
            certificate=certificate,
            key=key,
            trust_anchors=path("trust_anchors"),
            watermark=flag("watermark", True),
            sign=flag("sign", True),
        )

    @property
    def dev_keys(self) -> Path:
        return self.root / DEV_KEYS_DIR

    def identity_paths(self) -> tuple[Path, Path]:
        if self.certificate is not None and self.key is not None:
            return self.certificate, self.key
        return self.dev_keys / "signer.pem", self.dev_keys / "signer.key"

    def trust_anchor_pem(self) -> str | None:
        if self.trust_anchors is None:
            return None
        try:
            return self.trust_anchors.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(
                f"cannot read provenance.trust_anchors {self.trust_anchors}: {exc.strerror or exc}"
            ) from None
