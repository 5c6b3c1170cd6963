"""Our product categories (the flows' etalase keys) mapped to Katalog Elektronik v6 (INAPROC) categories.

The map is one cited data file, ``bot/data/catalogue_categories.csv``; what each column means, where each
row comes from and what could not be verified is in ``docs/inaproc.md``. A Dinas may replace it without a
code change: ``umkm-bot catalogue categories --import FILE`` checks a file and stores it at
``CATALOGUE_CATEGORIES_FILE`` (default ``data/catalogue_categories.csv``), which ``load()`` then prefers to
the shipped one. This module only reads and checks: no I/O besides reading those files, no database, no
network.

``validate(records)`` checks raw CSV records and returns one ``RowError`` per problem, each with the
spreadsheet row it is on (the header is row 1, the first category row 2; ``None`` for a problem of the
whole file, such as a category no row covers), a message ``key`` with its ``params`` for the templates the
Dinas console will show, and a plain English ``message``. ``parse_import(text)`` is what
``umkm-bot catalogue categories --import FILE`` will call: it never raises on bad content.

Message keys and their params:

- ``empty_file``: no header, or no rows.
- ``missing_column`` (column), ``unknown_column`` (column): the header is not the expected one.
- ``empty_category``; ``unknown_category`` (value, known); ``duplicate_category`` (value, first_row).
- ``missing_category`` (value): one of our categories has no row (row is None).
- ``empty_path``; ``path_bad_separator`` (value); ``path_empty_level`` (value, level);
  ``path_too_short`` (value, levels, min); ``path_too_deep`` (value, levels, max).
- ``kbki_not_digits`` (value); ``kbki_length`` (value, length, min, max);
  ``kbki_title_without_code`` (title).
- ``verified_invalid`` (value); ``verified_without_url`` (source).
- ``empty_source``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.flows.product import KATEGORI
from bot.settings import Settings

#: Our categories, in the product form's order (bot/flows/product.py).
OUR_CATEGORIES: tuple[str, ...] = tuple(KATEGORI)

COLUMNS: tuple[str, ...] = ("our_category", "catalogue_path", "kbki_code", "kbki_title", "source", "verified")
SEPARATOR = " > "
#: The v6 upload form asks for 3 category levels (docs/inaproc.md, section d); a path names at least the
#: first two (a level 1 alone places nothing) and never more than the form has.
MIN_LEVELS, MAX_LEVELS = 2, 3
#: KBKI (BPS) codes: 2-digit divisions up to 10-digit commodity codes (docs/inaproc.md, section b).
KBKI_MIN_DIGITS, KBKI_MAX_DIGITS = 2, 10
VERIFIED_VALUES = {"yes": True, "no": False}

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "catalogue_categories.csv"


@dataclass(frozen=True)
class CatalogueRow:
    """One of our categories and the catalogue category (and KBKI code, if known) it maps to."""

    our_category: str
    catalogue_path: str
    kbki_code: str
    kbki_title: str
    source: str
    verified: bool
    row: int = 0  # the spreadsheet row it was read from

    @property
    def levels(self) -> tuple[str, ...]:
        """The catalogue path's levels: "A > B > C" -> ("A", "B", "C")."""
        return tuple(part.strip() for part in self.catalogue_path.split(SEPARATOR))


