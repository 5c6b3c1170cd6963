"""The kill -9 fault suite (benchmarks/faults_kill.py) against a real `umkm-bot run`, with 3 kills."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_POSTGRES

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "faults_kill.py"


def test_kill_9_loses_no_answer_and_no_reply() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--kills", "3", "--chats", "12"],
                            capture_output=True, text=True, timeout=180)
    if "skipped" in result.stdout and not REQUIRE_POSTGRES:
        pytest.skip(result.stdout.strip())
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("faults kill -9"))
    assert "3 kills" in line and "answers lost 0," in line and "chats out of order 0," in line, line
    assert re.search(r"replies lost 0 of [1-9]", line), line
    delay = float(re.search(r"worst reply delay after a restart ([0-9.]+) s", line).group(1))  # type: ignore[union-attr]
    assert delay <= 10, line
