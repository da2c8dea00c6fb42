"""Seed ranges of datasets: ``"A:B"`` (A included, B excluded, like ``--frames``), ``"N"`` or a list."""

from __future__ import annotations

from collections.abc import Sequence

from worldsim.errors import DatasetError


def parse_seeds(
    seeds: str | int | Sequence[int], *, file: str | None = None, key_path: str = "seeds"
) -> list[int]:
    """The seeds of ``seeds``: ``"A:B"`` -> A, A+1, ..., B-1; ``"N"`` or N -> [N]; a list as is.

    Raises DatasetError (naming ``file`` and ``key_path``) for an empty or malformed range, a
    negative seed or a repeated one.
    """
    if isinstance(seeds, bool):
        raise DatasetError(
            f"expected A:B, an integer or a list of integers, got {seeds!r}", file=file, key_path=key_path
        )
    if isinstance(seeds, int):
        values = [seeds]
    elif isinstance(seeds, str):
        start_text, separator, stop_text = seeds.partition(":")
        try:
            start = int(start_text)
            stop = int(stop_text) if separator else start + 1
        except ValueError:
            raise DatasetError(
                f"{seeds!r} is not A:B (integers, B excluded) or N", file=file, key_path=key_path
            ) from None
        if stop <= start:
            raise DatasetError(
                f"{seeds!r} is an empty range: B must be greater than A (A:B gives A to B-1)",
                file=file,
                key_path=key_path,
            )
        values = list(range(start, stop))
    else:
        values = list(seeds)
        if not values:
            raise DatasetError("the seed list is empty", file=file, key_path=key_path)
        for index, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, int):
                raise DatasetError(
                    f"expected an integer, got {value!r}", file=file, key_path=f"{key_path}[{index}]"
                )
    negative = [value for value in values if value < 0]
    if negative:
        raise DatasetError(f"seeds must be >= 0, got {negative[0]}", file=file, key_path=key_path)
    if len(set(values)) != len(values):
        raise DatasetError("a seed is listed twice", file=file, key_path=key_path)
    return values
