"""The upload kit (bot/words/upload_kit.py, bot/conversation/kit.py): rows in the order of INAPROC's form, copyable
on every channel, the missing upload answers asked first, "Sudah saya unggah", and a link at any step."""

from __future__ import annotations

import pytest

from bot.settings import ROOT
from bot.words.i18n import Renderer
from bot.words.markup import ZERO_WIDTH_SPACE, escape, split_html, to_html, to_plain, to_whatsapp
from bot.words.upload_kit import kit_rows
from storage.models import Business, Product, ProductHistory, ProductStatus
from tests.chat import Chat, Network
from tests.conftest import count_rows, product_status
from tests.support.conversations import submit_with_officer

FORM_ORDER = ["catalogue_path", "nama_produk", "photos", "ppn", "kbki", "pdn", "tkdn", "sni", "merek", "deskripsi",
              "stok", "harga", "satuan", "min_beli", "berat_gram", "panjang_cm", "lebar_cm", "tinggi_cm"]
LINK = "https://katalog.inaproc.id/produk/keripik-balado-123"


def product(**fields: object) -> Product:
    values = {"id": 1, "business_id": 1, "nama_produk": "Keripik", "kategori": "makanan", "deskripsi": "Renyah",
              "harga": 25000, "satuan": "pcs", "stok": 500, "min_beli": 1, "berat_gram": 250, "panjang_cm": 20,
              "lebar_cm": 15, "tinggi_cm": 5, "pdn": True, "pirt": "2063509010789"} | fields
    return Product(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(ROOT / "templates")


def test_the_rows_follow_the_upload_form_and_paste_as_typed(renderer: Renderer) -> None:
    rows = kit_rows(product(), Business(pkp="non_pkp"), "id", renderer, photos=2)
    assert [r.key for r in rows] == [*FORM_ORDER, "pirt"]  # permits last, only those held
    values = {r.key: r.value for r in rows}
    assert (values["harga"], values["stok"], values["berat_gram"]) == ("25000", "500", "250")
    assert values["ppn"].startswith("Tidak dipungut (0%)") and values["pdn"] == "Ya"
    assert values["catalogue_path"] == "Makanan dan Minuman > Makanan"
    assert values["sni"] == "" and values["photos"].startswith("2 foto")


@pytest.mark.parametrize("pkp, included, expected", [
    ("non_pkp", None, "Tidak dipungut (0%)"), ("pkp", True, "Harga sudah termasuk PPN"),
    ("pkp", False, "Harga belum termasuk PPN"),
])
def test_ppn_follows_the_pkp_status(renderer: Renderer, pkp: str, included: bool | None, expected: str) -> None:
    rows = kit_rows(product(ppn_termasuk=included), Business(pkp=pkp), "id", renderer)
    assert next(r for r in rows if r.key == "ppn").value.startswith(expected)


def test_english_labels(renderer: Renderer) -> None:
    rows = kit_rows(product(), Business(pkp="non_pkp"), "en", renderer)
    assert rows[1].label == "Product name" and rows[11].label == "Price (Rp)"


def test_code_spans_copy_on_each_channel() -> None:
    marked = f"*Harga*\n`{escape('25*000`_')}`"
    assert to_html(marked) == "<b>Harga</b>\n<code>25*000`_</code>"
    assert to_whatsapp(marked).replace(ZERO_WIDTH_SPACE, "") == "*Harga*\n```25*000`_```"
    assert to_plain(marked) == "Harga\n25*000`_"
    assert split_html(f"`{'x' * 30}`", 20) == [f"<code>{'x' * 20}</code>", f"<code>{'x' * 10}</code>"]


async def approved(network: Network) -> tuple[Chat, Chat]:
    owner, officer = await submit_with_officer(network)
    await officer.tap("Setujui")
    return owner, officer


async def test_the_kit_asks_the_account_first_then_gives_rows_and_photos(network: Network) -> None:
    owner, officer = await approved(network)
    assert "Langkah berikutnya" in owner.last and "e-KYC" in owner.last  # no INAPROC account yet: its steps
    await owner.tap("Bahan unggah")
    assert "akun penyedia di INAPROC" in owner.last
    await owner.tap("Belum")
    assert "alamat email" in owner.last
    await owner.send("bukan email")
    assert "alamat email" in owner.last
    start = len(owner.inbox)
    await owner.send("sari@example.com")
    rows, photos, last = owner.inbox[start:]
    assert rows.text.index("Kategori") < rows.text.index("Nama produk") < rows.text.index("Harga (Rp)") \
        < rows.text.index("Tinggi (cm)")
    assert "`Keripik Singkong Balado 250 g`" in rows.text and "`25000`" in rows.text
    assert len(photos.photos) == 2 and "Sudah saya unggah" in [c.label for c in last.choices]
    await owner.tap("Sudah saya unggah")
    assert await product_status(network.engine.db) == ProductStatus.uploaded
    assert "menunggu peninjauan INAPROC" in owner.last
    await owner.send("/produk")
    await owner.tap("Bahan unggah #1")  # from "Produk saya", any time: no question now
    assert "Sudah saya unggah" not in owner.buttons and "`25000`" in owner.inbox[-3].text


async def test_a_link_sent_mid_form_lists_the_product_and_tells_the_officer(network: Network) -> None:
    owner, officer = await approved(network)
    await owner.send("/start")
    await owner.tap("Produk baru")
    assert "nama produk" in owner.last.lower()
    start = len(owner.inbox)
    await owner.send(f"sudah tayang {LINK}")
    told = "\n".join(owner.texts(start))
    assert "tayang" in told and LINK in told and "nama produk" in owner.last.lower()  # then the question again
    assert await product_status(network.engine.db) == ProductStatus.listed
    assert LINK in officer.last and "Keripik Bu Sari" in officer.last
    assert await count_rows(network.engine.db, ProductHistory, ProductHistory.status == "listed") == 1


@pytest.mark.parametrize("link, reason", [
    ("http://katalog.inaproc.id/produk/1", "https://"),
    ("https://katalog.inaproc.id.example.shop/produk/1", "bukan dari katalog.inaproc.id"),
    ("https://kаtalog.inaproc.id/produk/1", "huruf yang mirip"),
])
async def test_a_bad_link_is_refused_and_the_step_asked_again(network: Network, link: str, reason: str) -> None:
    owner, _ = await approved(network)
    await owner.send("/start")
    await owner.tap("Produk baru")
    await owner.send(link)
    assert reason in owner.last and "Tautan tidak disimpan" in owner.last and "nama produk" in owner.last.lower()
    assert await product_status(network.engine.db) == ProductStatus.approved
    assert await count_rows(network.engine.db, Product, Product.listing_url.is_not(None)) == 0  # type: ignore[union-attr]


async def test_with_two_approved_products_the_owner_picks_one(network: Network) -> None:
    owner, _ = await approved(network)
    async with network.engine.db.transaction() as session:
        session.add(Product(business_id=1, number=2, status=ProductStatus.approved, nama_produk="Keripik Pisang",
                            kategori="makanan"))
    await owner.send(LINK)
    assert "produk yang mana" in owner.last
    assert await count_rows(network.engine.db, Product, Product.listing_url.is_not(None)) == 0  # type: ignore[union-attr]
    await owner.tap("Keripik Pisang #2")
    assert await product_status(network.engine.db, 2) == ProductStatus.listed
    assert await product_status(network.engine.db, 1) == ProductStatus.approved
    await owner.send(LINK)  # the same link again: the one product left may not take it
    assert "sudah tercatat untuk produk lain" in owner.texts()[-2] + owner.last
    assert await product_status(network.engine.db, 1) == ProductStatus.approved
