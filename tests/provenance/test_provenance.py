"""Provenance: the record in PNG text chunks and MP4 tags, C2PA credentials checked by c2pa-python's
own reader (and tampering found), ``worldsim provenance`` exit codes, deterministic frames."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import worldsim as ws
from worldsim.clip.atomic import png_bytes
from worldsim.clip.video import write_mp4
from worldsim.errors import AssetError
from worldsim.provenance import credentials
from worldsim.provenance.embedded import png_text, read_mp4_record, read_mp4_tags, read_png_record
from worldsim.provenance.identity import load_identity, local_test_identity
from worldsim.provenance.record import (
    ALGORITHMIC_MEDIA,
    TRAINED_ALGORITHMIC_MEDIA,
    RendererProvenance,
    clip_record,
    frame_record,
    weights_sha256,
)

c2pa = pytest.importorskip("c2pa", reason="content credentials need worldsim[provenance]")


def _record(generative: bool = False, weights: Path | None = None) -> dict:
    renderer = RendererProvenance("diffusion" if generative else "flat", generative, weights)
    return clip_record(renderer, scene_digest="d1g35t", seed=11, version="0.1.0")


def _frames(count: int = 6) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 255, (24, 32, 3), dtype=np.uint8) for _ in range(count)]


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    import sys

    return subprocess.run(
        [sys.executable, "-m", "worldsim.cli.main", *args], capture_output=True, text=True, timeout=120
    )


def test_png_record_round_trips_with_xmp_source_type(tmp_path: Path) -> None:
    record = frame_record(_record(generative=True), 7)
    path = tmp_path / "frame.png"
    path.write_bytes(png_bytes(_frames(1)[0], png_text(record)))
    assert read_png_record(path) == record
    from PIL import Image

    with Image.open(path) as image:
        text = image.text
    assert text["Software"] == "worldsim 0.1.0"
    assert f'Iptc4xmpExt:DigitalSourceType="{TRAINED_ALGORITHMIC_MEDIA}"' in text["XML:com.adobe.xmp"]
    # The same record gives the same bytes (resumed renders stay byte-identical).
    assert png_bytes(_frames(1)[0], png_text(record)) == path.read_bytes()


def test_record_names_weights_by_sha256(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\x01\x02" * 1000)
    record = _record(generative=True, weights=weights)
    import hashlib

    assert record["weights"] == "model.safetensors"
    assert record["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert record["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    assert _record()["digital_source_type"] == ALGORITHMIC_MEDIA
    folder = tmp_path / "pipeline"
    (folder / "vae").mkdir(parents=True)
    (folder / "vae" / "w.safetensors").write_bytes(b"abc")
    before = weights_sha256(folder)
    (folder / "vae" / "w.safetensors").write_bytes(b"abd")
    assert weights_sha256(folder) != before


def test_mp4_tags_carry_the_record(tmp_path: Path) -> None:
    from worldsim.provenance.embedded import mp4_tags

    record = _record()
    path = write_mp4(_frames(), tmp_path / "video.mp4", 8.0, mp4_tags(record))
    assert read_mp4_record(path) == record
    assert "synthetic video" in read_mp4_tags(path)["title"]
    ffprobe = shutil.which("ffprobe")
    if ffprobe:  # an independent reader of the container tags
        probed = subprocess.run(
            [ffprobe, "-v", "error", "-show_entries", "format_tags", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(json.loads(probed.stdout)["format"]["tags"]["comment"]) == record


def test_c2pa_reader_validates_and_finds_one_changed_byte(tmp_path: Path) -> None:
    from worldsim.provenance.embedded import mp4_tags

    identity = local_test_identity(tmp_path / "home")
    record = _record(generative=True)
    video = write_mp4(_frames(), tmp_path / "video.mp4", 8.0, mp4_tags(record))
    credentials.sign_file(video, record, identity, title="clip: video", scene_sha256="ab" * 32)
    # c2pa-python's own reader, with no worldsim code in between
    with c2pa.Reader("video/mp4", io.BytesIO(video.read_bytes())) as reader:
        assert reader.get_validation_state() == "Valid"
        manifest = reader.get_active_manifest()
    labels = [assertion["label"] for assertion in manifest["assertions"]]
    assert "org.worldsim.record" in labels and "org.worldsim.scene" in labels
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"][
        "actions"
    ]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert credentials.verify_file(video, identity.ca_certificate).state == "Trusted"
    # one byte of the coded pictures changed: the hard binding fails
    data = bytearray(video.read_bytes())
    mdat = data.index(b"mdat")
    data[mdat + 64] ^= 0x01
    video.write_bytes(bytes(data))
    with c2pa.Reader("video/mp4", io.BytesIO(bytes(data))) as reader:
        assert reader.get_validation_state() == "Invalid"
    result = credentials.verify_file(video)
    assert result.state == "Invalid" and any("mismatch" in failure for failure in result.failures)


def test_user_identity_is_used_and_a_mismatched_certificate_is_refused(tmp_path: Path) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)

    def certificate(subject: str, key, issuer_key, issuer: str, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=7300))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        )
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
        if not ca:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Studio CA", ca_key, ca_key, "Studio CA", ca=True)
    leaf = certificate("Studio render farm", leaf_key, ca_key, "Studio CA", ca=False)
    pem = serialization.Encoding.PEM
    key_file, cert_file = tmp_path / "signer.key", tmp_path / "chain.pem"
    key_file.write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    identity = load_identity(key_file, cert_file)
    assert identity.algorithm == "es256" and not identity.is_test
    image = tmp_path / "sheet.png"
    image.write_bytes(png_bytes(_frames(1)[0]))
    credentials.sign_file(image, _record(), identity, title="sheet")
    result = credentials.verify_file(image)
    assert result.valid and "Studio render farm" in result.signer and not result.test_identity
    other = tmp_path / "other.key"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(AssetError, match=r"chain\.pem: the first certificate does not belong"):
        load_identity(other, cert_file)
    with pytest.raises(AssetError, match=r"missing\.key: cannot read the signing key"):
        load_identity(tmp_path / "missing.key", cert_file)


def _tiny_scene() -> ws.Scene:
    scene = ws.Scene(name="prov", seed=3, fps=8, num_frames=4, resolution=[32, 24])
    scene.add(ws.Entity(name="ground", semantic_class="ground", mesh=ws.Mesh(type="plane", size=[8, 8])))
    scene.add(ws.Entity(name="box", semantic_class="box", mesh=ws.Mesh(type="box", size=[1, 1, 1])))
    scene.cameras = [ws.Camera(name="cam", fov_deg=60, position=[3, -3, 2], look_at=[0, 0, 0.5])]
    return scene


def test_render_stamps_every_output_and_the_cli_reports_it(tmp_path: Path) -> None:
    from worldsim.render import render

    out = tmp_path / "clip"
    render(_tiny_scene(), renderer="flat", out=out, progress=False)
    metadata = json.loads((out / "metadata.json").read_text())
    record = metadata["settings"]["provenance"]
    assert record["renderer"] == "flat" and record["synthetic"] and not record["generative"]
    # each frame's record is keyed to its own inputs (issue 22), not to the whole scene's digest
    digests = json.loads((out / "frame_inputs.json").read_text())["rgb"]["digests"]
    for frame in range(4):
        assert read_png_record(out / "rgb" / f"{frame:05d}.png") == frame_record(
            record, frame, digests[frame]
        )
    assert read_mp4_record(out / "video.mp4") == record
    for name in ("video.mp4", "contact_sheet.png"):
        assert credentials.verify_file(out / name).valid

    frames_before = {path.name: path.read_bytes() for path in (out / "rgb").glob("*.png")}
    (out / "rgb" / "00002.png").unlink()
    render(_tiny_scene(), renderer="flat", out=out, progress=False)  # resume
    assert {path.name: path.read_bytes() for path in (out / "rgb").glob("*.png")} == frames_before

    assert _run_cli("provenance", str(out)).returncode == 0
    reported = _run_cli("provenance", "--json", str(out / "video.mp4"))
    assert json.loads(reported.stdout)["credentials"]["test_identity"] is True
    data = bytearray((out / "video.mp4").read_bytes())
    data[data.index(b"mdat") + 40] ^= 0xFF
    (out / "video.mp4").write_bytes(bytes(data))
    tampered = _run_cli("provenance", str(out / "video.mp4"))
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert "Invalid" in tampered.stdout + tampered.stderr
    plain = tmp_path / "photo.png"
    plain.write_bytes(png_bytes(_frames(1)[0]))
    assert _run_cli("provenance", str(plain)).returncode == 2
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    assert _run_cli("provenance", str(tmp_path / "broken.png")).returncode == 2


def test_guidance_only_clip_says_no_renderer(tmp_path: Path) -> None:
    from worldsim.render import render

    out = tmp_path / "labels"
    render(_tiny_scene(), out=out, guidance_only=True, progress=False)
    record = json.loads((out / "metadata.json").read_text())["settings"]["provenance"]
    assert record["renderer"] is None and record["digital_source_type"] == ALGORITHMIC_MEDIA
    assert read_png_record(out / "contact_sheet.png") == record
