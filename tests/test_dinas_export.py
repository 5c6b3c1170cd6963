"""Catalogue export: columns, numbers as numbers, formulas kept as text, only-new and since, 10,000 rows, ZIP."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.dinas import catalogue
from bot.dinas.export import export_to_file, photo_zip_stream
from bot.settings import Settings
from storage.db import Database
from storage.models import Product
from tests.conftest import count_rows, make_image
from tests.dinas_data import T0, add_business, add_many_approved, add_officer, add_product

HOSTILE = {
    "nama_produk": '=HYPERLINK("http://evil.example","klik")',
    "merek": "+62 cap",
    "deskripsi": "-1+1 rasa pedas manis, renyah dan gurih sekali",
    "sni": "@SUM(A1:A9)",
}


def read_xlsx(path: Path) -> list[list[object]]:
    sheet = load_workbook(path, read_only=False).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


async def export(db: Database, tmp_path: Path, fmt: str, name: str = "out", **scope: object) -> Path:
    out = tmp_path / f"{name}.{fmt}"
    await export_to_file(db, catalogue.Scope("18.03", **scope), fmt, out)  # type: ignore[arg-type]
    return out


async def test_xlsx_has_the_catalogue_columns_with_numbers_as_numbers(database: Database, tmp_path: Path) -> None:
    officer = await add_officer(database)
    business = await add_business(database)
    product = await add_product(database, business, officer_id=officer, photos=("ab/abc.jpg", "cd/cde.png"))
    rows = read_xlsx(await export(database, tmp_path, "xlsx"))
    assert tuple(rows[0]) == catalogue.HEADERS
    assert len(rows) == 2
    got = dict(zip(catalogue.HEADERS, rows[1], strict=True))
    assert got["ID produk"] == product
    assert got["Nama usaha"] == "UD Sari Rasa" and got["NIB"] == "1234567890123" and got["KBLI"] == "10794"
    assert got["NPWP"] == "012345678901234" and got["Skala usaha"] == "mikro"
    assert got["Kode kab/kota"] == "18.03" and got["Nama kab/kota"] == "Kabupaten Lampung Utara"
    assert got["Telepon"] == "081234567890"
    assert got["Kategori/etalase"] == "Makanan"
    for header, number in (("Harga satuan (Rp)", 25000), ("Stok", 500), ("Minimal pembelian", 10),
                           ("Berat (g)", 250)):
        assert got[header] == number and type(got[header]) is int, header
    assert got["TKDN (%)"] == 40.5
    assert got["PDN"] == "Ya" and got["P-IRT"] == "2063509010789" and got["BPOM"] is None
    assert got["Foto"] == f"{product}-1.jpg; {product}-2.png"
    assert got["Tanggal disetujui"].date() == date(2026, 11, 3)  # type: ignore[union-attr]


async def test_csv_keeps_numbers_plain(database: Database, tmp_path: Path) -> None:
    officer = await add_officer(database)
    await add_product(database, await add_business(database), officer_id=officer)
    rows = read_csv(await export(database, tmp_path, "csv"))
    assert tuple(rows[0]) == catalogue.HEADERS
    got = dict(zip(catalogue.HEADERS, rows[1], strict=True))
    assert got["Harga satuan (Rp)"] == "25000" and got["Stok"] == "500" and got["TKDN (%)"] == "40.5"
    assert got["NIB"] == "1234567890123" and got["Tanggal disetujui"] == "2026-11-03"


async def test_formula_injection_reaches_the_sheet_as_text(database: Database, tmp_path: Path) -> None:
    officer = await add_officer(database)
    business = await add_business(database, nama_usaha="@cmd", alamat="\tJl. Tab No. 1, Kotabumi")
    await add_product(database, business, officer_id=officer, **HOSTILE)
    xlsx = await export(database, tmp_path, "xlsx")
    sheet = load_workbook(xlsx).active
    cells = {h: c for h, c in zip(catalogue.HEADERS, next(sheet.iter_rows(min_row=2)), strict=True)}
    for header, typed in (("Nama produk", HOSTILE["nama_produk"]), ("Merek", HOSTILE["merek"]),
                          ("Deskripsi", HOSTILE["deskripsi"]), ("SNI", HOSTILE["sni"]), ("Nama usaha", "@cmd"),
                          ("Alamat", "\tJl. Tab No. 1, Kotabumi")):
        assert cells[header].value == typed, header
        assert cells[header].data_type == "s", header  # a string cell, not a formula
        assert cells[header].quotePrefix, header
    with zipfile.ZipFile(xlsx) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    rows = read_csv(await export(database, tmp_path, "csv", name="again"))
    got = dict(zip(catalogue.HEADERS, rows[1], strict=True))
    assert got["Nama produk"] == "'" + HOSTILE["nama_produk"]
    assert got["Merek"] == "'+62 cap" and got["Deskripsi"].startswith("'-1+1") and got["SNI"] == "'@SUM(A1:A9)"
    assert got["Nama usaha"] == "'@cmd" and got["Alamat"] == "'\tJl. Tab No. 1, Kotabumi"
    assert got["Harga satuan (Rp)"] == "25000"  # numbers are not prefixed


async def test_only_new_and_since(database: Database, tmp_path: Path) -> None:
    officer = await add_officer(database)
    business = await add_business(database)
    early = await add_product(database, business, officer_id=officer, decided_at=T0)
    late = await add_product(database, business, officer_id=officer, decided_at=T0 + timedelta(days=10))
    await add_product(database, business, status="submitted")  # waiting: never exported
    since = (T0 + timedelta(days=5)).date()
    rows = read_csv(await export(database, tmp_path, "csv", name="since", since=since))
    assert [int(r[0]) for r in rows[1:]] == [late]
    # The `since` export marked only `late`; `early` is still new.
    rows = read_csv(await export(database, tmp_path, "csv", name="new1", only_new=True))
    assert [int(r[0]) for r in rows[1:]] == [early]
    rows = read_csv(await export(database, tmp_path, "csv", name="new2", only_new=True))
    assert rows[1:] == []
    fresh = await add_product(database, business, officer_id=officer, decided_at=T0 + timedelta(days=11))
    rows = read_xlsx(await export(database, tmp_path, "xlsx", name="new3", only_new=True))
    assert [r[0] for r in rows[1:]] == [fresh]
    assert await count_rows(database, Product, Product.exported_at.is_not(None)) == 3  # type: ignore[union-attr]
    rows = read_csv(await export(database, tmp_path, "csv", name="all"))
    assert sorted(int(r[0]) for r in rows[1:]) == [early, late, fresh]


async def test_region_scope_province_and_others(database: Database, tmp_path: Path) -> None:
    officer = await add_officer(database, "18")
    mine = await add_product(database, await add_business(database, "18.03"), officer_id=officer)
    sister = await add_product(database, await add_business(database, "18.71"), officer_id=officer)
    await add_product(database, await add_business(database, "32.01"), officer_id=officer)
    out = tmp_path / "prov.csv"
    await export_to_file(database, catalogue.Scope("18"), "csv", out)
    assert sorted(int(r[0]) for r in read_csv(out)[1:]) == [mine, sister]
    assert [int(r[0]) for r in read_csv(await export(database, tmp_path, "csv"))[1:]] == [mine]


async def test_photo_zip_names_match_the_sheet(database: Database, tmp_path: Path) -> None:
    media = tmp_path / "media"
    for name, color in (("ab/one.jpg", "red"), ("cd/two.jpg", "blue")):
        (media / name).parent.mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(make_image(color=color))
    officer = await add_officer(database)
    product = await add_product(database, await add_business(database), officer_id=officer,
                                photos=("ab/one.jpg", "cd/two.jpg", "ef/gone.jpg"))
    settings = Settings(_env_file=None, database_url="sqlite:///unused.db", media_dir=media)
    data = b"".join([chunk async for chunk in photo_zip_stream(database, catalogue.Scope("18.03"), settings)])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [f"{product}-1.jpg", f"{product}-2.jpg"]  # the missing file is skipped
        assert archive.read(f"{product}-1.jpg") == (media / "ab/one.jpg").read_bytes()
        assert archive.testzip() is None
    sheet = read_csv(await export(database, tmp_path, "csv"))
    assert sheet[1][catalogue.HEADERS.index("Foto")] == f"{product}-1.jpg; {product}-2.jpg; {product}-3.jpg"


async def test_ten_thousand_products(database: Database, tmp_path: Path) -> None:
    officer = await add_officer(database)
    await add_many_approved(database, await add_business(database), officer, 10_000)
    out = tmp_path / "big.xlsx"
    rows = await export_to_file(database, catalogue.Scope("18.03"), "xlsx", out)
    assert rows == 10_000
    workbook = load_workbook(out, read_only=True)
    ids = [row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    workbook.close()
    assert len(ids) == 10_000 and len(set(ids)) == 10_000 and ids == sorted(ids)
    csv_rows = await export_to_file(database, catalogue.Scope("18.03"), "csv", tmp_path / "big.csv")
    assert csv_rows == 10_000 and len(read_csv(tmp_path / "big.csv")) == 10_001


@pytest.mark.parametrize("value", ["2026-13-01", "kemarin", "01/11/2026"])
def test_bad_since_dates_are_refused(value: str) -> None:
    with pytest.raises(catalogue.ExportError, match="YYYY-MM-DD"):
        catalogue.parse_since(value)
