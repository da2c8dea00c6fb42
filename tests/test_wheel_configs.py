"""configs/ ships in the wheel: an installed worldsim (no checkout on the path) finds its YAML
defaults through ``config_io.config_path``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECK = """
import sys
from pathlib import Path
from worldsim.config_io import CONFIG_DIR
from worldsim.clip.config import load_render_config
from worldsim.scene.validation import LIMITS_FILE
from renderers.reference.options import DEFAULT_OPTIONS_PATH
from renderers.diffusion.options import load_diffusion_options
assert not str(CONFIG_DIR).startswith(sys.argv[1]), CONFIG_DIR
assert LIMITS_FILE.is_file() and DEFAULT_OPTIONS_PATH.is_file(), (LIMITS_FILE, DEFAULT_OPTIONS_PATH)
assert (CONFIG_DIR / "adapters" / "wan_vace.yaml").is_file()
print(load_render_config().renderer, load_diffusion_options().window, CONFIG_DIR)
"""


@pytest.mark.slow
def test_an_installed_wheel_finds_its_configs(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    ignored = shutil.ignore_patterns(".git", ".venv*", "out", "runs", "build", "*.egg-info", "__pycache__")
    shutil.copytree(REPO, source, symlinks=True, ignore=ignored)
    wheels, target = tmp_path / "wheels", tmp_path / "installed"
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(wheels)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("worldsim-*.whl")
    install = [sys.executable, "-m", "pip", "install", str(wheel), "--no-deps", "-q", "--target", str(target)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    checked = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r})\n{CHECK}", str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr[-2000:]
    renderer, window, folder = checked.stdout.split()
    assert (renderer, window) == ("diffusion", "8")
    assert Path(folder).is_relative_to(target)
