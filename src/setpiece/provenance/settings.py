"""The ``[provenance]`` section of setpiece.toml, with its defaults in one place.

    [provenance]
    certificate = "keys/signer.pem"   # PEM chain, leaf first (default: the dev keys)
    key = "keys/signer.key"           # PEM private key
    trust_anchors = "keys/ca.pem"     # optional: CAs whose signatures read as Trusted
    watermark = true                  # mark delivered copies
    sign = true                       # sign delivered copies

Relative paths are relative to the project folder. Without a certificate the
development keys that ``setpiece keys init`` writes to ``.setpiece/keys`` are used. The
table is read by :func:`setpiece.config.load_section`; the certificate and the key go
together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from setpiece.config import load_section
from setpiece.errors import InvalidInputError

__all__ = ["DEV_KEYS_DIR", "ProvenanceSettings"]

DEV_KEYS_DIR = Path(".setpiece") / "keys"


@dataclass(frozen=True)
class ProvenanceSettings:
    """Where the signing identity is and what delivery does.

    Attributes:
        root: The project folder, which relative paths are read from (not a key of the
            toml: the project gives it).
        certificate: PEM chain, leaf first; None for the development keys.
        key: PEM private key, given with ``certificate``.
        trust_anchors: CAs whose signatures read as Trusted, or None.
        watermark: Mark delivered copies.
        sign: Sign delivered copies.
    """

    root: Path = Path(".")
    certificate: Path | None = None
    key: Path | None = None
    trust_anchors: Path | None = None
    watermark: bool = True
    sign: bool = True

    def __post_init__(self) -> None:
        for name in ("certificate", "key", "trust_anchors"):
            path = getattr(self, name)
            if path is None:
                continue
            if not str(path).strip() or path == Path("."):
                raise ValueError(f"{name}: expected a file path, got no file name")
            path = path.expanduser()
            object.__setattr__(self, name, path if path.is_absolute() else self.root / path)
        if (self.certificate is None) != (self.key is None):
            raise ValueError("certificate: goes with key; set both or neither")

    @classmethod
    def from_settings(cls, root: Path, settings: dict[str, Any]) -> ProvenanceSettings:
        """Reads ``settings["provenance"]``, relative paths from ``root``.

        Raises:
            InvalidInputError: An unknown key, or a value of the wrong type, named as
                ``setpiece.toml [provenance] key`` (:func:`setpiece.config.load_section`).
        """
        return load_section(cls, settings.get("provenance"), section="provenance", root=root)

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
