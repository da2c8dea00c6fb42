"""``ClipProvenance``: what one render stamps on its outputs (PNG text, MP4 tags, C2PA manifests).

Built once per render by the orchestrator. Content credentials are signed when ``c2pa-python``
is installed (``worldsim[provenance]``) and not switched off: with the user's key and certificate,
else with the local test identity (``identity.test_identity``).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from worldsim.errors import MissingExtraError
from worldsim.provenance import credentials
from worldsim.provenance.embedded import mp4_tags, png_text
from worldsim.provenance.identity import SigningIdentity, load_identity, local_test_identity
from worldsim.provenance.record import frame_record

LOGGER = logging.getLogger(__name__)


class ClipProvenance:
    """Stamps for one clip. ``record``: ``record.clip_record``; ``sign``: write content credentials;
    ``signing_files``: (key, certificate) PEM paths of the user's identity, or None for the test one;
    ``scene_file``: the clip's resolved ``scene.yaml``, whose sha256 the manifests carry;
    ``timestamp_url``: an RFC 3161 timestamp authority (none by default)."""

    def __init__(
        self,
        record: dict[str, Any],
        *,
        sign: bool = True,
        signing_files: tuple[str | Path, str | Path] | None = None,
        scene_file: Path | None = None,
        timestamp_url: str | None = None,
    ) -> None:
        self.record = record
        self._signing_files = signing_files
        self._identity: SigningIdentity | None = None
        self._scene_file = scene_file
        self._timestamp_url = timestamp_url
        self.signs = sign and credentials.available()
        if signing_files is not None:
            self._identity = load_identity(*signing_files)  # fail fast on a bad key, before rendering
            if not self.signs:
                raise MissingExtraError("c2pa", credentials.EXTRA)
        elif sign and not self.signs:
            LOGGER.info("content credentials skipped: install worldsim[provenance] (c2pa-python) to sign")

    frame_inputs: list[str] | None = None
    """Per frame, the content address of its inputs (set by the orchestrator): frame records are
    keyed to it (``record.frame_record``)."""

    def frame_text(self, frame: int) -> dict[str, str]:
        """PNG text chunks of appearance frame ``frame``."""
        inputs = self.frame_inputs[frame] if self.frame_inputs and frame < len(self.frame_inputs) else None
        return png_text(frame_record(self.record, frame, inputs))

    def clip_text(self) -> dict[str, str]:
        """PNG text chunks of a whole-clip image (the contact sheet)."""
        return png_text(self.record)

    def video_tags(self) -> dict[str, str]:
        """MP4 tags of the clip's videos."""
        return mp4_tags(self.record)

    def sign(self, path: Path, title: str) -> None:
        """Embed signed content credentials in ``path`` (a PNG or MP4), when signing is on."""
        if not self.signs:
            return
        if self._identity is None:
            self._identity = local_test_identity()
        scene = self._scene_file
        scene_sha256 = hashlib.sha256(scene.read_bytes()).hexdigest() if scene and scene.is_file() else None
        credentials.sign_file(
            path,
            self.record,
            self._identity,
            title=title,
            scene_sha256=scene_sha256,
            timestamp_url=self._timestamp_url,
        )
