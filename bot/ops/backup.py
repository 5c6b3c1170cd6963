"""`umkm-bot db backup` / `db restore` for the embedded default: the SQLite database (copied with SQLite's
online backup API, so it is consistent while the bot runs) and the photos of a local media folder, in one
.tar.gz. PostgreSQL is backed up with its own tools (pg_dump); see the README.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FORMAT = "umkm-bot-backup/1"
DB_NAME = "umkm.db"
MEDIA = "media"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Report:
    archive: Path
    photos: int
    media: str  # "included", or where the photos live when they are not in the archive


def backup(db_path: Path, media_dir: Path | None, archive: Path, media_elsewhere: str = "") -> Report:
    """Writes `archive` (.tar.gz): a consistent copy of the database, the photos of `media_dir`, a manifest."""
    if not db_path.is_file():
        raise BackupError(f"no database at {db_path}")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="umkm-backup-", dir=archive.parent) as tmp:
        copy = Path(tmp) / DB_NAME
        source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(copy)
        try:
            with target:
                source.backup(target)  # page by page, under a read lock: writers keep going in WAL mode
        finally:
            target.close()
            source.close()
        photos = sorted(p for p in media_dir.glob("*/*") if p.is_file() and not p.name.endswith(".tmp")) \
            if media_dir and media_dir.is_dir() else []
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "database": DB_NAME, "photos": len(photos),
                    "media": "included" if media_dir else f"not included: {media_elsewhere}"}
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = Path(tmp) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(Path(tmp) / "manifest.json", "manifest.json")
            tar.add(copy, DB_NAME)
            for photo in photos:
                tar.add(photo, f"{MEDIA}/{photo.relative_to(media_dir).as_posix()}")  # type: ignore[arg-type]
        os.replace(partial, archive)
    return Report(archive, len(photos), manifest["media"])


def restore(archive: Path, db_path: Path, media_dir: Path | None, force: bool = False) -> Report:
    """Puts the archive's database at `db_path` (replacing one only with `force`) and its photos in `media_dir`."""
    if not archive.is_file():
        raise BackupError(f"no backup file at {archive}")
    if db_path.exists() and not force:
        raise BackupError(f"a database already exists at {db_path}; stop the bot, then restore with --force "
                          f"to replace it")
    with tempfile.TemporaryDirectory(prefix="umkm-restore-") as tmp:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
            manifest = json.loads((Path(tmp) / "manifest.json").read_text())
        except (tarfile.TarError, OSError, ValueError) as exc:
            raise BackupError(f"{archive} is not a umkm-bot backup ({exc})") from exc
        if manifest.get("format") != FORMAT or not (Path(tmp) / DB_NAME).is_file():
            raise BackupError(f"{archive} is not a umkm-bot backup (format {manifest.get('format')!r})")
        _check_database(Path(tmp) / DB_NAME)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        staged = db_path.with_name(db_path.name + ".restoring")
        shutil.copyfile(Path(tmp) / DB_NAME, staged)
        for leftover in (Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):  # the old database's journal
            leftover.unlink(missing_ok=True)
        os.replace(staged, db_path)
        photos = 0
        extracted = Path(tmp) / MEDIA
        if media_dir is not None and extracted.is_dir():
            for photo in extracted.glob("*/*"):
                target = media_dir / photo.relative_to(extracted)
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(photo, target)
                photos += 1
    return Report(archive, photos, manifest.get("media", ""))


def _check_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()
    finally:
        conn.close()
    if not result or result[0] != "ok":
        raise BackupError(f"the database in the backup is damaged ({result})")
