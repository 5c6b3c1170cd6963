"""Two processes starting at once on an empty PostgreSQL database both come up (an advisory lock orders them)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from tests.conftest import POSTGRES_URL, _drop_schema, _postgres_or_skip

UPGRADE = """
import asyncio, sys
from storage.db import Database
async def main():
    db = Database(sys.argv[1], schema=sys.argv[2])
    try:
        await db.upgrade()
    finally:
        await db.dispose()
asyncio.run(main())
"""


@pytest.mark.postgres
async def test_two_processes_migrate_an_empty_schema_at_once() -> None:
    for _ in range(3):
        schema = f"t_{uuid.uuid4().hex[:12]}"
        await (await _postgres_or_skip(schema)).dispose()
        try:
            processes = [subprocess.Popen([sys.executable, "-c", UPGRADE, POSTGRES_URL, schema],
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
            outputs = [p.communicate(timeout=120)[0].decode(errors="replace") for p in processes]
            assert [p.returncode for p in processes] == [0, 0], outputs
        finally:
            await _drop_schema(schema)
