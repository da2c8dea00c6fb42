"""Fuzzing the example scenes through the CLI: whatever a scene file holds, ``worldsim validate`` and
``worldsim simulate`` answer with exit 0, 1 or 2 and messages naming the file (and the key), never
a traceback or a hang; and what ``validate`` passes, ``simulate`` runs (issue 18).

Every example scene (``scenes/*.yaml``) is mutated one to three times at random places: a key or
item deleted, duplicated, retyped, set to an extreme number, NaN or infinity, to unicode text,
renamed, or buried in deep nesting; sometimes the YAML text is cut short. The run is derandomized
(the same cases every time) with a fixed number of examples, so it is bounded in CI.
"""

from __future__ import annotations

import copy
import io
import math
import re
import signal
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from worldsim.cli.main import main  # noqa: E402

SCENES = Path(__file__).resolve().parents[1] / "scenes"
EXAMPLES = sorted(SCENES.glob("*.yaml"))
FUZZ_EXAMPLES = 300
"""Cases per run (derandomized: the same cases every run); under a minute on 2 CPU cores."""
HANG_GUARD_S = 10
"""CPU seconds per case, both commands together: generous, it catches hangs (a busy loop burns
CPU) and times nothing; CPU rather than wall time, so other work on the machine cannot trip it."""
WALL_GUARD_S = 120
"""Wall seconds per case: catches a case blocked without burning CPU."""
FUZZ_LIMITS = (
    "max_width: 512\nmax_height: 512\nmax_frames: 120\nmax_entities: 400\n"
    "max_physics_steps: 100000\nmax_primitive_triangles: 200000\n"
)
"""Limits for the fuzz run (configs/limits.yaml's keys): above every example scene's needs, low
enough that a legitimately long clip (a valid 100000-frame scene takes minutes) is refused rather
than mistaken for a hang. The limits themselves are part of what is fuzzed."""
FILE_LEVEL_REASONS = (
    "the scene file is empty",
    "a scene file must be a mapping",
    "file size",
    "invalid YAML",
    "line ",
    "cannot read scene file",
)
"""Reasons about the file as a whole: they name the file but no key."""
KEY_PATH = re.compile(
    r"(?:[A-Za-z_][\w-]*|\[\d+\]|\[(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\])"
    r"(?:\.[A-Za-z_][\w-]*|\[\d+\]|\[(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\])*: \S"
)
"""A key path as ``worldsim.scene.schema.join_path`` writes them, then the reason."""

EXTREME_NUMBERS = [
    0,
    -1,
    1,
    -0.0,
    1e-308,
    1e308,
    -1e308,
    2**63,
    -(2**63),
    10**30,
    1e9,
    0.5,
    7,
    1e7,
    -1e-7,
    65536,
]
NON_FINITE = [math.nan, math.inf, -math.inf]


class CaseTimeout(BaseException):
    """Raised by the hang guard (a BaseException, so no ``except Exception`` in the code swallows it)."""


