"""Signing identities for Content Credentials: a local development CA, or the studio's own.

c2pa refuses a self-signed signing certificate, and it checks that the signer's leaf
carries the digitalSignature key usage, an extended key usage it accepts
(emailProtection or documentSigning here) and an authority key identifier. So
``setpiece keys init`` makes two certificates with ``cryptography``: a throw-away
root CA and an ES256 (P-256) leaf issued by it, both named "UNTRUSTED Setpiece
development" so nobody mistakes them for a real identity. Files signed with them
verify as Valid, never Trusted, unless someone adds the CA as a trust anchor.

A studio points ``[provenance] certificate`` and ``key`` in setpiece.toml at its own
chain and key; ``load_identity`` checks either kind up front (expiry, key usage,
extended key usage, key matching the certificate) so a bad identity fails with one
clear line before c2pa is called.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.errors import InvalidInputError

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "DEV_LABEL",
    "Identity",
    "KeyPaths",
    "check_identity",
    "init_dev_keys",
    "load_identity",
]

DEV_LABEL = "UNTRUSTED Setpiece development"
# id-kp-emailProtection and id-kp-documentSigning: two of the purposes c2pa accepts.
_EKU_EMAIL = "1.3.6.1.5.5.7.3.4"
_EKU_DOCUMENT = "1.3.6.1.5.5.7.3.36"
_ACCEPTED_EKU = {
    _EKU_EMAIL,
    _EKU_DOCUMENT,
    "1.3.6.1.5.5.7.3.8",  # timeStamping
    "1.3.6.1.5.5.7.3.9",  # OCSPSigning
    "1.3.6.1.4.1.62558.2.1",  # c2pa-kp-claimSigning
}
_ALGORITHMS = {"P-256": "es256", "secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}


@dataclass(frozen=True)
class KeyPaths:
    """Where a development identity lives: the chain (leaf then CA), the key, the CA alone."""

    certificate: Path
    key: Path
    ca: Path


@dataclass(frozen=True)
class Identity:
    """A checked signing identity, ready for c2pa."""

    chain_pem: bytes  # leaf first, then issuers
    key_pem: bytes
    algorithm: str  # es256, es384, es512, ps256, ed25519
    subject: str
    issuer: str
    not_after: dt.datetime
    development: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "algorithm": self.algorithm,
            "not_after": self.not_after.isoformat().replace("+00:00", "Z"),
            "development": self.development,
        }


def _name(common_name: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    # X.509 allows 64 bytes of UTF-8 in a common name (cryptography counts bytes): a
    # title's line breaks are folded and it is cut there, never inside a character.
    folded = " ".join(common_name.split()).encode("utf-8", "replace")
    common_name = folded[:64].decode("utf-8", "ignore").rstrip() or DEV_LABEL[:64]
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_LABEL),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "FOR DEVELOPMENT ONLY"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def init_dev_keys(
    folder: Path,
    *,
    project: str = "Setpiece",
    days: int = 365,
    force: bool = False,
    now: dt.datetime | None = None,
    extended_usage: str | None = _EKU_EMAIL,
    key_usage_digital_signature: bool = True,
) -> KeyPaths:
    """Makes a development root CA and an ES256 leaf issued by it, in ``folder``.

    Args:
        folder: Where to write ``ca.pem``, ``signer.pem`` (leaf + CA) and ``signer.key``.
        project: Named in the leaf's common name.
        days: How long the leaf is valid (the CA twice that).
        force: Replace existing files.
        now: The start of validity (tests pass a past date to make expired certificates).
        extended_usage: The leaf's extended key usage OID, or None for none (tests only).
        key_usage_digital_signature: Whether the leaf may sign (False: tests only).

    Returns:
        The paths written.

    Raises:
        InvalidInputError: The files exist and ``force`` is not given.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ObjectIdentifier

    paths = KeyPaths(folder / "signer.pem", folder / "signer.key", folder / "ca.pem")
    if not force and any(p.exists() for p in (paths.certificate, paths.key, paths.ca)):
        raise InvalidInputError(
            f"signing keys exist already in {folder}: pass --force to replace them"
        )
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{DEV_LABEL} CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=2 * days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{DEV_LABEL} signer: {project}"))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=key_usage_digital_signature,
                content_commitment=False,
                key_encipherment=not key_usage_digital_signature,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
    )
    if extended_usage is not None:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ObjectIdentifier(extended_usage)]), critical=False
        )
    leaf = builder.sign(ca_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    folder.mkdir(parents=True, exist_ok=True)
    paths.ca.write_bytes(ca.public_bytes(pem))
    paths.certificate.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_bytes = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    paths.key.touch(mode=0o600)
    paths.key.write_bytes(key_bytes)
    return paths


def _read(path: Path, what: str, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read the signing {what} {path} ([provenance] {setting}): "
            f"{exc.strerror or exc}; run 'setpiece keys init' or fix setpiece.toml"
        ) from None


def load_identity(certificate: Path, key: Path, *, now: dt.datetime | None = None) -> Identity:
    """Reads and checks a certificate chain (PEM, leaf first) and its private key (PEM).

    Raises:
        InvalidInputError: Unreadable files, or a certificate c2pa would refuse (see
            ``check_identity``).
    """
    chain = _read(certificate, "certificate", "certificate")
    private = _read(key, "key", "key")
    return check_identity(chain, private, source=str(certificate), now=now)


def check_identity(
    chain_pem: bytes, key_pem: bytes, *, source: str = "certificate", now: dt.datetime | None = None
) -> Identity:
    """Checks what c2pa checks at signing time, so the error is one clear line.

    Raises:
        InvalidInputError: Not PEM, expired or not yet valid, a CA or self-signed leaf,
            no digitalSignature key usage, no extended key usage c2pa accepts, or a
            private key that does not match the certificate.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        raise InvalidInputError(f"{source} is not a PEM certificate chain") from None
    leaf = certs[0]
    try:
        private = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise InvalidInputError(
            f"the signing key for {source} is not an unencrypted PEM private key"
        ) from None
    subject = leaf.subject.rfc4514_string()
    moment = now or dt.datetime.now(dt.UTC)
    if moment > leaf.not_valid_after_utc:
        raise InvalidInputError(
            f"the signing certificate {subject!r} expired on {leaf.not_valid_after_utc:%Y-%m-%d}: "
            "renew it (or run 'setpiece keys init --force' for development keys)"
        )
    if moment < leaf.not_valid_before_utc:
        raise InvalidInputError(
            f"the signing certificate {subject!r} is not valid before "
            f"{leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )
    if leaf.issuer == leaf.subject:
        raise InvalidInputError(
            f"the signing certificate {subject!r} is self-signed: c2pa needs a leaf issued by a CA "
            "('setpiece keys init' makes both)"
        )
    try:
        constraints = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
        if constraints.ca:
            raise InvalidInputError(
                f"the signing certificate {subject!r} is a CA certificate: sign with a leaf"
            )
    except x509.ExtensionNotFound:
        pass
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        signs = usage.digital_signature
    except x509.ExtensionNotFound:
        signs = False
    if not signs:
        raise InvalidInputError(
            f"the signing certificate {subject!r} lacks the digitalSignature key usage "
            "that c2pa requires: issue one for signing"
        )
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        purposes = {oid.dotted_string for oid in eku}
    except x509.ExtensionNotFound:
        purposes = set()
    if not purposes & _ACCEPTED_EKU:
        raise InvalidInputError(
            f"the signing certificate {subject!r} has no extended key usage c2pa accepts "
            "(emailProtection, documentSigning, timeStamping, OCSPSigning or c2pa claimSigning)"
        )
    public = leaf.public_key()
    if private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise InvalidInputError(
            f"the signing key does not match the certificate {subject!r}: "
            "configure the key that belongs to it"
        )
    if isinstance(private, ec.EllipticCurvePrivateKey):
        algorithm = _ALGORITHMS.get(private.curve.name, "")
    elif isinstance(private, ed25519.Ed25519PrivateKey):
        algorithm = "ed25519"
    elif isinstance(private, rsa.RSAPrivateKey):
        algorithm = "ps256"
    else:
        algorithm = ""
    if not algorithm:
        raise InvalidInputError(
            f"the signing key of {subject!r} is of a kind c2pa cannot sign with: "
            "use ES256 (P-256), ES384, ES512, PS256 or Ed25519"
        )
    return Identity(
        chain_pem=chain_pem,
        key_pem=key_pem,
        algorithm=algorithm,
        subject=subject,
        issuer=leaf.issuer.rfc4514_string(),
        not_after=leaf.not_valid_after_utc,
        development=DEV_LABEL in subject,
    )
