"""Two processes starting at once on an empty PostgreSQL database both come up (an advisory lock orders them)."""

from __future__ import annotations

import asyncio
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
            processes = [await asyncio.create_subprocess_exec(
                sys.executable, "-c", UPGRADE, POSTGRES_URL, schema,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT) for _ in range(2)]
            outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 120)
            assert [p.returncode for p in processes] == [0, 0], [out.decode(errors="replace") for out, _ in outputs]
        finally:
            await _drop_schema(schema)