def _absolute_files(data: Any) -> Any:
    """Mesh ``file`` paths made absolute, so a mutated copy written elsewhere finds the assets."""
    if isinstance(data, dict):
        return {
            key: str(SCENES / value) if key == "file" and isinstance(value, str) else _absolute_files(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_absolute_files(item) for item in data]
    return data


SOURCES = {path.stem: _absolute_files(yaml.safe_load(path.read_text(encoding="utf-8"))) for path in EXAMPLES}


def _places(data: Any) -> Iterator[tuple[Any, Any]]:
    """Every ``(container, key)`` of the document, depth first."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield data, key
            yield from _places(value)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield data, index
            yield from _places(value)


any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(-5, 5), max_size=5),
    st.dictionaries(st.text(max_size=6), st.integers(-5, 5), max_size=3),
)
unicode_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=24)


@st.composite
def mutated_scene(draw: st.DrawFn) -> tuple[str, str]:
    """``(example name, YAML text)`` of an example scene after one to three mutations."""
    name = draw(st.sampled_from(sorted(SOURCES)))
    data = copy.deepcopy(SOURCES[name])
    for _ in range(draw(st.integers(1, 3))):
        places = list(_places(data))
        if not places:
            break
        numbers = [(c, k) for c, k in places if isinstance(c[k], int | float) and not isinstance(c[k], bool)]
        if numbers and draw(st.booleans()):  # half the mutations hit a number: most fields are numbers
            places = numbers
        container, key = draw(st.sampled_from(places))
        operation = draw(
            st.sampled_from(
                ["delete", "duplicate", "retype", "extreme", "non_finite", "unicode", "rename", "deep"]
            )
        )
        value = container[key]
        if operation == "delete":
            del container[key]
        elif operation == "duplicate":
            if isinstance(container, list):
                container.insert(key, copy.deepcopy(value))
            else:
                container[key] = [copy.deepcopy(value), copy.deepcopy(value)]
        elif operation == "retype":
            container[key] = draw(any_value)
        elif operation == "extreme":
            container[key] = draw(st.sampled_from(EXTREME_NUMBERS))
        elif operation == "non_finite":
            container[key] = draw(st.sampled_from(NON_FINITE))
        elif operation == "unicode":
            container[key] = draw(unicode_text)
        elif operation == "rename" and isinstance(container, dict):
            container[draw(unicode_text)] = container.pop(key)
        elif operation == "deep":
            for _ in range(draw(st.integers(1, 80))):
                value = [value] if draw(st.booleans()) else {"x": value}
            container[key] = value
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if draw(st.integers(0, 9)) == 0:  # now and then, a file cut short
        text = text[: draw(st.integers(0, len(text)))]
    return name, text


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """``worldsim ARGS`` in this process: (exit code, stdout, stderr) as a user would see them."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def check_messages(command: str, code: int, err: str, path: Path) -> None:
    assert code in (0, 1, 2), f"{command}: exit {code}\n{err}"
    assert "Traceback" not in err, f"{command}: traceback\n{err}"
    if code == 0:
        return
    problems = [line for line in err.splitlines() if line.strip() and not line.startswith("warning")]
    assert problems, f"{command}: exit {code} without a message"
    for line in problems:
        text = line.removeprefix("error: ")
        assert text.startswith(f"{path}: "), f"{command}: message does not name the file: {line!r}"
        rest = text[len(f"{path}: ") :]
        key = KEY_PATH.match(rest)
        assert key or rest.startswith(FILE_LEVEL_REASONS), f"{command}: no key in {line!r}"


@pytest.fixture(scope="module")
def fuzz_limits() -> Iterator[None]:
    """configs/limits.yaml replaced by ``FUZZ_LIMITS`` for this module."""
    from worldsim.scene import limits

    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "limits.yaml"
        file.write_text(FUZZ_LIMITS, encoding="utf-8")
        original = limits.LIMITS_FILE
        limits.LIMITS_FILE = file
        limits.load_limits.cache_clear()
        try:
            yield
        finally:
            limits.LIMITS_FILE = original
            limits.load_limits.cache_clear()


def check_case(name: str, text: str) -> None:
    """Run ``validate`` and ``simulate`` on the scene text; AssertionError naming what went wrong."""

    def expire(signum: int, frame: object) -> None:
        raise CaseTimeout(f"{name}: no answer within {HANG_GUARD_S} CPU s / {WALL_GUARD_S} s")

    with tempfile.TemporaryDirectory() as folder:
        path = (Path(folder) / f"{name}.yaml").resolve()
        path.write_text(text, encoding="utf-8")
        previous = {number: signal.signal(number, expire) for number in (signal.SIGPROF, signal.SIGALRM)}
        signal.setitimer(signal.ITIMER_PROF, HANG_GUARD_S)
        signal.alarm(WALL_GUARD_S)
        try:
            validate_code, _, validate_err = run_cli(["validate", str(path)])
            simulate_code, _, simulate_err = run_cli(
                ["simulate", str(path), "--out", f"{folder}/out", "--quiet"]
            )
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.alarm(0)
            for number, handler in previous.items():
                signal.signal(number, handler)
        check_messages("validate", validate_code, validate_err, path)
        check_messages("simulate", simulate_code, simulate_err, path)
        if validate_code == 0:
            assert simulate_code == 0, f"validate passed what simulate refuses:\n{simulate_err}"
        if simulate_code == 0:
            from worldsim.state import Trajectory

            trajectory = Trajectory.load(Path(folder) / "out" / "trajectory.json")
            assert np.isfinite(trajectory.object_to_world).all(), "simulate wrote non-finite poses"


@pytest.mark.slow
@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],  # no "explain": it traces every line
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(case=mutated_scene())
def test_mutated_example_scenes_fail_cleanly(fuzz_limits: None, case: tuple[str, str]) -> None:
    check_case(*case)


def test_the_fuzzer_covers_every_example_scene() -> None:
    assert set(SOURCES) == {path.stem for path in EXAMPLES} and len(SOURCES) >= 10
