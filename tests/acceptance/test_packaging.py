"""The wheel carries the schemas: an installed osreplay validates from any directory."""

from __future__ import annotations

import importlib.metadata
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


def _outer_site_dirs() -> list[str]:
    """The running interpreter's package directories (its venv's, then the system's)."""
    return [
        entry
        for entry in sys.path
        if Path(entry).name in ("site-packages", "dist-packages") and Path(entry).is_dir()
    ]


def _see_outer_packages(python: Path) -> None:
    """Let ``python`` import the running environment's packages, whatever it is.

    ``system_site_packages`` would show the base interpreter's packages, not those of a
    venv the tests run in. A ``.pth`` line only appends a directory to ``sys.path``: the
    ``.pth`` files inside it (an editable install of this checkout) are not run, so
    ``osreplay`` still comes from the wheel installed in the inner environment.
    """
    site = run(str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
               cwd=python.parent)  # fmt: skip
    outer = "\n".join(_outer_site_dirs()) + "\n"
    (Path(site.stdout.strip()) / "outer-environment.pth").write_text(outer)


def _build_isolation() -> list[str]:
    """Build without isolation when the running environment can (fast, offline); else let
    pip fetch the build backend into a throw-away environment: the tests never need
    setuptools installed."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return []
    return ["--no-build-isolation"] if int(version.split(".")[0]) >= 77 else []


def test_the_wheel_ships_the_schemas_and_validates_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    built = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", *_build_isolation(),
        "-w", str(dist), str(ROOT), cwd=tmp_path,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("osreplay-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert SCHEMAS and all(f"osreplay/schemas/{name}" in names for name in SCHEMAS)
    generated = sorted(
        str(path.relative_to(ROOT / "schemas"))
        for family in ("nova", "ironic")
        for path in (ROOT / "schemas" / family).glob("*/*.json")
    )
    assert generated and all(f"osreplay/schemas/{name}" in names for name in generated)
    assert {"osreplay/scenario/stats.py", "osreplay/console/timeline_page.py"} <= set(names)

    # A fresh environment that sees the dependencies but not the checkout.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _see_outer_packages(python)
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
    nova = ROOT / "fixtures" / "nova-server-boot.ndjson"
    result = run(str(env_dir / "bin" / "osreplay"), "validate", str(nova), cwd=elsewhere)
    assert result.stdout.splitlines() == [  # the object schemas, read from the wheel
        "payload schemas: nova (4 records, 3 object versions)",
        "4 records: 4 valid, 0 invalid, 0 without payload schema, 0 unreadable",
    ], result.stderr
    stats = run(str(env_dir / "bin" / "osreplay"), "stats", str(fixture), cwd=elsewhere)
    assert stats.returncode == 0 and stats.stdout.startswith("3 records"), stats.stderr
    where = run(str(python), "-c", "import osreplay; print(osreplay.__file__)", cwd=elsewhere)
    assert str(env_dir) in where.stdout
