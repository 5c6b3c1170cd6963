"""Media storage: local folder and S3 (moto's server on loopback): store, read, dedupe by hash, migrate."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.media import photos as media
from bot.settings import Settings
from tests.conftest import make_image
from tests.s3 import S3, s3_server  # noqa: F401  (fixture)


def _settings(tmp_path: Path, **extra: str) -> Settings:
    return Settings(_env_file=None, database_url="sqlite:///unused.db", media_dir=tmp_path / "media", **extra)


async def test_local_store_keeps_todays_layout(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    data = make_image()
    stored = await media.store_photo(data, settings)
    digest = hashlib.sha256(data).hexdigest()
    assert stored.path == f"{digest[:2]}/{digest}.jpg"
    assert (tmp_path / "media" / stored.path).read_bytes() == data
    assert await media.read(stored.path, settings) == data


async def test_s3_store_reads_back_and_stores_once(tmp_path: Path, s3_server: S3) -> None:  # noqa: F811
    bucket = await s3_server.new_bucket()
    settings = _settings(tmp_path, media_url=f"s3://{bucket}/photos", **s3_server.settings())
    data, other = make_image(color="blue"), make_image(fmt="PNG", color="green")
    first = await media.store_photo(data, settings)
    again = await media.store_photo(data, settings)
    png = await media.store_photo(other, settings)
    assert first == again and png.path.endswith(".png")
    assert await media.read(first.path, settings) == data
    assert await media.read(png.path, settings) == other
    keys = [k async for k in media.media_store(settings).keys()]
    assert sorted(keys) == sorted([first.path, png.path])  # stored once each, under the prefix
    assert media.describe(first.path, settings) == f"s3://{bucket}/photos/{first.path}"
    assert not (tmp_path / "media").exists()  # nothing on the local disk


async def test_a_refused_photo_is_not_stored(tmp_path: Path, s3_server: S3) -> None:  # noqa: F811
    bucket = await s3_server.new_bucket()
    settings = _settings(tmp_path, media_url=f"s3://{bucket}", **s3_server.settings())
    with pytest.raises(ValueError, match="photo_too_small"):
        await media.store_photo(make_image(100, 100), settings)
    assert [k async for k in media.media_store(settings).keys()] == []


def test_keys_cannot_leave_the_store(tmp_path: Path) -> None:
    store = media.media_store(_settings(tmp_path))
    for key in ("../etc/passwd", "/etc/passwd", "ab//x.jpg", ""):
        with pytest.raises(ValueError):
            store.describe(key)


def test_migrate_copies_local_photos_to_s3_once(tmp_path: Path, s3_server: S3,  # noqa: F811
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    local = _settings(tmp_path)
    photos = [asyncio.run(media.store_photo(make_image(color=c), local)) for c in ("red", "blue", "yellow")]
    bucket = asyncio.run(s3_server.new_bucket())
    target = f"s3://{bucket}/media"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    first = runner.invoke(app, ["media", "migrate", "--to", target])
    assert first.exit_code == 0, first.output
    assert "3 copied, 0 already there" in first.output
    second = runner.invoke(app, ["media", "migrate", "--to", target])
    assert "0 copied, 3 already there" in second.output
    on_s3 = _settings(tmp_path, media_url=target, **s3_server.settings())
    for photo in photos:
        assert asyncio.run(media.read(photo.path, on_s3)) == (tmp_path / "media" / photo.path).read_bytes()
    same = runner.invoke(app, ["media", "migrate", "--to", str(tmp_path / "media")])
    assert same.exit_code == 2 and "already in" in same.output
