"""Photo checks and storage: JPEG/PNG, at least 300x300 px, not too dark, washed out or blurred, stored by
content hash under MEDIA_DIR."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFilter, ImageStat, UnidentifiedImageError

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
