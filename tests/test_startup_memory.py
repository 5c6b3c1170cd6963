"""What a process loads at start: libraries only some deployments need stay unloaded until used (each is
10-40 MB in every process, and RSS <= 150 MB is a target: benchmarks/memory.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
import bot.cli, bot.service.web
from bot.domain import regions
from lokal import wilayah
regions.find_kabkota("lampung utara")  # the region table, as an owner's answer or a console page builds it
heavy = ("aiobotocore", "openpyxl", "pywa", "pywa_async", "holidays")
print(json.dumps({"loaded": [m for m in heavy if m in sys.modules], "lokal_tables": sorted(wilayah._cache)}))
"""


def test_a_telegram_process_loads_neither_s3_nor_export_nor_whatsapp_nor_village_data() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == []
    assert "desa" not in seen["lokal_tables"]  # lokal's 83,762 villages (~30 MB) are not read for the table
