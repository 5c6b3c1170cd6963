"""Photo checks and storage: JPEG/PNG, at least 300x300 px, stored once by content hash in the media store.

The one door to photos for everything else: `await store_photo(data, settings)` when one arrives, and
`await read(key, settings)` for its bytes (channel senders, the dashboard, the export). The store is a local
folder (`MEDIA_DIR`, the default) or an S3-compatible bucket (`MEDIA_URL=s3://bucket/prefix`).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from bot.media_store import MediaStore, open_store

if TYPE_CHECKING:
    from bot.settings import Settings

MIN_SIDE = 300
FORMATS = {"JPEG": "jpg", "PNG": "png"}


@dataclass(frozen=True)
class StoredPhoto:
    path: str
    sha256: str
    width: int
    height: int


def check_photo(data: bytes, max_bytes: int, declared_size: int | None = None) -> tuple[str, int, int]:
    """Returns (extension, width, height) or raises ValueError with a message key."""
    if not data and not declared_size:
        raise ValueError("photo_unavailable")  # the channel could not give us the file
    if len(data) > max_bytes or (declared_size or 0) > max_bytes:
        raise ValueError("photo_too_big")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt, (width, height) = image.format, image.size
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError("photo_not_image") from exc
    if fmt not in FORMATS:
        raise ValueError("photo_format")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ValueError("photo_too_small")
    return FORMATS[fmt], width, height


def media_store(settings: Settings, url: str | None = None) -> MediaStore:
    """The store `url` names (default: MEDIA_URL, else the folder MEDIA_DIR), with the S3 settings."""
    return open_store(url or settings.media_url or str(settings.media_dir),
                      endpoint_url=settings.s3_endpoint_url, region=settings.aws_region,
                      access_key=settings.aws_access_key_id, secret_key=settings.aws_secret_access_key,
                      addressing_style=settings.s3_addressing_style)


def photo_key(data: bytes, ext: str) -> tuple[str, str]:
    """(key, sha256) of a photo: `<sha[:2]>/<sha>.<ext>`."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest}.{ext}", digest


async def store_photo(data: bytes, settings: Settings, declared_size: int | None = None) -> StoredPhoto:
    """Checks the photo and stores it once under its content hash; `path` is the key to read it back."""
    ext, width, height = check_photo(data, settings.max_photo_bytes, declared_size)
    key, digest = photo_key(data, ext)
    await media_store(settings).put_once(key, data)
    return StoredPhoto(path=key, sha256=digest, width=width, height=height)


async def read(key: str, settings: Settings) -> bytes:
    """The bytes of a stored photo by its key (ProductPhoto.path, an Outbound's photos)."""
    return await media_store(settings).read(key)


def describe(key: str, settings: Settings) -> str:
    """Where a photo lives, for a person: a file path or an s3:// URL."""
    return media_store(settings).describe(key)


@dataclass(frozen=True)
class MigrateReport:
    copied: int
    already_there: int
    source: str
    target: str


async def migrate(settings: Settings, target_url: str) -> MigrateReport:
    """Copies every photo of the configured store to `target_url`; a photo already there is left (idempotent)."""
    source, target = media_store(settings), media_store(settings, target_url)
    if source.url == target.url:
        raise ValueError(f"the photos are already in {target_url}")
    copied = present = 0
    async for key in source.keys():
        if await target.exists(key):
            present += 1
            continue
        await target.put(key, await source.read(key))
        copied += 1
    return MigrateReport(copied, present, source.url, target_url)
