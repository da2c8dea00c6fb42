"""Error types carrying the file, key path and reason a user needs to fix their input."""

from __future__ import annotations


class WorldsimError(Exception):
    """Base class of every error worldsim raises on purpose."""


class SceneError(WorldsimError):
    """A scene (YAML file or Python model) is invalid.

    ``issues`` lists every problem found as ``(file, key_path, reason)``; the message shows them all.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        key_path: str = "",
        issues: list[tuple[str | None, str, str]] | None = None,
    ) -> None:
        self.issues = issues if issues is not None else [(file, key_path, reason)]
        self.file = self.issues[0][0]
        self.key_path = self.issues[0][1]
        self.reason = self.issues[0][2]
        super().__init__("\n".join(format_issue(*issue) for issue in self.issues))


class SceneLimitError(SceneError):
    """A scene file is over a resource limit of ``configs/limits.yaml`` (size, string length,
    nesting depth, alias expansion, entity count); refused before the expensive work starts."""


class AssetError(WorldsimError):
    """A mesh, texture or weight file is missing, unreadable or corrupt."""

    def __init__(self, reason: str, *, file: str | None = None, key_path: str = "") -> None:
        self.file, self.key_path, self.reason = file, key_path, reason
        super().__init__(format_issue(file, key_path, reason))


class RenderError(WorldsimError):
    """A renderer could not produce its output (bad settings, missing extra, ...)."""


class UnknownOptionError(RenderError):
    """A renderer was given an option it does not have; ``option`` names it, ``known`` lists the
    renderer's options (so the CLI can say which renderer takes it instead)."""

    def __init__(self, message: str, *, option: str, known: tuple[str, ...] = ()) -> None:
        self.option, self.known = option, known
        super().__init__(message)


class MissingExtraError(WorldsimError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str, original: BaseException | None = None) -> None:
        detail = f" ({original})" if original is not None else ""
        super().__init__(
            f"'{module}' is not installed{detail}; install it with: pip install 'worldsim[{extra}]'"
        )


class ExportError(WorldsimError):
    """A clip or dataset folder cannot be exported as asked (unknown format or option, a missing
    folder or map the format needs); ``file`` names the path, ``key_path`` the format or option."""

    def __init__(self, reason: str, *, file: str | None = None, key_path: str = "") -> None:
        self.file, self.key_path, self.reason = file, key_path, reason
        super().__init__(format_issue(file, key_path, reason))


def format_issue(file: str | None, key_path: str, reason: str) -> str:
    """Format one problem as ``file: key.path: reason``, on one line: characters that would break
    it (newlines, carriage returns, other control characters a scene's strings may hold) are
    written as escapes."""
    parts = [part for part in (file, key_path) if part]
    return one_line(": ".join([*parts, reason]))


def one_line(text: str) -> str:
    """``text`` with every non-printable character but the space as a Python escape (``\\r``)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
