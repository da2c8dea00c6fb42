"""Signing identities for content credentials: the user's key and certificate chain, or a local
test identity (a test CA and a leaf certificate, made on first use; C2PA refuses self-signed
leaf certificates, so the test CA signs the leaf).

The test identity lives in ``$WORLDSIM_HOME/test-identity`` (default ``~/.local/share/worldsim``)
and every manifest signed with it says it is a test identity: it proves integrity, not origin.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from worldsim.clip.atomic import write_bytes
from worldsim.errors import AssetError

TEST_IDENTITY_NAME = "worldsim local test identity"
TEST_IDENTITY_FILES = ("ca.pem", "signer.pem", "signer.key")
VALIDITY = (
    datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
    datetime.datetime(2045, 1, 1, tzinfo=datetime.UTC),
)


@dataclass(frozen=True)
class SigningIdentity:
    """A PEM certificate chain (leaf first), its PEM private key and C2PA algorithm name."""

    certificate_chain: bytes
    private_key: bytes
    algorithm: str
    is_test: bool
    ca_certificate: bytes | None = None
    """The test CA (a trust anchor for validating our own test manifests); None for a user's."""


def worldsim_home() -> Path:
    """``$WORLDSIM_HOME`` or ``~/.local/share/worldsim``."""
    return Path(os.environ.get("WORLDSIM_HOME") or Path.home() / ".local" / "share" / "worldsim")


def load_identity(key_file: str | Path, certificate_file: str | Path) -> SigningIdentity:
    """A user's identity from PEM files; AssetError naming the file for anything unusable."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key_file, certificate_file = Path(key_file), Path(certificate_file)
    private_key = _read(key_file, "signing key")
    chain = _read(certificate_file, "certificate")
    try:
        key = load_pem_private_key(private_key, password=None)
    except (ValueError, TypeError) as error:
        raise AssetError(f"not an unencrypted PEM private key ({error})", file=str(key_file)) from None
    try:
        certificates = x509.load_pem_x509_certificates(chain)
    except ValueError as error:
        raise AssetError(f"not a PEM certificate chain ({error})", file=str(certificate_file)) from None
    if _public_der(certificates[0].public_key()) != _public_der(key.public_key()):
        raise AssetError(
            f"the first certificate does not belong to the signing key {key_file}", file=str(certificate_file)
        )
    return SigningIdentity(chain, private_key, _algorithm(key, key_file), is_test=False)


def local_test_identity(home: Path | None = None) -> SigningIdentity:
    """The local test identity, created on first use (private key file mode 0600)."""
    folder = (home or worldsim_home()) / "test-identity"
    paths = [folder / name for name in TEST_IDENTITY_FILES]
    if not all(path.is_file() for path in paths):
        _create_test_identity(folder)
    ca, leaf, key = (path.read_bytes() for path in paths)
    return SigningIdentity(leaf + ca, key, "ed25519", is_test=True, ca_certificate=ca)


def _create_test_identity(folder: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_IDENTITY_NAME),
            ]
        )

    def usage(sign: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=not sign,
            crl_sign=not sign,
            encipher_only=False,
            decipher_only=False,
        )

    ca_key, leaf_key = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("worldsim test CA"))
        .issuer_name(name("worldsim test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALIDITY[0])
        .not_valid_after(VALIDITY[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, None)
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("worldsim test signer"))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALIDITY[0])
        .not_valid_after(VALIDITY[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, None)
    )
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    write_bytes(folder / "ca.pem", ca.public_bytes(pem))
    write_bytes(folder / "signer.pem", leaf.public_bytes(pem))
    key_bytes = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_bytes(folder / "signer.key", key_bytes)
    os.chmod(folder / "signer.key", 0o600)


def _algorithm(key: object, key_file: Path) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise AssetError(
        "unsupported key type for C2PA (use Ed25519, EC P-256/P-384/P-521 or RSA)", file=str(key_file)
    )


def _public_der(public_key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise AssetError(f"cannot read the {what}: {error.strerror}", file=str(path)) from None
