"""bot/flows/catalogue_map.py: the shipped category map validates and covers every category; each kind of bad row
gets its own error, with its row, key and params."""

from __future__ import annotations

import csv
import io

import pytest

from bot.flows import catalogue_map as cm
from bot.flows.product import KATEGORI

GOOD = {
    "our_category": "makanan",
    "catalogue_path": "Makanan dan Minuman > Makanan",
    "kbki_code": "",
    "kbki_title": "",
    "source": "proposal from DESIGN.md",
    "verified": "no",
}


def csv_text(rows: list[dict[str, str]], columns=cm.COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def full(**changes: str) -> list[dict[str, str]]:
    """A valid row for every category, the first (makanan, spreadsheet row 2) with `changes`."""
    rows = [dict(GOOD, our_category=key) for key in KATEGORI]
    rows[0].update(changes)
    return rows


def test_shipped_file_validates_and_covers_every_category():
    text = cm.DEFAULT_PATH.read_text(encoding="utf-8")
    mapping, errors = cm.parse_import(text)
    assert errors == []
    assert mapping is not None
    assert [row.our_category for row in mapping] == list(KATEGORI)
    assert set(cm.OUR_CATEGORIES) == set(KATEGORI)
    loaded = cm.load()
    for key in KATEGORI:
        row = loaded[key]
        assert key in loaded and loaded.get(key) is row
        assert cm.MIN_LEVELS <= len(row.levels) <= cm.MAX_LEVELS
        assert row.source


def test_shipped_file_claims_no_verification_without_a_url():
    for row in cm.load():
        assert not row.verified or "http" in row.source


def test_lookup_of_an_unknown_category():
    mapping = cm.load()
    assert mapping.get("elektronik") is None
    assert "elektronik" not in mapping
    with pytest.raises(KeyError):
        mapping["elektronik"]


def test_a_good_file_parses_with_trimmed_values_and_row_numbers():
    rows = full(catalogue_path="  A >  B > C ", kbki_code=" 2111 ", kbki_title="Daging",
                source="Some page https://example.org", verified=" Yes ")
    mapping, errors = cm.parse_import("\ufeff" + csv_text(rows))
    assert errors == []
    row = mapping["makanan"]
    assert row.levels == ("A", "B", "C") and row.catalogue_path == "A > B > C"
    assert row.kbki_code == "2111" and row.verified is True and row.row == 2
    assert mapping["lainnya"].row == 1 + len(KATEGORI)
    assert [r.our_category for r in mapping.unverified()] == list(KATEGORI)[1:]


BAD_ROWS = [
    ({"our_category": ""}, "empty_category", {}),
    ({"our_category": "elektronik"}, "unknown_category", {"value": "elektronik", "known": tuple(KATEGORI)}),
    ({"catalogue_path": ""}, "empty_path", {}),
    ({"catalogue_path": "Makanan>Kue"}, "path_bad_separator", {"value": "Makanan>Kue"}),
    ({"catalogue_path": "Makanan / Kue"}, "path_too_short", {"value": "Makanan / Kue", "levels": 1, "min": 2}),
    ({"catalogue_path": "Makanan >  > Kue"}, "path_empty_level", {"value": "Makanan >  > Kue", "level": 2}),
    ({"catalogue_path": "A > B > C > D"}, "path_too_deep", {"value": "A > B > C > D", "levels": 4, "max": 3}),
    ({"kbki_code": "21.11"}, "kbki_not_digits", {"value": "21.11"}),
    ({"kbki_code": "２１１"}, "kbki_not_digits", {"value": "２１１"}),
    ({"kbki_code": "2"}, "kbki_length", {"value": "2", "length": 1, "min": 2, "max": 10}),
    ({"kbki_code": "12345678901"}, "kbki_length", {"value": "12345678901", "length": 11, "min": 2, "max": 10}),
    ({"kbki_title": "Roti"}, "kbki_title_without_code", {"title": "Roti"}),
    ({"verified": "maybe"}, "verified_invalid", {"value": "maybe"}),
    ({"verified": ""}, "verified_invalid", {"value": ""}),
    ({"verified": "yes"}, "verified_without_url", {"source": "proposal from DESIGN.md"}),
    ({"source": "  "}, "empty_source", {}),
]


@pytest.mark.parametrize(("changes", "key", "params"), BAD_ROWS, ids=[case[1] + str(i) for i, case in
                                                                      enumerate(BAD_ROWS)])
def test_each_bad_row_gets_its_own_error(changes, key, params):
    rows = full(**changes)
    mapping, errors = cm.parse_import(csv_text(rows))
    assert mapping is None
    row_errors = [e for e in errors if e.row == 2]
    assert [e.key for e in row_errors] == [key]
    error = row_errors[0]
    assert dict(error.params) == params
    assert error.message.startswith("Row 2: ")
    # Direct validation of the records gives the same error.
    assert [(e.row, e.key) for e in cm.validate(rows) if e.row == 2] == [(2, key)]


def test_a_duplicate_names_the_first_row():
    rows = full() + [dict(GOOD, our_category="minuman")]
    errors = cm.validate(rows)
    assert [(e.row, e.key, dict(e.params)) for e in errors] == [
        (2 + len(KATEGORI), "duplicate_category", {"value": "minuman", "first_row": 3})]


def test_a_category_without_a_row_is_reported_for_the_whole_file():
    rows = [row for row in full() if row["our_category"] != "atk"]
    mapping, errors = cm.parse_import(csv_text(rows))
    assert mapping is None
    assert [(e.row, e.key, dict(e.params)) for e in errors] == [(None, "missing_category", {"value": "atk"})]
    assert "atk" in errors[0].message


def test_several_problems_on_several_rows_are_all_reported_in_order():
    rows = full(kbki_code="x1", verified="ya")
    rows[3]["catalogue_path"] = ""
    errors = cm.validate(rows)
    assert [(e.row, e.key) for e in errors] == [(2, "kbki_not_digits"), (2, "verified_invalid"),
                                                (5, "empty_path")]


def test_blank_lines_are_skipped_but_still_counted_as_rows():
    lines = csv_text(full()).splitlines()
    lines.insert(2, "")  # a blank spreadsheet row 3
    lines[4] = lines[4].replace(",no", ",nope")  # the category now on spreadsheet row 5
    mapping, errors = cm.parse_import("\n".join(lines) + "\n")
    assert mapping is None
    assert [(e.row, e.key) for e in errors] == [(5, "verified_invalid")]


@pytest.mark.parametrize(("text", "key", "row"), [
    ("", "empty_file", None),
    ("\n\n", "empty_file", None),
    (",".join(cm.COLUMNS) + "\n", "empty_file", None),
    ("our_category,catalogue_path,kbki_code,kbki_title,source\n", "missing_column", 1),
    (",".join(cm.COLUMNS) + ",notes\n", "unknown_column", 1),
])
def test_file_level_problems(text, key, row):
    mapping, errors = cm.parse_import(text)
    assert mapping is None
    assert [(e.key, e.row) for e in errors] == [(key, row)]


def test_load_raises_with_every_error(tmp_path):
    path = tmp_path / "map.csv"
    path.write_text(csv_text(full(verified="maybe")), encoding="utf-8")
    with pytest.raises(cm.CatalogueFileError) as caught:
        cm.load(path)
    assert [e.key for e in caught.value.errors] == ["verified_invalid"]
    assert "Row 2" in str(caught.value)
