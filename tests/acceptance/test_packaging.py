"""The wheel carries the schemas: an installed osreplay validates from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted(path.name for path in (ROOT / "schemas").glob("*.json"))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_ships_the_schemas_and_validates_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    built = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "-w", str(dist), str(ROOT), cwd=tmp_path,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("osreplay-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert SCHEMAS and all(f"osreplay/schemas/{name}" in names for name in SCHEMAS)
    assert {"osreplay/scenario/stats.py", "osreplay/console/timeline_page.py"} <= set(names)

    # A fresh environment that sees the dependencies but not the checkout.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = run(
        str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
        str(wheel),
        cwd=tmp_path,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fixture = ROOT / "fixtures" / "keystone-login-failure.ndjson"
    result = run(str(env_dir / "bin" / "osreplay"), "validate", str(fixture), cwd=elsewhere)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 invalid" in result.stdout
    stats = run(str(env_dir / "bin" / "osreplay"), "stats", str(fixture), cwd=elsewhere)
    assert stats.returncode == 0 and stats.stdout.startswith("3 records"), stats.stderr
    where = run(str(python), "-c", "import osreplay; print(osreplay.__file__)", cwd=elsewhere)
    assert str(env_dir) in where.stdout
