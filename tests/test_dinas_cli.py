"""`umkm-bot export` and `umkm-bot region target`: files written, mistakes refused with exit code 2."""

from __future__ import annotations

import asyncio
import csv
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.media.photos import photo_key
from storage.db import Database
from tests.dinas_data import add_business, add_officer, add_product
from tests.test_cli import Invoke, cli  # noqa: F401  (the CLI fixture: a SQLite file in tmp_path)


def seed(tmp_path: Path, *statuses: str) -> list[int]:
    """A product of 18.03 per status (ids), and an approved one in 32.01 (last)."""

    async def work() -> list[int]:
        db = Database(f"sqlite:///{tmp_path / 'umkm.db'}")
        await db.upgrade()
        officer = await add_officer(db)
        business = await add_business(db, "18.03")
        mine = [await add_product(db, business, status, officer_id=officer) for status in statuses]
        other = await add_product(db, await add_business(db, "32.01"), officer_id=officer)
        await db.dispose()
        return [*mine, other]

    return asyncio.run(work())


def test_export_writes_the_region_and_only_new_after(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    approved, uploaded, listed, _draft, _other = seed(tmp_path, "approved", "uploaded", "listed", "draft")
    done = cli("export", "--region", "Lampung Utara", "--format", "xlsx", "--out", str(tmp_path / "k.xlsx"))
    assert done.exit_code == 0, done.output
    assert "Exported 3 approved products of Kabupaten Lampung Utara, Lampung (18.03)" in done.output
    rows = list(load_workbook(tmp_path / "k.xlsx").active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [approved, uploaded, listed]
    assert rows[0][:3] == ("ID produk", "Kategori (3 level)", "Nama produk")  # Indonesian, the kit's order
    assert rows[0][-4:] == ("Status", "Tanggal disetujui", "Tautan INAPROC", "Tanggal tayang")
    assert rows[3][-2].startswith("https://katalog.inaproc.id/") and rows[1][-2] is None
    again = cli("export", "--region", "18.03", "--format", "CSV", "--out", str(tmp_path / "k.csv"), "--only-new")
    assert again.exit_code == 0 and "Exported 0 new approved products" in again.output
    with (tmp_path / "k.csv").open(encoding="utf-8-sig") as handle:
        assert len(list(csv.reader(handle))) == 1  # the header only
    assert not list(tmp_path.glob("*.part"))
    since = cli("export", "--region", "18.03", "--format", "csv", "--out", str(tmp_path / "s.csv"),
                "--since", "2026-11-01")
    assert since.exit_code == 0 and "Exported 3 approved" in since.output
    later = cli("export", "--region", "18.03", "--format", "csv", "--out", str(tmp_path / "l.csv"),
                "--since", "2026-11-04")
    assert later.exit_code == 0 and "Exported 0 approved" in later.output  # all approved on 3 November


@pytest.mark.parametrize(("args", "message"), [
    (("--region", "Atlantis", "--format", "csv"), "No province or kabupaten/kota matches 'Atlantis'"),
    (("--region", "18.03", "--format", "pdf"), "--format must be xlsx or csv, not 'pdf'"),
    (("--region", "18.03", "--format", "csv", "--since", "01/11/2026"), "YYYY-MM-DD"),
    (("--region", "18.03", "--format", "csv", "--since", "2999-01-01"), "in the future"),
])
def test_export_mistakes_exit_2(cli: Invoke, tmp_path: Path, args: tuple[str, ...], message: str) -> None:  # noqa: F811
    done = cli("export", *args, "--out", str(tmp_path / "x.csv"))
    assert done.exit_code == 2 and message in done.output
    assert not (tmp_path / "x.csv").exists()


def test_export_to_a_missing_folder_exits_2(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    done = cli("export", "--region", "18.03", "--format", "csv", "--out", str(tmp_path / "no" / "x.csv"))
    assert done.exit_code == 2 and "does not exist" in done.output


def test_export_writes_the_photo_zip_named_as_the_foto_column(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    red, blue = (tmp_path / "red.jpg").read_bytes(), (tmp_path / "blue.jpg").read_bytes()
    keys = {}
    for name, data in (("red", red), ("blue", blue)):
        key, _ = photo_key(data, "jpg")
        (tmp_path / "media" / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "media" / key).write_bytes(data)
        keys[name] = key

    async def work() -> None:
        db = Database(f"sqlite:///{tmp_path / 'umkm.db'}")
        await db.upgrade()
        officer = await add_officer(db)
        await add_product(db, await add_business(db, "18.03"), officer_id=officer, photos=(keys["red"],))
        await add_product(db, await add_business(db, "18.03"), officer_id=officer,
                          photos=(keys["blue"], "ff/gone.jpg"))
        await add_product(db, await add_business(db, "32.01"), officer_id=officer, photos=(keys["red"],))
        await db.dispose()

    asyncio.run(work())
    done = cli("export", "--region", "18.03", "--format", "csv", "--out", str(tmp_path / "k.csv"),
               "--photos", str(tmp_path / "k.zip"))
    assert done.exit_code == 0, done.output
    assert f"their photos to {tmp_path / 'k.zip'}" in done.output
    with (tmp_path / "k.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    named = [name for row in rows for name in row["File foto (ZIP)"].split("; ")]
    assert [row["Foto produk"] for row in rows] == ["1", "2"]
    assert len(rows) == 2 and len(named) == 3
    with zipfile.ZipFile(tmp_path / "k.zip") as archive:
        assert archive.namelist() == named[:1] + named[1:2]  # the missing file is skipped, as on the console
        assert archive.read(named[0]) == red and archive.read(named[1]) == blue
    assert not list(tmp_path.glob("*.part"))
    again = cli("export", "--region", "18.03", "--format", "csv", "--out", str(tmp_path / "n.csv"), "--only-new",
                "--photos", str(tmp_path / "n.zip"))
    assert again.exit_code == 0 and "Exported 0 new" in again.output
    with zipfile.ZipFile(tmp_path / "n.zip") as archive:
        assert archive.namelist() == []


@pytest.mark.parametrize(("photos", "message"), [
    ("no/x.zip", "the folder of --photos does not exist"),
    (".", "--photos must be a file name"),
    ("x.csv", "--photos and --out must be different files"),
])
def test_export_photos_to_a_bad_path_exits_2(cli: Invoke, tmp_path: Path, photos: str, message: str) -> None:  # noqa: F811
    done = cli("export", "--region", "18.03", "--format", "csv", "--out", str(tmp_path / "x.csv"),
               "--photos", str(tmp_path / photos))
    assert done.exit_code == 2 and message in done.output
    assert not (tmp_path / "x.csv").exists()


def test_region_target_set_and_show(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    shown = cli("region", "target", "18.03")
    assert shown.exit_code == 0 and "Target of Kabupaten Lampung Utara, Lampung (18.03): 1,000" in shown.output
    done = cli("region", "target", "lampung utara", "250")
    assert done.exit_code == 0 and "set to 250 approved products" in done.output
    assert "(18.03): 250 " in cli("region", "target", "1803").output


@pytest.mark.parametrize(("args", "message"), [
    (("Atlantis", "10"), "No province or kabupaten/kota matches"),
    (("18", "10"), "is a province; give one of its kabupaten/kota"),
    (("18.03", "0"), "N must be between 1 and 1,000,000"),
])
def test_region_target_mistakes_exit_2(cli: Invoke, args: tuple[str, ...], message: str) -> None:  # noqa: F811
    done = cli("region", "target", *args)
    assert done.exit_code == 2 and message in done.output
