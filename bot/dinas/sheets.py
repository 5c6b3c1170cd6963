"""Writers for catalogue rows: CSV and XLSX (openpyxl write-only) and a ZIP of the photos, all in flat memory.

Every text an owner typed reaches the sheet as text: a cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return would be read as a formula by a spreadsheet, so in CSV it gets a leading `'` and in XLSX it
is an explicit string cell with the quote-prefix style (shown as typed, never evaluated). Numbers stay
numbers (int/float cells, plain digits in CSV). Dates are date cells in XLSX; in CSV they are ISO dates, or
the day written the locale's way through Babel ("3 Desember 2026") when a locale is given.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import anyio
from babel.dates import format_date
from starlette.responses import StreamingResponse

from bot.dinas import catalogue
from bot.domain.workdays import JAKARTA

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024
CSV_BOM = "\ufeff"  # so Excel opens the UTF-8 file with the right letters
DAY = "d MMMM y"  # a day in CSV with a locale, as the console writes it ("28 Desember 2026")
XLSX_DAY = "d mmmm yyyy"  # the same in a sheet, shown in the spreadsheet's own language


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def csv_cell(value: Any, locale: str | None = None) -> Any:
    """A value for a CSV cell: numbers as they are, dates in ISO form (the locale's way through Babel when
    `locale`), formula-like text behind a `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, int | float):
        return value
    if isinstance(value, date):
        return format_date(value, DAY, locale=locale) if locale else value.isoformat()
    text = str(value)
    return "'" + text if is_formula_like(text) else text


class Row(Protocol):
    """A sheet row: its cells in the columns' order (a catalogue row, a product waiting to go live...)."""

    @property
    def values(self) -> tuple[Any, ...]: ...


def csv_lines(rows: Sequence[Row], header: bool = False, headers: Sequence[str] = (),
              locale: str | None = None) -> bytes:
    """One page of rows as CSV bytes (with the BOM and the header row `headers` when `header`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        buffer.write(CSV_BOM)
        writer.writerow(headers)
    for row in rows:
        writer.writerow([csv_cell(v, locale) for v in row.values])
    return buffer.getvalue().encode("utf-8")


async def csv_stream(pages: AsyncIterator[Sequence[Any]], on_row: Callable[[Any], None] | None = None,
                     headers: Sequence[str] | None = None, locale: str | None = None) -> AsyncIterator[bytes]:
    """The CSV file, one page of rows at a time (the header first, even when there are no rows); `headers`
    default to the Indonesian catalogue worksheet's, dates are ISO unless `locale` is given."""
    yield csv_lines([], header=True, headers=catalogue.default_sheet().headers if headers is None else headers)
    async for page in pages:
        for row in page:
            if on_row:
                on_row(row)
        yield csv_lines(page, locale=locale)


class XlsxWriter:
    """An XLSX sheet written row by row (openpyxl write-only mode keeps rows in a temporary file)."""

    def __init__(self, headers: Sequence[str], title: str, day_format: str | None = None) -> None:
        from openpyxl import Workbook  # imported by the first export, not by every process (~8 MB)
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Font

        self._new_cell, self._illegal = WriteOnlyCell, ILLEGAL_CHARACTERS_RE
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(title)
        bold = Font(bold=True)
        header = []
        for name in headers:
            cell = WriteOnlyCell(self.sheet, value=name)
            cell.font = bold
            header.append(cell)
        self.sheet.append(header)
        self.rows = 0
        self.day_format = day_format

    def _cell(self, value: Any) -> Any:
        if isinstance(value, date) and self.day_format:
            cell = self._new_cell(self.sheet, value=value)
            cell.number_format = self.day_format
            return cell
        if value is None or isinstance(value, int | float | date):
            return value
        text = self._illegal.sub("", str(value))
        cell = self._new_cell(self.sheet, value=text)
        cell.data_type = "s"  # never a formula, whatever the text starts with
        if is_formula_like(text):
            cell.quotePrefix = True
        return cell

    def append(self, row: Row) -> None:
        self.sheet.append([self._cell(v) for v in row.values])
        self.rows += 1

    def save(self, target: IO[bytes] | Path) -> None:
        self.workbook.save(target)  # type: ignore[arg-type]


async def xlsx_stream(pages: AsyncIterator[Sequence[Any]], headers: Sequence[str], title: str,
                      on_row: Callable[[Any], None] | None = None, day_format: str | None = None,
                      ) -> AsyncIterator[bytes]:
    """The XLSX file: rows appended page by page to a write-only sheet, saved to a temp file, then sent."""
    writer = XlsxWriter(headers, title, day_format)
    async for page in pages:
        for row in page:
            writer.append(row)
            if on_row:
                on_row(row)
    with spooled() as handle:
        await anyio.to_thread.run_sync(writer.save, handle)
        for chunk in file_chunks(handle):
            yield chunk


def file_name(what: str, region_code: str, when: datetime, ext: str) -> str:
    """A download's name: what, whose region, and when in WIB (the officer's clock), e.g.
    `inaproc-18.03-20261207-0734.xlsx`."""
    return f"{what}-{region_code}-{when.astimezone(JAKARTA):%Y%m%d-%H%M}.{ext}"


def csv_download(rows: Sequence[Row], headers: Sequence[str], name: str) -> StreamingResponse:
    """Rows already read (a short list), as one CSV file to download."""

    async def chunks() -> AsyncIterator[bytes]:
        yield csv_lines(rows, header=True, headers=headers)

    return download(chunks(), "csv", name)


def download(chunks: AsyncIterator[bytes], fmt: str, name: str) -> StreamingResponse:
    """A streamed download named `name` (never cached, never sniffed)."""
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


def file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    handle.seek(0)
    while chunk := handle.read(CHUNK):
        yield chunk


def spooled() -> IO[bytes]:
    """A temporary file that stays in memory while small."""
    return tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115


class _Drain(io.RawIOBase):
    """A write-only, unseekable sink whose written bytes are taken out in chunks (for a streamed ZIP)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


class PhotoZip:
    """A ZIP of photos produced as a stream: `add` returns the bytes ready to send, `close` the rest."""

    def __init__(self) -> None:
        self.sink = _Drain()
        self.zip = zipfile.ZipFile(self.sink, mode="w", compression=zipfile.ZIP_STORED)  # photos are compressed

    def add(self, name: str, data: bytes) -> bytes:
        self.zip.writestr(name, data)
        return self.sink.take()

    def close(self) -> bytes:
        self.zip.close()
        return self.sink.take()
