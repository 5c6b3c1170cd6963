"""`umkm-bot broadcast`: --dry-run counts per channel and sends nothing; without it, one outbox row per owner and
the siaran's id; mistakes exit 2 with what to fix."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.db import Database
from storage.models import OutboxMessage, Siaran
from tests.conftest import count_rows
from tests.test_cli import Invoke, cli  # noqa: F401  (the CLI fixture: a SQLite file in tmp_path)
from tests.test_siaran import owner


def seed(tmp_path: Path) -> Database:
    async def work() -> None:
        db = Database(f"sqlite:///{tmp_path / 'umkm.db'}")
        await db.upgrade()
        await owner(db, "tg-1", channel="telegram")
        await owner(db, "tg-2", channel="telegram", status="approved")
        await owner(db, "wa", channel="whatsapp", seen=None)
        await owner(db, "other", channel="telegram", region="32.01")
        await db.dispose()

    asyncio.run(work())
    return Database(f"sqlite:///{tmp_path / 'umkm.db'}")


def rows(db: Database, model: type) -> int:
    async def work() -> int:
        try:
            return await count_rows(db, model)
        finally:
            await db.dispose()

    return asyncio.run(work())


def test_broadcast_dry_run_then_send(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    db = seed(tmp_path)
    (tmp_path / "pesan.txt").write_text("Pelatihan foto produk, Sabtu 09.00 di aula Dinas.\n", encoding="utf-8")
    dry = cli("broadcast", "--region", "Lampung Utara", "--status", "all", "--text-file", "pesan.txt", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "2 recipient(s): telegram 2; skipped 1: whatsapp_window 1." in dry.output
    assert "Dry run: nothing was sent." in dry.output
    assert rows(db, OutboxMessage) == 0
    sent = cli("broadcast", "--region", "18.03", "--status", "approved", "--text-file", "pesan.txt")
    assert sent.exit_code == 0, sent.output
    assert "1 recipient(s): telegram 1" in sent.output and "Siaran 1 queued" in sent.output
    assert rows(db, OutboxMessage) == 1 and rows(db, Siaran) == 1


def test_broadcast_refuses_mistakes(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    seed(tmp_path)
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "long.txt").write_text("x" * 5000, encoding="utf-8")
    for args, words in ((("--status", "everyone", "--text-file", "long.txt"), "--status must be one of"),
                        (("--status", "all", "--text-file", "missing.txt"), "cannot read"),
                        (("--status", "all", "--text-file", "empty.txt"), "the text file is empty"),
                        (("--status", "all", "--text-file", "long.txt"), "Telegram takes at most")):
        done = cli("broadcast", "--region", "18.03", *args)
        assert done.exit_code == 2 and words in done.output, done.output
