"""Layers you can see (style point 1): `crypto/` and `store/` never import `textual` or `tui`, and `crypto/`
imports nothing of `store/`. Each module is imported in a fresh interpreter; `lint-imports` checks the contracts
in pyproject.toml, and is shown to fail on a copy of the code with a forbidden import planted in it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: Alembic's environment script runs a migration when imported; it is only ever loaded by Alembic itself.
NOT_IMPORTABLE_ALONE = {"store.migrations.env"}


def modules_of(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if name not in NOT_IMPORTABLE_ALONE:
            found.append(name)
    return found


MODULES = modules_of("crypto") + modules_of("store")

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "tui", "store", "crypto"))))
"""


@cache
def _launch_all() -> dict[str, subprocess.Popen[str]]:
    """Start every probe at once (each in its own fresh interpreter) so the whole check takes a few seconds."""
    return {
        module: subprocess.Popen(
            [sys.executable, "-c", PROBE, module], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for module in MODULES
    }


def imported_by(module: str) -> set[str]:
    proc = _launch_all()[module]
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return set(json.loads(out))


def test_the_module_list_is_not_empty() -> None:
    assert {"crypto.kdf", "crypto.slot", "store.service", "store.db", "store.demo"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_neither_textual_nor_tui(module: str) -> None:
    loaded = imported_by(module)
    assert module in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "tui")}, f"{module} pulls in the UI"
    if module.startswith("crypto"):
        assert not {m for m in loaded if m.split(".")[0] == "store"}, f"{module} reaches up into store/"


def run_lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_lint_imports_passes() -> None:
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("crypto/errors.py", "import textual", "store and crypto never import textual BROKEN"),
        ("store/vocab.py", "import tui.cli", "Layers: tui -> store -> crypto BROKEN"),
        ("crypto/kdf.py", "import store.errors", "Layers: tui -> store -> crypto BROKEN"),
    ],
)
def test_lint_imports_catches_a_planted_violation(tmp_path: Path, module: str, planted: str, broken: str) -> None:
    """The contracts bite: the same check on a copy of the code with one forbidden import fails."""
    for name in ("tui", "store", "crypto"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / module).open("a", encoding="utf-8") as fh:
        fh.write(f"\n{planted}  # planted by the test\n")
    result = run_lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout
    assert broken in result.stdout
