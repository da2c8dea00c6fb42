"""C2PA content credentials (``c2pa-python``, the ``provenance`` extra): sign and validate.

A signed file carries a manifest with the ``c2pa.created`` action and its IPTC digital source
type, the worldsim record (``org.worldsim.record``) and the scene file's sha256
(``org.worldsim.scene``: C2PA takes media files as ingredients, not YAML). Manifest labels are
derived from the record, so they are the same for the same render; the signature itself differs
between two signings (the library stamps the claim), which is why signed files (``video.mp4``,
``contact_sheet.png``) are left out of byte-identity checks while the record they carry is not.

Nothing goes over the network: no timestamp authority, and validation reads no remote manifest.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldsim.clip.atomic import write_bytes
from worldsim.errors import AssetError, MissingExtraError
from worldsim.provenance.identity import TEST_IDENTITY_NAME, SigningIdentity
from worldsim.provenance.record import RECORD_KEY, encode_record

EXTRA = "provenance"
RECORD_ASSERTION = f"org.{RECORD_KEY}.record"
SCENE_ASSERTION = f"org.{RECORD_KEY}.scene"
MIME_TYPES = {".png": "image/png", ".mp4": "video/mp4"}


@dataclass(frozen=True)
class Verification:
    """What a file's content credentials say.

    state: ``Trusted`` / ``Valid`` (intact; Trusted when the signer chains to a known anchor),
      ``Invalid`` (edited after signing, or a broken signature), or None (no manifest).
    record: the worldsim record in the manifest (None when absent).
    failures: validation failure codes and explanations.
    """

    state: str | None
    record: dict[str, Any] | None = None
    signer: str = ""
    test_identity: bool = False
    failures: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.state in ("Valid", "Trusted")


def available() -> bool:
    """Whether ``c2pa-python`` is installed."""
    try:
        import c2pa  # noqa: F401
    except ImportError:
        return False
    return True


def sign_file(
    path: str | Path,
    record: dict[str, Any],
    identity: SigningIdentity,
    *,
    title: str,
    scene_sha256: str | None = None,
    timestamp_url: str | None = None,
) -> Path:
    """Embed a signed manifest in the PNG or MP4 at ``path`` (rewritten atomically); a
    ``timestamp_url`` (RFC 3161 authority) is contacted only when given."""
    c2pa = _import_c2pa()
    path = Path(path)
    mime = _mime_type(path)
    manifest = _manifest(record, identity, title=title, scene_sha256=scene_sha256)
    signer_info = c2pa.C2paSignerInfo(
        identity.algorithm, identity.certificate_chain, identity.private_key, None
    )
    source = path.read_bytes()
    signed = io.BytesIO()
    try:
        with (
            c2pa.Signer.from_info(signer_info) as signer,
            c2pa.Builder(manifest, context=_context(None)) as builder,
        ):
            builder.sign(signer, mime, io.BytesIO(source), signed)
    except c2pa.C2paError as error:
        hint = ""
        if "certificate" in str(error).lower():
            hint = (
                "; C2PA signing certificates need keyUsage digitalSignature, an extendedKeyUsage such as "
                "emailProtection or documentSigning, and an issuing CA (not self-signed)"
            )
        raise AssetError(f"could not sign the content credentials ({error}){hint}", file=str(path)) from None
    return write_bytes(path, signed.getvalue())


def verify_file(path: str | Path, trust_anchor: bytes | None = None) -> Verification:
    """Validate the manifest of a PNG or MP4; ``trust_anchor`` (PEM) marks that signer Trusted."""
    c2pa = _import_c2pa()
    path = Path(path)
    mime = _mime_type(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise AssetError(f"cannot read: {error.strerror}", file=str(path)) from None
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), context=_context(trust_anchor))
    except c2pa.C2paError as error:
        return Verification(state="Invalid", failures=[f"manifest unreadable: {error}"])
    if reader is None:
        return Verification(state=None)
    with reader:
        state = reader.get_validation_state()
        manifest = reader.get_active_manifest() or {}
        results = reader.get_validation_results() or {}
    failures = [
        f"{item.get('code')}: {item.get('explanation', '')}".strip()
        for item in results.get("activeManifest", {}).get("failure", [])
    ]
    record = next(
        (
            item.get("data")
            for item in manifest.get("assertions", [])
            if item.get("label") == RECORD_ASSERTION
        ),
        None,
    )
    signature = manifest.get("signature_info", {})
    signer = " / ".join(part for part in (signature.get("issuer"), signature.get("common_name")) if part)
    return Verification(
        state=state,
        record=record,
        signer=signer,
        test_identity=bool(record and record.get("signed_with_test_identity")),
        failures=failures,
    )


def _manifest(
    record: dict[str, Any], identity: SigningIdentity, *, title: str, scene_sha256: str | None
) -> dict[str, Any]:
    signed_record = {**record, "signed_with_test_identity": identity.is_test}
    if identity.is_test:
        signed_record["signer_note"] = (
            f"signed with the {TEST_IDENTITY_NAME}: proves the file is unchanged, not who made it"
        )
    # C2PA wants a version-4 UUID in the label: take its random bits from the record's hash.
    digest = hashlib.sha256((encode_record(signed_record) + title).encode()).digest()
    label = uuid.UUID(bytes=digest[:16], version=4)
    action = {
        "action": "c2pa.created",
        "digitalSourceType": record["digital_source_type"],
        "softwareAgent": {"name": record["software"], "version": record["version"]},
    }
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions", "data": {"actions": [action]}},
        {"label": RECORD_ASSERTION, "data": signed_record},
    ]
    if scene_sha256 is not None:
        assertions.append({"label": SCENE_ASSERTION, "data": {"file": "scene.yaml", "sha256": scene_sha256}})
    return {
        "claim_generator_info": [{"name": record["software"], "version": record["version"]}],
        "title": title,
        "label": f"urn:c2pa:{label}",
        "instance_id": f"xmp:iid:{label}",
        "assertions": assertions,
    }


def _context(trust_anchor: bytes | None) -> Any:
    c2pa = _import_c2pa()
    settings: dict[str, Any] = {
        "builder": {"thumbnail": {"enabled": False}},
        "verify": {"remote_manifest_fetch": False, "verify_trust": trust_anchor is not None},
    }
    if trust_anchor is not None:
        settings["trust"] = {"user_anchors": trust_anchor.decode()}
    return c2pa.Context(c2pa.Settings.from_dict(settings))


def _mime_type(path: Path) -> str:
    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        raise AssetError(
            f"content credentials are written for {', '.join(MIME_TYPES)} files, not {path.suffix!r}",
            file=str(path),
        )
    return mime


def _import_c2pa() -> Any:
    try:
        import c2pa
    except ImportError as error:
        raise MissingExtraError("c2pa", EXTRA, error) from None
    return c2pa
