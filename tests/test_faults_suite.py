"""The hostile-input fault suite (benchmarks/faults.py) against a real `umkm-bot run`, in small numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_POSTGRES

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "faults.py"


def test_the_fault_suite_prints_zeros_where_zeros_are_promised() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--replays", "100", "--fuzz", "40", "--timeout", "240"],
                            capture_output=True, text=True, timeout=300)
    if "skipped" in result.stdout and not REQUIRE_POSTGRES:
        pytest.skip(result.stdout.strip())
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    line = result.stdout.strip().splitlines()[-1]
    for figure in ("-> 5xx 0, rows stored 0, platform calls 0", "413/413/413/413", "double effects 0, unanswered 0",
                   "apologies 0"):
        assert figure in line, line
