"""The upload kit: a product's answers as INAPROC's product form asks them, in its order, ready to copy.

ONE definition for every place that shows it: the owner's kit in chat (bot/conversation/kit.py), the console's
"Salin untuk INAPROC" section and the export. The order follows the v6 upload form (docs/inaproc.md, section
b); the permits (P-IRT, BPOM, halal), whose place in the form is unverified, come last and only when held.
Labels and fixed values are words in `templates/<locale>/kit/labels.j2`; values are plain text as typed
into the form (digits without separators, no "Rp").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from bot.flows import catalogue_map
from bot.words.i18n import DEFAULT_LOCALE, LOCALES, Renderer
from storage.models import Business, Product

PERMITS = ("pirt", "bpom", "halal")  # shown only when the product has them


@dataclass(frozen=True)
class KitRow:
    """One entry of the form: `key` (stable, for code), `label` (the reader's words), `value` (to copy; "" when
    there is nothing to enter)."""

    key: str
    label: str
    value: str


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _yes_no(value: bool | None, words: dict[str, str]) -> str:
    return "" if value is None else words["yes" if value else "no"]


def _ppn(product: Product, business: Business, words: dict[str, str]) -> str:
    """A non-PKP business charges no PPN; a PKP one says whether its price includes it."""
    if business.pkp == "non_pkp":
        return words["ppn_non_pkp"]
    if business.pkp == "pkp" and product.ppn_termasuk is not None:
        return words["ppn_included" if product.ppn_termasuk else "ppn_excluded"]
    return words["ppn_unknown"]


@cache
def _categories() -> catalogue_map.CatalogueMap:
    return catalogue_map.load()


def _category(product: Product, words: dict[str, str]) -> str:
    if product.kategori == "lainnya":
        return words["pick_category"]
    if product.catalogue_path:
        return product.catalogue_path
    row = _categories().get(product.kategori or "")
    return row.catalogue_path if row is not None else words["pick_category"]


def _values(product: Product, business: Business, photos: int, words: dict[str, str],
            units: dict[str, str]) -> dict[str, Callable[[], str]]:
    """Each row's value, in the form's order (a function each, so only the rows shown are computed)."""
    return {
        "catalogue_path": lambda: _category(product, words),
        "nama_produk": lambda: product.nama_produk or "",
        "photos": lambda: f"{photos} {words['photos']}" if photos else "",
        "ppn": lambda: _ppn(product, business, words),
        "kbki": lambda: product.kbki or "",
        "pdn": lambda: _yes_no(product.pdn, words),
        "tkdn": lambda: _number(product.tkdn),
        "sni": lambda: product.sni or "",
        "merek": lambda: product.merek or "",
        "deskripsi": lambda: product.deskripsi or "",
        "stok": lambda: _number(product.stok),
        "harga": lambda: _number(product.harga),
        "satuan": lambda: units.get(product.satuan or "", product.satuan or ""),
        "min_beli": lambda: _number(product.min_beli),
        "berat_gram": lambda: _number(product.berat_gram),
        "panjang_cm": lambda: _number(product.panjang_cm),
        "lebar_cm": lambda: _number(product.lebar_cm),
        "tinggi_cm": lambda: _number(product.tinggi_cm),
        "pirt": lambda: product.pirt or "",
        "bpom": lambda: product.bpom or "",
        "halal": lambda: product.halal or "",
    }


def kit_words(renderer: Renderer, locale: str) -> dict[str, Any]:
    """The kit's `rows` labels and fixed `values` in `locale` (templates/<locale>/kit/labels.j2)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    module = renderer.env.get_template(f"{locale}/kit/labels.j2").module
    return {"rows": module.rows, "values": module.values}  # type: ignore[attr-defined]


def kit_rows(product: Product, business: Business, locale: str, renderer: Renderer, *,
             photos: int = 0) -> list[KitRow]:
    """The product's upload-form entries in the form's order; `photos` is how many photos it has."""
    words = kit_words(renderer, locale)
    units = renderer.labels(locale if locale in LOCALES else DEFAULT_LOCALE)["options"]["satuan"]
    rows = []
    for key, value in _values(product, business, photos, words["values"], units).items():
        if key in PERMITS and not getattr(product, key):
            continue
        rows.append(KitRow(key, words["rows"][key], value()))
    return rows
