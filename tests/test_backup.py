"""`db backup` / `db restore`: a backup taken while a conversation runs restores to one where it continues."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.conversation.engine import Engine
from bot.ops.backup import BackupError, backup, restore
from bot.settings import Settings
from storage.db import Database
from storage.models import Product, ProductPhoto
from tests.chat import Network
from tests.conftest import count_rows, make_image
from tests.support.conversations import FOOD_PRODUCT, onboard, play


def _site(root: Path) -> tuple[Database, Settings]:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{root / 'umkm.db'}", media_dir=root / "media")
    return Database(settings.database_url), settings


async def test_backup_while_chatting_restores_to_a_conversation_that_continues(tmp_path: Path) -> None:
    db, settings = _site(tmp_path / "live")
    await db.upgrade()
    owner = Network(Engine(db, settings)).chat("owner-1")
    await onboard(owner)
    await play(owner, FOOD_PRODUCT)
    await owner.photos(make_image(color="red"))
    archive = tmp_path / "backups" / "umkm.tar.gz"
    # The backup runs while the owner keeps sending photos.
    sending = asyncio.gather(*(owner.photos(make_image(color=c)) for c in ("green", "blue")))
    report, _ = await asyncio.gather(asyncio.to_thread(backup, tmp_path / "live" / "umkm.db",
                                                       tmp_path / "live" / "media", archive), sending)
    await owner.photos(make_image(color="yellow"))  # after the backup: not in it
    await db.dispose()
    assert report.photos >= 1 and archive.is_file()

    restored_db, restored = _site(tmp_path / "restored")
    restore(archive, tmp_path / "restored" / "umkm.db", tmp_path / "restored" / "media")
    await restored_db.upgrade()
    photos_then = await count_rows(restored_db, ProductPhoto)
    assert 1 <= photos_then <= 3
    same_owner = Network(Engine(restored_db, restored)).chat("owner-1")
    await same_owner.press("photos:done")
    assert "Ringkasan produk" in same_owner.last and f"{photos_then} foto" in same_owner.last
    await same_owner.tap("Kirim ke Dinas")
    async with restored_db.transaction() as session:
        product = await session.get(Product, 1)
        paths = [p.path for p in (await session.exec(ProductPhoto.__table__.select())).all()]  # type: ignore[attr-defined]
    assert product is not None and product.status == "submitted"
    for path in paths:  # every photo the restored database names is in the restored media folder
        assert (tmp_path / "restored" / "media" / path).is_file()
    await restored_db.dispose()


def test_restore_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    async def make() -> None:
        db, _ = _site(tmp_path / "live")
        await db.upgrade()
        await db.dispose()

    asyncio.run(make())
    archive = tmp_path / "b.tar.gz"
    backup(tmp_path / "live" / "umkm.db", tmp_path / "live" / "media", archive)
    with pytest.raises(BackupError, match="--force"):
        restore(archive, tmp_path / "live" / "umkm.db", None)
    restore(archive, tmp_path / "live" / "umkm.db", None, force=True)
    (tmp_path / "junk.tar.gz").write_bytes(b"not a backup")
    with pytest.raises(BackupError, match="not a umkm-bot backup"):
        restore(tmp_path / "junk.tar.gz", tmp_path / "other.db", None)


def test_cli_backup_restore_and_postgres_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'umkm.db'}")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "data" / "media"))
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    made = runner.invoke(app, ["db", "backup", "backup.tar.gz"])
    assert made.exit_code == 0 and "Backup written to backup.tar.gz" in made.output
    refused = runner.invoke(app, ["db", "restore", "backup.tar.gz"])
    assert refused.exit_code == 2 and "--force" in refused.output
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new' / 'umkm.db'}")
    done = runner.invoke(app, ["db", "restore", "backup.tar.gz"])
    assert done.exit_code == 0 and (tmp_path / "new" / "umkm.db").is_file()
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@db.example/umkm")
    advice = runner.invoke(app, ["db", "backup", "x.tar.gz"])
    assert advice.exit_code == 2 and "pg_dump" in advice.output
