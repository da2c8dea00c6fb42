"""Provenance: every appearance output says it is synthetic and how it was made.

- ``record``: the deterministic JSON record (renderer, generative or not, weights and their
  sha256, scene digest, seed, frame, version) and the IPTC digital source types;
- ``embedded``: the record in PNG text chunks (+ XMP) and MP4 metadata tags, and reading it back;
- ``identity``: the signing key and certificate chain (the user's, or a local test identity);
- ``credentials``: C2PA manifests (``c2pa-python``, the ``provenance`` extra): sign and validate.
"""
