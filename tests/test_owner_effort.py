"""The owner-effort benchmark stays within its targets (it is the issue's measure of the owner journey)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from bot.settings import ROOT

spec = importlib.util.spec_from_file_location("owner_effort", ROOT / "benchmarks" / "owner_effort.py")
assert spec is not None and spec.loader is not None
owner_effort = importlib.util.module_from_spec(spec)
sys.modules["owner_effort"] = owner_effort  # its dataclasses look their module up
spec.loader.exec_module(owner_effort)


async def test_owner_messages_within_targets(tmp_path: Path) -> None:
    results = await owner_effort.run(tmp_path)
    assert [(r.name, r.reached) for r in results] == [
        ("first product, with the business profile", True),
        ("second product of the same kind", True),
        ("one-field revision", True),
    ]
    assert [(r.messages, r.target) for r in results if r.messages > r.target] == []
