"""``DIR/manifest.jsonl``: one JSON line per finished clip of a dataset (done or failed).

Only the driver writes it: each line is appended and flushed to disk as its clip finishes, so an
interrupted run keeps what it finished; a clip finished again (a failed one re-run) replaces its
entry, and ``compact`` rewrites the file atomically with one line per clip (at the start and the
end of every run), so no id is ever listed twice. A torn last line (a crash while appending) is
ignored when read.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from worldsim.clip.atomic import write_text

DONE = "done"
FAILED = "failed"


@dataclass(frozen=True)
class ManifestEntry:
    """One clip: ``id`` (``<stem>-<seed>``, its folder under ``clips/``), the scene stem, seed,
    frame count, seconds its last attempt took, ``status`` (``done`` / ``failed``), error, and the
    CPU seconds of the attempt's worker process."""

    id: str
    scene: str
    seed: int
    frames: int
    seconds: float
    status: str
    error: str | None = None
    cpu_seconds: float = 0.0

    def to_line(self) -> str:
        return json.dumps(asdict(self), sort_keys=False) + "\n"


class Manifest:
    """The entries of a dataset's manifest file, by clip id (the last line of an id wins)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.entries: dict[str, ManifestEntry] = {}
        self.lines_read = 0
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                entry = _parse(line)
                if entry is not None:
                    self.entries[entry.id] = entry
                    self.lines_read += 1

    def is_done(self, clip_id: str) -> bool:
        entry = self.entries.get(clip_id)
        return entry is not None and entry.status == DONE

    def append(self, entry: ManifestEntry) -> None:
        """Record ``entry`` (flushed to disk before this returns)."""
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(entry.to_line())
            handle.flush()
            os.fsync(handle.fileno())
        self.entries[entry.id] = entry

    def compact(self) -> None:
        """Rewrite the file atomically with one line per clip, sorted by id."""
        text = "".join(self.entries[key].to_line() for key in sorted(self.entries))
        write_text(self.path, text)
        self.lines_read = len(self.entries)


def _parse(line: str) -> ManifestEntry | None:
    try:
        data = json.loads(line)
        return ManifestEntry(**data)
    except (ValueError, TypeError):
        return None
