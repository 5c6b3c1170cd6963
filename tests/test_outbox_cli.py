"""`umkm-bot outbox failed` and `outbox retry`: given-up messages are visible and can be queued again."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

from tests.test_cli import Invoke
from tests.test_cli import cli as cli  # noqa: F401  (the fixture)


def add_failed(tmp_path: Path, text: str) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "umkm.db")) as conn:
        conn.execute("INSERT INTO outboxmessage (channel, address, payload, status, attempts, next_attempt_at, "
                     "created_at, last_error, parts_sent) VALUES ('telegram', '42', ?, 'failed', 60, "
                     "'2026-11-01 00:00:00', '2026-11-01 00:00:00', 'TemporaryError: down', 0)",
                     (json.dumps({"text": text}),))
        conn.commit()


def statuses(tmp_path: Path) -> list[tuple[int, str, int]]:
    with contextlib.closing(sqlite3.connect(tmp_path / "umkm.db")) as conn:
        return list(conn.execute("SELECT id, status, attempts FROM outboxmessage ORDER BY id"))


def test_failed_messages_are_listed_and_queued_again(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    assert cli("db", "upgrade").exit_code == 0
    assert "No failed messages" in cli("outbox", "failed").output
    add_failed(tmp_path, "Produk Anda disetujui")
    add_failed(tmp_path, "Pengajuan baru")
    listed = cli("outbox", "failed").output
    assert "#1 telegram:42" in listed and "Produk Anda disetujui" in listed and "TemporaryError: down" in listed
    assert cli("outbox", "retry").exit_code == 2
    assert "1 message(s) queued again" in cli("outbox", "retry", "2").output
    assert statuses(tmp_path) == [(1, "failed", 60), (2, "pending", 0)]
    assert "1 message(s) queued again" in cli("outbox", "retry", "--all").output
    assert statuses(tmp_path) == [(1, "pending", 0), (2, "pending", 0)]
