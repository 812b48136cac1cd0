"""C2PA Content Credentials: build a manifest from what Setpiece recorded, sign, verify.

Signing and reading go through the official ``c2pa-python`` library only. What this
module decides:

- A manifest says what happened in c2pa's own vocabulary: ``c2pa.created`` with the
  IPTC ``digitalSourceType`` of what the take's recipe records made it (its ``Origin``):
  trainedAlgorithmicMedia for a trained model, algorithmicMedia for a drawing procedure
  (previs), digitalCapture for a camera. c2pa refuses a ``created`` action without a
  source type, so an imported file that no generator made is ``c2pa.opened`` from its
  clean master as the parent ingredient: we never guess "digital capture". A derived
  take is ``c2pa.opened`` from its parent take (the ``parentOf`` ingredient), carrying
  its chain's source type, then ``c2pa.edited`` for each operation. Reference images
  are ``inputTo`` ingredients, ``softwareAgent`` = the generator and its model, and
  ``when``. Setpiece's own facts (project, take, origin, watermark payload) go in an
  ``org.setpiece.take`` assertion.
- A cut is compositeWithTrainedAlgorithmicMedia when any of its takes came from a
  trained model, compositeSynthetic when it holds algorithmic (previs) takes and no
  trained one, composite otherwise (``composite_source_type``).
- ``c2pa.watermarked`` is not used: c2pa requires a registered soft-binding
  assertion with it, which our watermark does not have.
- Formats c2pa embeds in (JPEG, PNG, WebP, TIFF, MP4, MOV, M4V) are signed in place;
  any other file gets a sidecar ``FILE.c2pa`` manifest bound to its bytes, and the
  result says so.
- Verification reports Valid, Trusted (with ``[provenance] trust_anchors``), Invalid
  with the failure codes, or no manifest; a corrupt manifest is a report, not a crash.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece import __version__
from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.model.enums import Origin
from setpiece.provenance.keys import Identity
from setpiece.provenance.settings import ProvenanceSettings

__all__ = [
    "ALGORITHMIC_MEDIA",
    "COMPOSITE",
    "COMPOSITE_SYNTHETIC",
    "COMPOSITE_WITH_TRAINED",
    "DIGITAL_CAPTURE",
    "EMBEDDED_FORMATS",
    "SOURCE_TYPES",
    "TRAINED_ALGORITHMIC_MEDIA",
    "Credentials",
    "Ingredient",
    "ManifestAction",
    "ManifestReading",
    "SignResult",
    "Verification",
    "composite_source_type",
    "sign_file",
    "verify_file",
]

_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC Digital Source Type vocabulary (https://cv.iptc.org/newscodes/digitalsourcetype/).
TRAINED_ALGORITHMIC_MEDIA = _IPTC + "trainedAlgorithmicMedia"  # made by a trained model
ALGORITHMIC_MEDIA = _IPTC + "algorithmicMedia"  # made by an algorithm, no sampled training data
DIGITAL_CAPTURE = _IPTC + "digitalCapture"  # captured from real life by a camera
COMPOSITE_WITH_TRAINED = _IPTC + "compositeWithTrainedAlgorithmicMedia"
COMPOSITE_SYNTHETIC = _IPTC + "compositeSynthetic"  # a mix, at least one element synthetic
COMPOSITE = _IPTC + "composite"
SOURCE_TYPES = {
    Origin.TRAINED: TRAINED_ALGORITHMIC_MEDIA,
    Origin.ALGORITHM: ALGORITHMIC_MEDIA,
    Origin.CAPTURED: DIGITAL_CAPTURE,
}
EMBEDDED_FORMATS = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".mov": "video/quicktime",
    # Sound: c2pa-python 0.38 embeds in RIFF WAV, MP3, FLAC and MP4 audio like pictures.
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
}
SIDECAR_SUFFIX = ".c2pa"
SIDECAR_FORMAT = "application/octet-stream"
_UNTRUSTED = "signingCredential.untrusted"


@dataclass(frozen=True)
class Ingredient:
    """A file the delivered one was made from: a parent take or a reference image."""

    path: Path
    title: str
    relationship: str  # parentOf | inputTo | componentOf
    label: str | None = None


@dataclass(frozen=True)
class Credentials:
    """What a manifest says about one delivered file."""

    title: str
    actions: list[dict[str, Any]]
    ingredients: list[Ingredient] = field(default_factory=list)
    setpiece: dict[str, Any] = field(default_factory=dict)  # the org.setpiece.take assertion

    def manifest(self) -> dict[str, Any]:
        assertions: list[dict[str, Any]] = [
            {"label": "c2pa.actions", "data": {"actions": self.actions}}
        ]
        if self.setpiece:
            assertions.append({"label": "org.setpiece.take", "data": self.setpiece})
        return {
            "claim_generator_info": [{"name": "setpiece", "version": __version__}],
            "title": self.title,
            "assertions": assertions,
        }


@dataclass(frozen=True)
class SignResult:
    """What signing wrote: the file, and the sidecar when the format cannot embed."""

    path: Path
    sidecar: Path | None
    signer: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "embedded": self.sidecar is None,
            "sidecar": str(self.sidecar) if self.sidecar else None,
            "signer": self.signer,
        }


@dataclass(frozen=True)
class ManifestAction:
    """One action of a manifest's ``c2pa.actions`` assertion, as ``verify`` shows it."""

    action: str | None
    agent: str = ""  # the software agent's name ("" when none is given)
    agent_version: str = ""
    when: str = ""


