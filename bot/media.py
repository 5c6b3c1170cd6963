"""Photo checks and storage: JPEG/PNG, at least 300x300 px, stored by content hash under MEDIA_DIR."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

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


def store_photo(data: bytes, media_dir: Path, max_bytes: int, declared_size: int | None = None) -> StoredPhoto:
    """Checks the photo and writes it once as `<sha[:2]>/<sha>.<ext>`; the path is relative to media_dir."""
    ext, width, height = check_photo(data, max_bytes, declared_size)
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(digest[:2]) / f"{digest}.{ext}"
    target = media_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    return StoredPhoto(path=relative.as_posix(), sha256=digest, width=width, height=height)


def read_photo(media_dir: Path, path: str) -> bytes | None:
    """The bytes of a stored photo (`path` as `store_photo` returned it), or None if it is not there.

    The one way the console and the exports read media, so a pluggable store (local folder, S3) changes only this.
    """
    root = media_dir.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target.read_bytes()