@dataclass(frozen=True)
class RowError:
    """A problem in the file: where (spreadsheet row, None for the whole file), a key + params, a message."""

    row: int | None
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class CatalogueMap:
    """The rows, looked up by our category."""

    rows: tuple[CatalogueRow, ...]

    def get(self, our_category: str) -> CatalogueRow | None:
        return next((r for r in self.rows if r.our_category == our_category), None)

    def __getitem__(self, our_category: str) -> CatalogueRow:
        row = self.get(our_category)
        if row is None:
            raise KeyError(our_category)
        return row

    def __contains__(self, our_category: object) -> bool:
        return any(r.our_category == our_category for r in self.rows)

    def __iter__(self) -> Iterator[CatalogueRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def unverified(self) -> list[CatalogueRow]:
        """Rows no public source confirms yet: what an officer should check in the live category picker."""
        return [r for r in self.rows if not r.verified]


class CatalogueFileError(ValueError):
    """The shipped (or given) file does not validate; `errors` says why, row by row."""

    def __init__(self, path: Path, errors: list[RowError]) -> None:
        self.path, self.errors = path, errors
        lines = "\n".join(f"  {e.message}" for e in errors)
        super().__init__(f"{path}: {len(errors)} problem(s):\n{lines}")


def _error(row: int | None, key: str, message: str, **params: Any) -> RowError:
    where = f"Row {row}: " if row is not None else ""
    return RowError(row, key, params, where + message)


def _clean(record: Mapping[str, Any], column: str) -> str:
    value = record.get(column)
    return value.strip() if isinstance(value, str) else ""


def _check_path(row: int, path: str) -> list[RowError]:
    if not path:
        return [_error(row, "empty_path", "the catalogue path is empty; write it as 'Level 1 > Level 2 > Level 3'.")]
    if path.count(">") != path.count(SEPARATOR):
        return [_error(row, "path_bad_separator",
                       f"the catalogue path '{path}' must separate its levels with ' > ' (a space on each side).",
                       value=path)]
    levels = [part.strip() for part in path.split(SEPARATOR)]
    for number, level in enumerate(levels, 1):
        if not level:
            return [_error(row, "path_empty_level", f"level {number} of the catalogue path '{path}' is empty.",
                           value=path, level=number)]
    if len(levels) < MIN_LEVELS:
        return [_error(row, "path_too_short",
                       f"the catalogue path '{path}' has {len(levels)} level; give at least {MIN_LEVELS}, "
                       f"as 'Level 1 > Level 2'.", value=path, levels=len(levels), min=MIN_LEVELS)]
    if len(levels) > MAX_LEVELS:
        return [_error(row, "path_too_deep",
                       f"the catalogue path '{path}' has {len(levels)} levels; the catalogue has at most "
                       f"{MAX_LEVELS}.", value=path, levels=len(levels), max=MAX_LEVELS)]
    return []


def _check_kbki(row: int, code: str, title: str) -> list[RowError]:
    if not code:
        if title:
            return [_error(row, "kbki_title_without_code",
                           f"a KBKI title ('{title}') is given without a KBKI code; give both or neither.",
                           title=title)]
        return []
    if not code.isascii() or not code.isdigit():
        return [_error(row, "kbki_not_digits",
                       f"the KBKI code '{code}' must be digits only (no dots, spaces or letters).", value=code)]
    if not KBKI_MIN_DIGITS <= len(code) <= KBKI_MAX_DIGITS:
        return [_error(row, "kbki_length",
                       f"the KBKI code '{code}' has {len(code)} digits; a KBKI code has "
                       f"{KBKI_MIN_DIGITS} to {KBKI_MAX_DIGITS}.",
                       value=code, length=len(code), min=KBKI_MIN_DIGITS, max=KBKI_MAX_DIGITS)]
    return []


def validate(records: Sequence[Mapping[str, Any]], *, rows: Sequence[int] | None = None) -> list[RowError]:
    """Every problem in the records (dicts by column, as csv.DictReader gives them), in row order.

    `rows` are the records' spreadsheet rows; by default 2, 3, ... (the header is row 1). Checks: a known category,
    not repeated; a path of 2-3 levels separated by " > "; a KBKI code of digits only and 2-10 long, if
    any; `verified` yes or no (yes needs a source with a URL); a source; and every category covered.
    """
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        row = rows[index] if rows is not None else index + 2
        category = _clean(record, "our_category")
        if not category:
            errors.append(_error(row, "empty_category", "the category (our_category) is empty."))
        elif category not in OUR_CATEGORIES:
            errors.append(_error(row, "unknown_category",
                                 f"'{category}' is not one of our categories ({', '.join(OUR_CATEGORIES)}).",
                                 value=category, known=OUR_CATEGORIES))
        elif category in seen:
            errors.append(_error(row, "duplicate_category",
                                 f"the category '{category}' is already mapped on row {seen[category]}.",
                                 value=category, first_row=seen[category]))
        else:
            seen[category] = row
        errors += _check_path(row, _clean(record, "catalogue_path"))
        errors += _check_kbki(row, _clean(record, "kbki_code"), _clean(record, "kbki_title"))
        source = _clean(record, "source")
        if not source:
            errors.append(_error(row, "empty_source",
                                 "the source is empty; say where the mapping comes from (a title and URL, "
                                 "or what it is based on)."))
        verified = _clean(record, "verified").casefold()
        if verified not in VERIFIED_VALUES:
            errors.append(_error(row, "verified_invalid",
                                 f"verified must be 'yes' or 'no', not '{_clean(record, 'verified')}'.",
                                 value=_clean(record, "verified")))
        elif VERIFIED_VALUES[verified] and source and "http" not in source.casefold():
            errors.append(_error(row, "verified_without_url",
                                 "verified is 'yes' but the source names no URL; cite the public page that "
                                 "shows this path or code, or set verified to 'no'.", source=source))
    for category in OUR_CATEGORIES:
        if category not in seen:
            errors.append(_error(None, "missing_category",
                                 f"the category '{category}' has no row; every category needs one.",
                                 value=category))
    return errors


def _row(record: Mapping[str, Any], row: int) -> CatalogueRow:
    return CatalogueRow(
        our_category=_clean(record, "our_category"),
        catalogue_path=SEPARATOR.join(p.strip() for p in _clean(record, "catalogue_path").split(SEPARATOR)),
        kbki_code=_clean(record, "kbki_code"),
        kbki_title=_clean(record, "kbki_title"),
        source=_clean(record, "source"),
        verified=VERIFIED_VALUES[_clean(record, "verified").casefold()],
        row=row,
    )


def parse_import(text: str) -> tuple[CatalogueMap | None, list[RowError]]:
    """A CSV text as a map, or None and every problem found (the header's first, then the rows').

    Row numbers are those a spreadsheet shows: the header is row 1, and a blank line still counts as a row
    (it is skipped, not reported).
    """
    text = text.removeprefix("\ufeff")  # a byte-order mark, as spreadsheet programs save it
    lines = list(csv.reader(io.StringIO(text, newline="")))
    header = [name.strip() for name in lines[0]] if lines else []
    if not any(header):
        return None, [_error(None, "empty_file", "the file is empty; it needs a header row and one row per "
                                                 "category.")]
    errors = [_error(1, "missing_column", f"the header has no '{name}' column.", column=name)
              for name in COLUMNS if name not in header]
    errors += [_error(1, "unknown_column", f"the header has a column '{name}' that is not one of "
                                           f"{', '.join(COLUMNS)}.", column=name)
               for name in header if name and name not in COLUMNS]
    if errors:
        return None, errors
    records, rows = [], []
    for row, values in enumerate(lines[1:], 2):
        if any(v.strip() for v in values):
            records.append(dict(zip(header, values, strict=False)))
            rows.append(row)
    if not records:
        return None, [_error(None, "empty_file", "the file has a header but no rows.")]
    errors = validate(records, rows=rows)
    if errors:
        return None, errors
    return CatalogueMap(tuple(_row(r, n) for r, n in zip(records, rows, strict=True))), []


def current_path(settings: Settings | None = None) -> Path:
    """The file the bot reads: an imported map (CATALOGUE_CATEGORIES_FILE) when there is one, else the shipped."""
    imported = (settings or Settings()).catalogue_categories_file
    return imported if imported.is_file() else DEFAULT_PATH


def load(path: Path | str | None = None) -> CatalogueMap:
    """The map in `path` (by default the imported one, else the shipped one: `current_path`); raises
    CatalogueFileError when it does not validate."""
    path = Path(path) if path is not None else current_path()
    mapping, errors = parse_import(path.read_text(encoding="utf-8"))
    if mapping is None:
        raise CatalogueFileError(path, errors)
    return mapping
