"""Static checks: the code type-checks and follows the project's lint rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_mypy_finds_no_type_errors() -> None:
    done = _run(sys.executable, "-m", "mypy", "src")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_finds_nothing_under_the_configured_rules() -> None:
    done = _run(sys.executable, "-m", "ruff", "check", "src", "tests", "bench", "eval")
    assert done.returncode == 0, done.stdout + done.stderr
