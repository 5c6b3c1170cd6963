"""Photos too dark, washed out or blurred are refused with the reason and how to retake them; ordinary
product photos (also on a white background, also large) pass."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageDraw, ImageFilter

from bot.media.photos import check_photo
from bot.settings import ROOT
from bot.words.i18n import Renderer
from tests.chat import Network
from tests.conftest import make_image
from tests.support.conversations import CRAFT_PRODUCT, onboard, play

MAX = 10 * 1024 * 1024


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def texture(width: int = 640, height: int = 480, color: str = "red") -> Image.Image:
    noise = Image.frombytes("L", (width, height), random.Random(7).randbytes(width * height)).convert("RGB")
    return Image.blend(Image.new("RGB", (width, height), color), noise, 0.5)


def product_on_white(width: int = 640, height: int = 480) -> Image.Image:
    """A bag of chips on a white table: most of the picture is (clipped) white background."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.3, height * 0.2, width * 0.7, height * 0.8), fill=(180, 90, 40),
                 outline=(60, 30, 10), width=4)
    draw.rectangle((width * 0.4, height * 0.4, width * 0.6, height * 0.6), fill=(240, 200, 60))
    draw.text((width * 0.42, height * 0.45), "KERIPIK", fill="black")
    return image


GOOD = {
    "texture": texture(),
    "dark texture with light parts": texture(color="black"),
    "light texture": texture(color="white"),
    "product on a white background": product_on_white(),
    "large product photo": product_on_white(2400, 1800),
    "product on a black background": product_on_white().point(lambda v: 255 - v),
}
BAD = {
    "flat dark": (Image.new("RGB", (640, 480), (15, 15, 15)), "photo_too_dark"),
    "dim scene": (product_on_white().point(lambda v: v // 8), "photo_too_dark"),
    "white": (Image.new("RGB", (640, 480), "white"), "photo_overexposed"),
    "washed out scene": (product_on_white().point(lambda v: min(255, v * 3)), "photo_overexposed"),
    "flat colour": (Image.new("RGB", (640, 480), "red"), "photo_blurred"),
    "blurred texture": (texture().filter(ImageFilter.GaussianBlur(3)), "photo_blurred"),
    "blurred product": (product_on_white().filter(ImageFilter.GaussianBlur(2)), "photo_blurred"),
    "large blurred product": (product_on_white(2400, 1800).filter(ImageFilter.GaussianBlur(8)), "photo_blurred"),
}


@pytest.mark.parametrize("name", GOOD)
def test_good_photos_pass(name: str) -> None:
    assert check_photo(jpeg(GOOD[name]), MAX)[0] == "jpg"


@pytest.mark.parametrize("name", BAD)
def test_bad_photos_are_refused_with_the_reason(name: str) -> None:
    image, reason = BAD[name]
    with pytest.raises(ValueError, match=reason):
        check_photo(jpeg(image), MAX)


def test_a_cut_out_on_a_transparent_background_is_judged_on_white() -> None:
    cut_out = Image.new("RGBA", (640, 480), (0, 0, 0, 0))
    dark_product = texture(320, 240, "grey").point(lambda v: v // 2)  # would be "too dark" on black
    cut_out.paste(dark_product.convert("RGBA"), (160, 120))
    buffer = io.BytesIO()
    cut_out.save(buffer, format="PNG")
    assert check_photo(buffer.getvalue(), MAX)[0] == "png"


def test_the_test_photos_are_usable() -> None:
    for color in ("red", "black", "white", "yellow"):
        check_photo(make_image(color=color), MAX)
    check_photo(make_image(800, 800, fmt="PNG"), MAX)


@pytest.mark.parametrize("locale", ["id", "en"])
def test_every_reason_says_how_to_retake(locale: str) -> None:
    renderer = Renderer(ROOT / "templates")
    hints = {"id": ("terang", "lampu kilat", "fokus"), "en": ("light", "flash", "focus")}[locale]
    for key, hint in zip(("photo_too_dark", "photo_overexposed", "photo_blurred"), hints, strict=True):
        assert hint in renderer.render(locale, f"errors/{key}")


async def test_owner_is_told_why_and_keeps_the_good_photo(network: Network) -> None:
    owner = network.chat("owner-quality")
    await onboard(owner)
    await play(owner, CRAFT_PRODUCT)
    await owner.photos(jpeg(product_on_white().filter(ImageFilter.GaussianBlur(3))), make_image())
    assert "buram" in owner.last and "fokus" in owner.last and "Foto tersimpan: 1" in owner.last
