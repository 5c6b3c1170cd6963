"""The INAPROC worksheet: the upload kit's columns in the form's order, then contact, status and dates; only
approved, uploaded and live products of the region; formulas kept as text; only-new and since; 10,000 rows; ZIP."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.dinas import catalogue, sheets
from bot.dinas.export import export_to_file, photo_zip_stream
from bot.settings import Settings
from bot.words.i18n import Renderer
from bot.words.upload_kit import PERMITS, kit_rows
from storage.db import Database
from storage.models import Business, Product
from tests.conftest import count_rows, make_image
from tests.dinas_data import T0, add_business, add_many_approved, add_officer, add_product

HOSTILE = {
    "nama_produk": '=HYPERLINK("http://evil.example","klik")',
    "merek": "+62 cap",
    "deskripsi": "-1+1 rasa pedas manis, renyah dan gurih sekali",
    "sni": "@SUM(A1:A9)",
}
RENDERER = Renderer(Settings.model_fields["templates_dir"].default)
#: The worksheet's own columns, after the ID and the upload kit's rows (Indonesian; English below).
TAIL_ID = ("File foto (ZIP)", "Nama usaha", "Nama pemilik", "Telepon", "Email", "Akun INAPROC", "NIB",
           "Kode kab/kota", "Nama kab/kota", "Alamat", "Status", "Tanggal disetujui", "Tautan INAPROC",
           "Tanggal tayang")
TAIL_EN = ("Photo files (ZIP)", "Business name", "Owner's name", "Phone", "Email", "INAPROC account", "NIB",
           "District code", "District name", "Address", "Status", "Date approved", "INAPROC link", "Date live")
DECEMBER = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # approved 1 Desember (10.00 WIB); live 3 days later


def kit_labels(locale: str = "id") -> tuple[str, ...]:
    """The upload form's entries in order, as the kit gives them for a product holding every permit."""
    every = Product(**{key: "x" for key in PERMITS})
    return tuple(row.label for row in kit_rows(every, Business(), locale, RENDERER))


def headers(locale: str = "id") -> tuple[str, ...]:
    return ("ID produk" if locale == "id" else "Product ID", *kit_labels(locale),
            *(TAIL_ID if locale == "id" else TAIL_EN))


