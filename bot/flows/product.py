"""One catalogue listing (DESIGN.md section 5, with Katalog v6's package size and PPN): one step per field,
in the order they are asked."""

from bot.domain import validators as v
from bot.flows.base import Answers, Form, Step

KATEGORI = {key: key for key in (
    "makanan", "minuman", "kerajinan", "pakaian", "alas_kaki", "atk", "furnitur", "catering",
    "pertanian", "lainnya",
)}
PACKAGED_FOOD = {"makanan", "minuman"}
FOOD = PACKAGED_FOOD | {"catering"}
SATUAN = {key: key for key in ("pcs", "kg", "gram", "liter", "paket", "box", "lusin", "kodi", "porsi")}
YES_NO = {"ya": True, "tidak": False}
MAX_PHOTOS = 5
DEFAULT_MIN_BELI = 1


def packaged_food(a: Answers) -> bool:
    return a.get("kategori") in PACKAGED_FOOD


def food(a: Answers) -> bool:
    return a.get("kategori") in FOOD


def has_pirt(a: Answers) -> bool:
    return bool(a.get("pirt"))


def needs_bpom(a: Answers) -> bool:
    """Packaged food without a P-IRT: a BPOM number is the other way to be allowed on sale."""
    return packaged_food(a) and not has_pirt(a)


def permit_missing(a: Answers) -> bool:
    """Packaged food needs a P-IRT or a BPOM number (one of them) before the Dinas can list it."""
    return packaged_food(a) and not a.get("pirt") and not a.get("bpom")


def pkp(a: Answers) -> bool:
    """The business is PKP: its prices may include PPN (`usaha_pkp` is the business's answer)."""
    return a.get("usaha_pkp") == "pkp"


def never(a: Answers) -> bool:
    return False


def min_within_stock(value: int, a: Answers) -> None:
    if a.get("stok") and value > a["stok"]:
        raise v.Unusual("min_over_stock", value, limit=a["stok"])


def stock_covers_min(value: int, a: Answers) -> None:
    if a.get("min_beli") and value < a["min_beli"]:
        raise v.Unusual("stock_under_min", value, limit=a["min_beli"])


PRODUCT = Form("product", (
    Step("nama_produk", parse=v.text(3, 120)),
    Step("kategori", kind="choice", options=KATEGORI),
    Step("merek", parse=v.text(1, 60), optional=True),
    Step("deskripsi", parse=v.text(20, 2000)),
    Step("harga", parse=v.rupiah),
    Step("ppn_termasuk", kind="choice", options=YES_NO, parse=v.yes_no, when=pkp, depends=("usaha_pkp",),
         upload=True),
    Step("satuan", kind="choice", options=SATUAN, parse=v.unit),
    Step("stok", parse=v.count, check=stock_covers_min),
    Step("min_beli", parse=v.count, check=min_within_stock, in_sequence=False),  # 1 unless changed
    # Weight and package size in one message ("250 gr 20x15x5 cm"), kept in berat_gram and panjang/lebar/
    # tinggi_cm; given the weight alone, `ukuran` asks the size next (answered already when given).
    Step("kemasan", parse=v.package),
    Step("ukuran", parse=v.package_size, upload=True, part_of="kemasan"),
    Step("pdn", kind="choice", options=YES_NO, parse=v.yes_no),
    Step("tkdn", parse=v.percent, optional=True, when=lambda a: a.get("pdn") is True, depends=("pdn",),
         in_sequence=False),  # only with a TKDN certificate: added from the summary
    Step("pirt", parse=v.pirt, optional=True, when=packaged_food, depends=("kategori",)),
    Step("bpom", parse=v.bpom, optional=True, when=needs_bpom, depends=("kategori",),
         skip_note="no_food_permit"),
    Step("halal", parse=v.halal, optional=True, when=food, depends=("kategori",)),
    Step("sni", parse=v.sni, optional=True, in_sequence=False),
    Step("photos", kind="photos"),
    # Not a question: the business's PKP status, so `when` above can read it (the product's answers hold
    # only its own fields; Product.usaha_pkp reads it from the Business row the turn already holds).
    Step("usaha_pkp", when=never, in_sequence=False, optional=True, derived=True),
))
