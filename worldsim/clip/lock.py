"""One writer per clip folder: an advisory ``flock`` on ``<clip>/.lock`` while a render writes it.

The kernel releases a ``flock`` when its holder's process ends however it ends (SIGKILL included),
so a killed render's folder is free again at once and the next run resumes it without clean-up;
a lock file left behind by such a run holds nothing and is removed when the next holder finishes.
The file records the holder's pid and host for the refusal message. ``flock`` is local to one
machine (and advisory: only worldsim's writers take it); renders into one folder from two machines
over a network file system are not detected.
"""

from __future__ import annotations

import functools
import inspect
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from worldsim.clip.metadata import ClipFolderError

LOCK_NAME = ".lock"
Result = TypeVar("Result")


class ClipLockedError(ClipFolderError):
    """Another process is writing into the clip folder."""


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return "another process"
    return text or "another process"


@contextmanager
def clip_lock(root: str | Path) -> Iterator[Path]:
    """Hold the clip folder ``root`` (created if missing) for the ``with`` block; yields the lock
    file. Raises ClipLockedError at once (never waits) when another process holds it."""
    import fcntl

    root = Path(root)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_NAME
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise ClipLockedError(
                f"{root}: {_holder(path)} is rendering into this folder; wait for it to finish "
                "(then run again to render what is missing) or choose another --out"
            ) from None
        # A holder that finished removes the file after we opened it: our lock is then on a
        # file nobody else will open, so take the one now at the path.
        try:
            same = os.path.samestat(os.fstat(descriptor), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(descriptor)
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        yield path
    finally:
        path.unlink(missing_ok=True)  # while still locked, so no one can lock the old file
        os.close(descriptor)
        if created and not any(root.iterdir()):
            root.rmdir()  # a run refused before writing anything leaves no folder behind


def holding_clip_lock(folder_argument: str) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Decorate a function that writes the clip folder named by its argument ``folder_argument``
    so that it runs holding ``clip_lock`` on that folder."""

    def decorate(function: Callable[..., Result]) -> Callable[..., Result]:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def locked(*args: Any, **kwargs: Any) -> Result:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            with clip_lock(bound.arguments[folder_argument]):
                return function(*args, **kwargs)

        return locked

    return decorate