def read_xlsx(path: Path) -> list[list[object]]:
    sheet = load_workbook(path, read_only=False).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def by_id(rows: list[list[object]]) -> dict[int, dict[str, object]]:
    """The data rows keyed by product id, each as {header: value}."""
    return {int(r[0]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}  # type: ignore[call-overload]


async def export(db: Database, tmp_path: Path, fmt: str, name: str = "out", locale: str = "id",
                 **scope: object) -> Path:
    out = tmp_path / f"{name}.{fmt}"
    await export_to_file(db, catalogue.Scope("18.03", **scope), fmt, out, locale=locale)  # type: ignore[arg-type]
    return out


async def seed_district(db: Database) -> dict[str, int]:
    """A district (18.03) with an approved, an uploaded and a live product, and what must stay out of the
    sheet: a draft, a submitted and a rejected product, and another region's approved one."""
    officer = await add_officer(db)
    sari = await add_business(db, email="sari@example.com", inaproc_akun="sari@example.com")
    ani = await add_business(db, nama_usaha="Dapur Bu Ani", nama_pemilik="Ani", phone="+6285711112222",
                             pkp="pkp")
    return {
        "approved": await add_product(db, sari, officer_id=officer, photos=("ab/abc.jpg", "cd/cde.png")),
        "uploaded": await add_product(db, sari, "uploaded", officer_id=officer, nama_produk="Keripik Pisang"),
        "listed": await add_product(db, ani, "listed", officer_id=officer, decided_at=DECEMBER,
                                    nama_produk="Rendang Kemasan", bpom="MD 123456789012", ppn_termasuk=True),
        "draft": await add_product(db, ani, "draft", nama_produk="Draf"),
        "submitted": await add_product(db, ani, "submitted", nama_produk="Menunggu"),
        "rejected": await add_product(db, ani, "rejected", officer_id=officer, nama_produk="Ditolak"),
        "other": await add_product(db, await add_business(db, "32.01"), officer_id=officer),
    }


async def kit_of(db: Database, product_id: int, locale: str = "id") -> dict[str, str]:
    """{label: value} of the product's upload kit, as the owner and the console see it."""
    async with db.sessions() as session:
        product = (await session.exec(select(Product).where(Product.id == product_id))).one()
        business = (await session.exec(select(Business).where(Business.id == product.business_id))).one()
    return {row.label: row.value for row in kit_rows(product, business, locale, RENDERER)}


async def test_the_worksheet_is_the_upload_kit_then_contact_status_and_dates(database: Database,
                                                                             tmp_path: Path) -> None:
    ids = await seed_district(database)
    expected = {ids["approved"], ids["uploaded"], ids["listed"]}
    for fmt, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        rows = read(await export(database, tmp_path, fmt, name=f"all-{fmt}"))  # type: ignore[operator]
        assert tuple(rows[0]) == headers("id"), fmt
        got = by_id(rows)
        assert set(got) == expected, fmt  # no draft, submitted, rejected or other region's product; by id:
        assert [int(r[0]) for r in rows[1:]] == sorted(expected), fmt  # type: ignore[call-overload]
        empty = "" if fmt == "csv" else None
        for product_id, row in got.items():
            for label, value in (await kit_of(database, product_id)).items():
                if label != "Foto produk":  # the kit says "N foto, dikirim di bawah ini": the sheet, the number
                    assert row[label] == (value or empty), (fmt, label)
        approved, uploaded, listed = got[ids["approved"]], got[ids["uploaded"]], got[ids["listed"]]
        assert approved["Foto produk"] == (2 if fmt == "xlsx" else "2") and uploaded["Foto produk"] in (0, "0")
        assert approved["File foto (ZIP)"] == f"{ids['approved']}-1.jpg; {ids['approved']}-2.png"
        assert approved["Nama produk"] == "Keripik Singkong Balado" and approved["Nomor BPOM"] == empty
        assert listed["Nomor BPOM"] == "MD 123456789012" and listed["PPN"] == "Harga sudah termasuk PPN"
        assert approved["Harga (Rp)"] == "25000"  # as typed into the form: digits, no separator, no "Rp"
        assert approved["Nama usaha"] == "UD Sari Rasa" and approved["Nama pemilik"] == "Sari"
        assert approved["Telepon"] == "081234567890" and listed["Telepon"] == "085711112222"
        assert approved["Email"] == "sari@example.com" and approved["Akun INAPROC"] == "sari@example.com"
        assert approved["NIB"] == "1234567890123" and approved["Kode kab/kota"] == "18.03"
        assert approved["Nama kab/kota"] == "Kabupaten Lampung Utara"
        assert (approved["Status"], uploaded["Status"], listed["Status"]) == (
            "Disetujui", "Diunggah, menunggu peninjauan INAPROC", "Tayang di INAPROC")
        assert approved["Tautan INAPROC"] == empty and uploaded["Tanggal tayang"] == empty
        assert str(listed["Tautan INAPROC"]).startswith("https://katalog.inaproc.id/produk/")
        if fmt == "csv":  # the day the Indonesian way (Babel)
            assert approved["Tanggal disetujui"] == "3 November 2026"
            assert listed["Tanggal disetujui"] == "1 Desember 2026" and listed["Tanggal tayang"] == "4 Desember 2026"
        else:  # date cells
            assert approved["Tanggal disetujui"].date() == date(2026, 11, 3)  # type: ignore[attr-defined]
            assert listed["Tanggal tayang"].date() == date(2026, 12, 4)  # type: ignore[attr-defined]


async def test_english_headers_and_dates(database: Database, tmp_path: Path) -> None:
    ids = await seed_district(database)
    rows = read_csv(await export(database, tmp_path, "csv", locale="en"))
    assert tuple(rows[0]) == headers("en") and len(rows) == 4
    listed = by_id(rows)[ids["listed"]]  # type: ignore[arg-type]
    assert listed["Status"] == "Live on INAPROC" and listed["Date live"] == "4 December 2026"
    assert listed["Product name"] == "Rendang Kemasan" and listed["Domestic product (PDN)"] == "Yes"
    book = load_workbook(await export(database, tmp_path, "xlsx", name="en", locale="en"))
    assert tuple(c.value for c in book.active[1]) == headers("en")
    assert book.active.title == "INAPROC"
    day = next(c for c in book.active[2] if isinstance(c.value, datetime))
    assert day.number_format == "d mmmm yyyy"  # a date cell, shown in the spreadsheet's own language


def test_headers_are_unique_and_the_kit_leads() -> None:
    for locale in ("id", "en"):
        sheet = catalogue.Worksheet.of(RENDERER, locale)
        assert sheet.headers == headers(locale) and len(set(sheet.headers)) == len(sheet.headers)
        assert sheet.kit_keys[:2] == ("catalogue_path", "nama_produk")  # the form's order (docs/inaproc.md)


async def test_formula_injection_reaches_the_sheet_as_text(database: Database, tmp_path: Path) -> None:
    officer = await add_officer(database)
    business = await add_business(database, nama_usaha="@cmd", alamat="\tJl. Tab No. 1, Kotabumi")
    await add_product(database, business, officer_id=officer, **HOSTILE)
    xlsx = await export(database, tmp_path, "xlsx")
    sheet = load_workbook(xlsx).active
    cells = {h: c for h, c in zip(headers(), next(sheet.iter_rows(min_row=2)), strict=True)}
    for header, typed in (("Nama produk", HOSTILE["nama_produk"]), ("Merek", HOSTILE["merek"]),
                          ("Spesifikasi/deskripsi", HOSTILE["deskripsi"]), ("Nomor SNI", HOSTILE["sni"]),
                          ("Nama usaha", "@cmd"), ("Alamat", "\tJl. Tab No. 1, Kotabumi")):
        assert cells[header].value == typed, header
        assert cells[header].data_type == "s", header  # a string cell, not a formula
        assert cells[header].quotePrefix, header
    with zipfile.ZipFile(xlsx) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    rows = read_csv(await export(database, tmp_path, "csv", name="again"))
    got = dict(zip(headers(), rows[1], strict=True))
    assert got["Nama produk"] == "'" + HOSTILE["nama_produk"]
    assert got["Merek"] == "'+62 cap" and got["Spesifikasi/deskripsi"].startswith("'-1+1")
    assert got["Nomor SNI"] == "'@SUM(A1:A9)"
    assert got["Nama usaha"] == "'@cmd" and got["Alamat"] == "'\tJl. Tab No. 1, Kotabumi"
    assert got["Harga (Rp)"] == "25000" and got["ID produk"].isdigit()  # no prefix on digits


async def test_only_new_and_since(database: Database, tmp_path: Path) -> None:
    officer = await add_officer(database)
    business = await add_business(database)
    early = await add_product(database, business, officer_id=officer, decided_at=T0)
    late = await add_product(database, business, "uploaded", officer_id=officer, decided_at=T0 + timedelta(days=10))
    await add_product(database, business, status="submitted")  # waiting: never exported
    since = (T0 + timedelta(days=5)).date()
    rows = read_csv(await export(database, tmp_path, "csv", name="since", since=since))
    assert [int(r[0]) for r in rows[1:]] == [late]
    # The `since` export marked only `late`; `early` is still new.
    rows = read_csv(await export(database, tmp_path, "csv", name="new1", only_new=True))
    assert [int(r[0]) for r in rows[1:]] == [early]
    rows = read_csv(await export(database, tmp_path, "csv", name="new2", only_new=True))
    assert rows[1:] == []
    fresh = await add_product(database, business, "listed", officer_id=officer, decided_at=T0 + timedelta(days=11))
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
    row = dict(zip(sheet[0], sheet[1], strict=True))
    assert row["File foto (ZIP)"] == f"{product}-1.jpg; {product}-2.jpg; {product}-3.jpg"
    assert row["Foto produk"] == "3"  # how many; the kit's "sent below" is the chat's


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


def test_a_download_is_named_by_what_whose_region_and_the_time_in_wib() -> None:
    late_evening_utc = datetime(2026, 12, 6, 23, 34, tzinfo=UTC)  # already the 7th in Jakarta
    assert sheets.file_name("inaproc", "18.03", late_evening_utc, "xlsx") == "inaproc-18.03-20261207-0634.xlsx"
    assert sheets.file_name("sumber", "18", late_evening_utc, "csv") == "sumber-18-20261207-0634.csv"