@dataclass(frozen=True)
class ManifestReading:
    """What a verified manifest says, read once from c2pa's JSON for the CLI and the web.

    ``setpiece`` is the ``org.setpiece.take`` assertion this Setpiece wrote (None in a
    manifest from elsewhere).
    """

    signer: str | None
    issuer: str | None
    actions: list[ManifestAction]
    setpiece: dict[str, Any] | None = None

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> ManifestReading:
        """Reads c2pa's JSON of one manifest; what is missing or malformed reads as absent."""
        info = _mapping(manifest.get("signature_info"))
        actions: list[ManifestAction] = []
        setpiece: dict[str, Any] | None = None
        for assertion in manifest.get("assertions") or []:
            assertion = _mapping(assertion)
            label = str(assertion.get("label", ""))
            data = _mapping(assertion.get("data"))
            if label.startswith("c2pa.actions"):
                actions.extend(_action(_mapping(a)) for a in data.get("actions") or [])
            elif label == "org.setpiece.take":
                setpiece = dict(data)
        return cls(
            signer=_text(info.get("common_name")),
            issuer=_text(info.get("issuer")),
            actions=actions,
            setpiece=setpiece,
        )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _action(action: Mapping[str, Any]) -> ManifestAction:
    agent = action.get("softwareAgent") or {}
    if not isinstance(agent, Mapping):  # C2PA 2 allows the agent as a plain string
        agent = {"name": agent}
    return ManifestAction(
        action=_text(action.get("action")),
        agent=str(agent.get("name", "")),
        agent_version=str(agent.get("version", "")),
        when=str(action.get("when", "")),
    )


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found."""

    path: str
    state: str  # Valid | Trusted | Invalid | none
    reasons: list[str]
    manifest: dict[str, Any] | None
    sidecar: str | None = None

    @property
    def reading(self) -> ManifestReading | None:
        """The manifest read into what the CLI and the web show (None without one)."""
        return ManifestReading.of(self.manifest) if self.manifest else None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "state": self.state,
            "reasons": self.reasons,
            "sidecar": self.sidecar,
            "manifest": self.manifest,
        }


def composite_source_type(origins: Iterable[Origin | None]) -> str:
    """The IPTC source type of a cut from what made its takes (None: imported, unknown).

    Any take from a trained model makes it compositeWithTrainedAlgorithmicMedia; else any
    take drawn by an algorithm (previs) or captured beside one makes it compositeSynthetic;
    a cut of takes nobody said were generated stays composite.
    """
    found = set(origins)
    if Origin.TRAINED in found:
        return COMPOSITE_WITH_TRAINED
    if Origin.ALGORITHM in found:
        return COMPOSITE_SYNTHETIC
    return COMPOSITE


def _mime(path: Path) -> str | None:
    return EMBEDDED_FORMATS.get(path.suffix.lower())


def _signer(identity: Identity) -> Any:
    import c2pa

    info = c2pa.C2paSignerInfo(
        identity.algorithm.encode(), identity.chain_pem, identity.key_pem, None
    )
    return c2pa.Signer.from_info(info)


def _c2pa_reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


def sign_file(
    source: Path,
    target: Path,
    credentials: Credentials,
    identity: Identity,
) -> SignResult:
    """Signs ``source`` into ``target`` (they may be the same file), atomically.

    Formats c2pa cannot embed in are copied as they are and get ``target.c2pa``.

    Raises:
        InvalidMediaError: c2pa cannot read the file as the format its name says.
        InvalidInputError: c2pa refused the manifest or the identity.
    """
    import c2pa

    from setpiece.store.frames import temporary_file

    mime = _mime(target)
    builder = c2pa.Builder(credentials.manifest())
    try:
        for ingredient in credentials.ingredients:
            spec: dict[str, Any] = {
                "title": ingredient.title,
                "relationship": ingredient.relationship,
            }
            if ingredient.label:
                spec["label"] = ingredient.label
            kind = _mime(ingredient.path) or SIDECAR_FORMAT
            with ingredient.path.open("rb") as stream:
                builder.add_ingredient(spec, kind, stream)
        if mime is None:
            builder.set_no_embed()
            data = source.read_bytes()
            manifest = builder.sign(
                _signer(identity), SIDECAR_FORMAT, io.BytesIO(data), io.BytesIO()
            )
            sidecar = target.with_name(target.name + SIDECAR_SUFFIX)
            if source != target:
                with temporary_file(target) as temp:
                    Path(temp).write_bytes(data)
            with temporary_file(sidecar) as temp:
                Path(temp).write_bytes(manifest)
            return SignResult(target, sidecar, identity.subject)
        with (
            temporary_file(target) as temp,
            source.open("rb") as src,
            Path(temp).open("w+b") as dst,
        ):
            builder.sign(_signer(identity), mime, src, dst)
        return SignResult(target, None, identity.subject)
    except c2pa.C2paError as exc:
        reason = _c2pa_reason(exc)
        if "JumbfParse" in reason or "Decoding" in reason or "InvalidAsset" in reason:
            raise InvalidMediaError(f"c2pa cannot sign {source}: {reason}") from None
        raise InvalidInputError(f"c2pa refused to sign {source}: {reason}") from None
    finally:
        builder.close()


def _context(settings: ProvenanceSettings) -> Any:
    """Reader settings: never fetch a remote manifest (verify reads the file, nothing else)."""
    import c2pa

    config: dict[str, Any] = {"version": 1, "verify": {"remote_manifest_fetch": False}}
    anchors = settings.trust_anchor_pem()
    if anchors:
        config["trust"] = {"trust_anchors": anchors}
        config["verify"]["verify_trust"] = True
    return c2pa.Context.from_dict(config)


def verify_file(path: Path, settings: ProvenanceSettings | None = None) -> Verification:
    """Reads and validates the manifest of ``path`` (embedded, or its ``.c2pa`` sidecar).

    Raises:
        InvalidInputError: The file cannot be read.
    """
    import c2pa

    settings = settings or ProvenanceSettings()
    if not path.is_file():
        raise InvalidInputError(f"{path} is not a file")
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    context = _context(settings)
    mime = _mime(path)
    try:
        with path.open("rb") as stream:
            if sidecar.is_file() and (mime is None or not _has_embedded(path, mime, context)):
                stream.seek(0)
                reader = _reader(
                    SIDECAR_FORMAT if mime is None else mime, stream, sidecar.read_bytes(), context
                )
                used = str(sidecar)
            else:
                if mime is None:
                    return Verification(
                        str(path), "none", ["no manifest: no sidecar " + sidecar.name], None
                    )
                reader = _reader(mime, stream, None, context)
                used = None
    except c2pa.C2paError.ManifestNotFound:
        return Verification(str(path), "none", ["no C2PA manifest in the file"], None)
    except c2pa.C2paError as exc:
        reason = _c2pa_reason(exc)
        if isinstance(exc, c2pa.C2paError.RemoteManifest) or reason.startswith("Remote"):
            # c2pa 0.38 raises a plain C2paError("Remote: ...") here.
            return Verification(
                str(path),
                "none",
                [f"no manifest in the file; it points to a remote one (not fetched): {reason}"],
                None,
            )
        return Verification(
            str(path), "Invalid", [f"manifest unreadable: {_c2pa_reason(exc)}"], None
        )
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if reader is None:
        return Verification(str(path), "none", ["no C2PA manifest in the file"], None)
    try:
        store = json.loads(reader.json())
    finally:
        reader.close()
    state = str(store.get("validation_state") or "Invalid")
    results = store.get("validation_results") or {}
    failures = (results.get("activeManifest") or {}).get("failure") or []
    reasons = [
        f"{f.get('code')}: {f.get('explanation', '')}".strip()
        for f in failures
        if f.get("code") != _UNTRUSTED
    ]
    if state != "Trusted" and any(f.get("code") == _UNTRUSTED for f in failures):
        reasons.append("signer not trusted (no configured trust anchor issued it)")
    if state == "Invalid" and not reasons:
        reasons.append("c2pa reported the manifest invalid")
    active = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(active) if active else None
    return Verification(str(path), state, reasons, manifest, used)


def _reader(mime: str, stream: Any, manifest: bytes | None, context: Any) -> Any:
    import c2pa

    if context is None:
        return c2pa.Reader(mime, stream, manifest)
    return c2pa.Reader(mime, stream, manifest, context)


def _has_embedded(path: Path, mime: str, context: Any) -> bool:
    import c2pa

    try:
        with path.open("rb") as stream:
            reader = _reader(mime, stream, None, context)
            reader.close()
            return True
    except c2pa.C2paError:
        return False


def removable(path: str | os.PathLike[str]) -> None:
    """Removes a half-written output (used by callers on failure)."""
    Path(path).unlink(missing_ok=True)
