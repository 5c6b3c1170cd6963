"""One Katalog Lokal listing (DESIGN.md section 5): one step per field, in the order they are asked."""

from bot import validators as v
from bot.flows.base import Answers, Form, Step

KATEGORI = {key: key for key in (
    "makanan_minuman", "minuman", "kerajinan", "pakaian", "alas_kaki", "atk", "furnitur", "catering",
    "pertanian", "lainnya",
)}
PACKAGED_FOOD = {"makanan_minuman", "minuman"}
FOOD = PACKAGED_FOOD | {"catering"}
SATUAN = {key: key for key in ("pcs", "kg", "gram", "liter", "paket", "box", "lusin", "kodi", "porsi")}
YES_NO = {"ya": True, "tidak": False}
MAX_PHOTOS = 5


def packaged_food(a: Answers) -> bool:
    return a.get("kategori") in PACKAGED_FOOD


def food(a: Answers) -> bool:
    return a.get("kategori") in FOOD


def has_pirt(a: Answers) -> bool:
    return bool(a.get("pirt"))


PRODUCT = Form("product", (
    Step("nama_produk", parse=v.text(3, 120)),
    Step("kategori", kind="choice", options=KATEGORI),
    Step("merek", parse=v.text(1, 60), optional=True),
    Step("deskripsi", parse=v.text(20, 2000)),
    Step("harga", parse=v.rupiah),
    Step("satuan", kind="choice", options=SATUAN, parse=v.unit),
    Step("stok", parse=v.count),
    Step("min_beli", parse=v.count),
    Step("berat_gram", parse=v.weight_grams),
    Step("pdn", kind="choice", options=YES_NO, parse=v.yes_no),
    Step("tkdn", parse=v.percent, optional=True, when=lambda a: a.get("pdn") is True),
    Step("pirt", parse=v.pirt, optional=True, when=packaged_food),
    Step("bpom", parse=v.bpom, optional=has_pirt, when=packaged_food),
    Step("halal", parse=v.halal, optional=True, when=food),
    Step("sni", parse=v.sni, optional=True),
    Step("photos", kind="photos"),
))
