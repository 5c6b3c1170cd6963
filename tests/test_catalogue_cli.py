"""`umkm-bot catalogue categories [--import FILE]` through typer's CliRunner: a bad file is refused row by row
and changes nothing; a good one is stored at CATALOGUE_CATEGORIES_FILE, which the bot's loader then prefers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.flows import catalogue_map

Invoke = Callable[..., Result]
SHIPPED = catalogue_map.DEFAULT_PATH.read_text(encoding="utf-8")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CATALOGUE_CATEGORIES_FILE", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_prints_the_shipped_map_then_imports_a_new_one(cli: Invoke, tmp_path: Path) -> None:
    shown = cli("catalogue", "categories")
    assert shown.exit_code == 0, shown.output
    assert f"{catalogue_map.DEFAULT_PATH} (shipped)" in shown.output
    assert "makanan: Makanan dan Minuman > Makanan  (unverified)" in shown.output
    new = SHIPPED.replace("Kerajinan > Kerajinan Tangan,,,", "Kerajinan > Anyaman > Tas Anyaman,3141,Tas anyaman,")
    (tmp_path / "map.csv").write_text("\ufeff" + new, encoding="utf-8")  # as a spreadsheet saves it
    imported = cli("catalogue", "categories", "--import", "map.csv")
    assert imported.exit_code == 0, imported.output
    stored = tmp_path / "data" / "catalogue_categories.csv"
    assert f"Imported 10 categories to {Path('data/catalogue_categories.csv')}" in imported.output
    assert stored.read_text(encoding="utf-8") == new
    # The bot's loader reads the imported map, no code changed; the CLI shows it as the current one.
    assert catalogue_map.load()["kerajinan"].catalogue_path == "Kerajinan > Anyaman > Tas Anyaman"
    assert catalogue_map.load()["kerajinan"].kbki_code == "3141"
    shown = cli("catalogue", "categories")
    assert "(imported)" in shown.output and "kerajinan: Kerajinan > Anyaman > Tas Anyaman  KBKI 3141" in shown.output


def test_a_bad_file_is_refused_row_by_row_and_changes_nothing(cli: Invoke, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "elsewhere" / "map.csv"
    monkeypatch.setenv("CATALOGUE_CATEGORIES_FILE", str(target))
    assert cli("catalogue", "categories", "--import", str(catalogue_map.DEFAULT_PATH)).exit_code == 0
    before = target.read_text(encoding="utf-8")
    bad = (SHIPPED.replace("Kerajinan > Kerajinan Tangan", "Kerajinan/Tas")    # row 4: bad separator
                  .replace("minuman,Makanan dan Minuman > Minuman,,", "minuman,Makanan dan Minuman > Minuman,12.3,"))
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    refused = cli("catalogue", "categories", "--import", "bad.csv")
    assert refused.exit_code == 1
    assert "Row 3: the KBKI code '12.3' must be digits only" in refused.output
    assert "Row 4: the catalogue path 'Kerajinan/Tas' has 1 level" in refused.output
    assert "2 problem(s); nothing was changed." in refused.output
    assert target.read_text(encoding="utf-8") == before
    assert catalogue_map.load()["kerajinan"].catalogue_path == "Kerajinan > Kerajinan Tangan"


def test_an_unreadable_file_is_a_clear_error(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "map.xlsx").write_bytes(b"PK\x03\x04\xff\xfe")
    refused = cli("catalogue", "categories", "--import", "map.xlsx")
    assert refused.exit_code == 2 and "as UTF-8 text" in refused.output  # a usage error  # noqa: PLR2004
    assert not (tmp_path / "data").exists()
