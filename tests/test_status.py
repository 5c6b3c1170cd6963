"""`umkm-bot status`: channels, queues, waiting submissions per region, last error, readiness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.service.status import report
from bot.settings import Settings
from storage.db import Database
from storage.models import Business, ChannelState, OutboxMessage, Owner, Product

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


async def test_status_tells_queues_regions_and_a_paused_channel(database: Database, settings: Settings) -> None:
    async with database.transaction() as session:
        owner = Owner()
        session.add(owner)
        await session.flush()
        business = Business(owner_id=owner.id, nama_usaha="Keripik Bu Sri", region_code="18.03")
        session.add(business)
        await session.flush()
        session.add(Product(business_id=business.id, status="submitted", nama_produk="Keripik"))
        session.add(Product(business_id=business.id, status="draft"))
        session.add(OutboxMessage(channel="telegram", address="1", status="pending",
                                  created_at=NOW - timedelta(minutes=7, seconds=3)))
        session.add(OutboxMessage(channel="telegram", address="2", status="pending", created_at=NOW))
        session.add(OutboxMessage(channel="telegram", address="2", status="failed", created_at=NOW,
                                  last_error="Forbidden: bot was blocked by the user"))
        session.add(OutboxMessage(channel="whatsapp", address="3", status="failed", created_at=NOW,
                                  last_error="131026: Message undeliverable"))
        session.add(ChannelState(channel="telegram", paused_reason="token revoked (401)",
                                 last_error="Unauthorized", last_error_at=NOW - timedelta(hours=2)))
    lines, ready = await report(database, settings.model_copy(update={"telegram_bot_token": "1:x"}), NOW)
    text = "\n".join(lines)
    assert not ready
    assert "Ready: NO\n  - channel telegram paused: token revoked (401)" in text
    assert ("  telegram: configured, PAUSED: token revoked (401); waiting 2 (oldest 7m 3s ago), held 0, failed 1"
            in text)
    assert "    last error 2h 0m ago: Unauthorized" in text
    assert "Submissions waiting for review: 1\n  Kabupaten Lampung Utara, Lampung (18.03): 1" in text
    assert "draft 1, submitted 1" in text
    assert "  whatsapp: not configured here; waiting 0 (oldest -), held 0, failed 1\n" \
        "    last send error: 131026: Message undeliverable" in text


async def test_status_ready_on_an_empty_database(database: Database, settings: Settings) -> None:
    lines, ready = await report(database, settings, NOW)
    assert ready and "Ready: yes" in lines
    assert "  none configured (see README: Telegram setup, WhatsApp setup)" in lines


async def test_status_not_ready_when_the_media_folder_cannot_be_made(database: Database, settings: Settings,
                                                                     tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    lines, ready = await report(database, settings.model_copy(update={"media_dir": tmp_path / "file" / "m"}), NOW)
    assert not ready and "Ready: NO" in lines
    assert any(line.startswith("  - media store unreachable: ") for line in lines), lines
