"""The worksheet for pendampingan INAPROC: `/dinas/export.xlsx`, `/dinas/export.csv`, `/dinas/export-photos.zip`
and the CLI's file (`umkm-bot export`).

Rows come from `catalogue.pages` (SQL pages; the columns of `catalogue.Worksheet`: the upload kit's rows in
the INAPROC form's order, then contact, status and dates), go through `sheets` writers and out as a stream,
so memory stays flat however many products there are. Headers follow the locale (the officer's on the web,
Indonesian from the CLI). A finished export marks its products (`Product.exported_at`), which is what
`only_new` leaves out next time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import col
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dinas import catalogue, sheets
from bot.dinas.auth import Visit, officer_page
from bot.dinas.data_pages import error_page
from bot.media.photos import read_photo
from bot.words.i18n import DEFAULT_LOCALE, Renderer
from storage.db import Database
from storage.models import Product, utcnow

if TYPE_CHECKING:
    from bot.dinas.console import Console
    from bot.settings import Settings

FORMATS = ("xlsx", "csv")
SHEET_TITLE = "INAPROC"


@dataclass
class Tally:
    """What an export wrote: how many rows, and the last product id (for marking)."""

    rows: int = 0
    last_id: int = 0

    def count(self, row: catalogue.CatalogueRow) -> None:
        self.rows += 1
        self.last_id = max(self.last_id, int(row.values[0]))


async def photo_zip_stream(db: Database, scope: catalogue.Scope, settings: Settings) -> AsyncIterator[bytes]:
    """The photos of the scope's products, named as in the sheet's photo files column; a missing file is skipped."""
    archive = sheets.PhotoZip()
    async for page in catalogue.photo_pages(db, scope):
        for photo in (photo for photos in page for photo in photos):
            data = await read_photo(photo.path, settings)
            if data is not None:
                yield archive.add(photo.name, data)
    yield archive.close()


def stream(db: Database, scope: catalogue.Scope, fmt: str, tally: Tally,
           sheet: catalogue.Worksheet) -> AsyncIterator[bytes]:
    """The worksheet as XLSX (date cells) or CSV (dates written the locale's way), streamed page by page."""
    rows = catalogue.pages(db, scope, sheet)
    if fmt == "xlsx":
        return sheets.xlsx_stream(rows, sheet.headers, SHEET_TITLE, tally.count, day_format=sheets.XLSX_DAY)
    return sheets.csv_stream(rows, tally.count, headers=sheet.headers, locale=sheet.locale)


async def _then_mark(chunks: AsyncIterator[bytes], db: Database, scope: catalogue.Scope, tally: Tally,
                     started: datetime) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk
    if tally.rows:
        await catalogue.mark_exported(db, scope, tally.last_id, started)


async def export_to_file(db: Database, scope: catalogue.Scope, fmt: str, out: Path, *,
                         clock: Callable[[], datetime] = utcnow, photos: Path | None = None,
                         settings: Settings | None = None, locale: str = DEFAULT_LOCALE) -> int:
    """Writes the export to `out` (through a temporary file beside it) and marks it; the number of rows.

    Headers in `locale` (the templates of `settings`, else the shipped ones). With `photos` (and `settings`,
    for the media store) it also writes the ZIP of the same products' photos, named as in the sheet's photo
    files column, before anything is marked.
    """
    if fmt not in FORMATS:
        raise catalogue.ExportError(f"the format must be xlsx or csv, not {fmt!r}.")
    sheet = (catalogue.Worksheet.of(Renderer(settings.templates_dir), locale) if settings is not None
             else catalogue.Worksheet.of(catalogue.default_sheet().renderer, locale))
    started, tally = clock(), Tally()
    partial = await _write(out, stream(db, scope, fmt, tally, sheet))
    if photos is not None:
        if settings is None:
            raise ValueError("the photo ZIP needs the settings (media store)")
        same = replace(scope, extra=(*scope.extra, col(Product.id) <= tally.last_id))
        (await _write(photos, photo_zip_stream(db, same, settings))).replace(photos)
    partial.replace(out)
    if tally.rows:
        await catalogue.mark_exported(db, scope, tally.last_id, started)
    return tally.rows


async def _write(target: Path, chunks: AsyncIterator[bytes]) -> Path:
    """Writes the chunks to `<target>.part` and returns that path (the caller renames it when all is done)."""
    partial = target.with_name(target.name + ".part")
    with partial.open("wb") as handle:
        async for chunk in chunks:
            handle.write(chunk)
    return partial


# --- web ----------------------------------------------------------------------------------------------

def scope_of(visit: Visit, photos: bool = False) -> catalogue.Scope:
    """The signed-in officer's region, with `?since=YYYY-MM-DD` and `?only_new=1`; ExportError when bad.

    For the photo ZIP, "only new" also keeps the latest export's products: the sheet downloaded just before
    has marked them, and their photos are the ones wanted.
    """
    params = visit.request.query_params
    return catalogue.Scope(visit.officer.region_code, since=catalogue.parse_since(params.get("since")),
                           only_new=params.get("only_new") in ("1", "on", "true"), last_batch_too=photos)


def _sheet_route(fmt: str) -> Callable[[Visit], object]:
    @officer_page
    async def export_sheet(visit: Visit) -> Response:
        """The officer's region's approved, uploaded and live products as one worksheet, streamed."""
        try:
            scope = scope_of(visit)
        except catalogue.ExportError:
            return error_page(visit, "bad_date")
        db, started, tally = visit.console.db, visit.console.clock(), Tally()
        sheet = catalogue.Worksheet.of(visit.console.renderer, visit.locale)
        chunks = _then_mark(stream(db, scope, fmt, tally, sheet), db, scope, tally, started)
        return sheets.download(chunks, fmt, sheets.file_name("inaproc", scope.region_code, started, fmt))

    export_sheet.__name__ = f"export_{fmt}"
    return export_sheet


@officer_page
async def export_photos(visit: Visit) -> Response:
    """The photos of the same products, as a ZIP named like the sheet's photo files (not marking anything)."""
    try:
        scope = scope_of(visit, photos=True)
    except catalogue.ExportError:
        return error_page(visit, "bad_date")
    chunks = photo_zip_stream(visit.console.db, scope, visit.console.settings)
    return sheets.download(chunks, "zip", sheets.file_name("inaproc", scope.region_code, visit.console.clock(), "zip"))


def routes(console: Console) -> list[BaseRoute]:
    return [
        Route("/export.xlsx", _sheet_route("xlsx"), methods=["GET"], name="export_xlsx"),  # type: ignore[arg-type]
        Route("/export.csv", _sheet_route("csv"), methods=["GET"], name="export_csv"),  # type: ignore[arg-type]
        Route("/export-photos.zip", export_photos, methods=["GET"], name="export_photos"),
    ]
