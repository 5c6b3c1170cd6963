"""Photo checks and storage: JPEG/PNG, at least 300x300 px, not too dark, washed out or blurred, stored once
by content hash in the media store.

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

from botocore.exceptions import ClientError
from PIL import Image, ImageFilter, ImageStat, UnidentifiedImageError

from bot.media.store import MediaStore, open_store

if TYPE_CHECKING:
    from bot.settings import Settings

MIN_SIDE = 300
# Picture quality, measured on a greyscale copy at most QUALITY_SIDE px wide. Tuned on generated images
# (tests/test_photo_quality.py): a product on a white background must pass, a flat or blurred one must not.
QUALITY_SIDE = 640
DARK_MEAN, DARK_BRIGHTEST = 40, 128         # mean luminance below, and 99% of pixels darker than
BRIGHT_MEAN, BRIGHT_DARKEST = 235, 200      # mean luminance above, and 95% of pixels brighter than
SHARP_EDGE_VARIANCE = 20                    # variance of the FIND_EDGES image below this: blurred or flat
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
    try:
        with Image.open(io.BytesIO(data)) as image:
            problem = quality_problem(image)
    except (OSError, SyntaxError, ValueError) as exc:  # a truncated file verify() did not notice
        raise ValueError("photo_not_image") from exc
    if problem:
        raise ValueError(problem)
    return FORMATS[fmt], width, height


def _percentile(histogram: list[int], share: float) -> int:
    """The luminance below which `share` of the pixels lie."""
    goal, seen = share * sum(histogram), 0
    for value, count in enumerate(histogram):
        seen += count
        if seen >= goal:
            return value
    return 255


def quality_problem(image: Image.Image) -> str | None:
    """"photo_too_dark", "photo_overexposed", "photo_blurred" (a message key), or None for a usable photo."""
    image.draft("L", (QUALITY_SIDE, QUALITY_SIDE))  # JPEG: decode at a reduced scale, fast for big photos
    if "A" in image.getbands() or "transparency" in image.info:  # a cut-out: judged as shown, on white
        rgba = image.convert("RGBA")
        image = Image.new("RGBA", rgba.size, "white")
        image.alpha_composite(rgba)
    grey = image.convert("L")
    grey.thumbnail((QUALITY_SIDE, QUALITY_SIDE))
    histogram = grey.histogram()
    mean = ImageStat.Stat(grey).mean[0]
    if mean < DARK_MEAN and _percentile(histogram, 0.99) < DARK_BRIGHTEST:
        return "photo_too_dark"
    if mean > BRIGHT_MEAN and _percentile(histogram, 0.05) > BRIGHT_DARKEST:
        return "photo_overexposed"
    edges = grey.filter(ImageFilter.FIND_EDGES).crop((1, 1, grey.width - 1, grey.height - 1))
    if ImageStat.Stat(edges).var[0] < SHARP_EDGE_VARIANCE:
        return "photo_blurred"
    return None


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


async def read_photo(key: str, settings: Settings) -> bytes | None:
    """The bytes of a stored photo, or None when it is not in the store (the console and exports skip it)."""
    try:
        return await read(key, settings)
    except (FileNotFoundError, ValueError):
        return None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


async def delete(key: str, settings: Settings) -> None:
    """Removes a stored photo (the owner erased their data); a photo already gone is fine."""
    await media_store(settings).delete(key)


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
