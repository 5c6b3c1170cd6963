"""`umkm-bot officer add ... --admin` makes the Dinas's first admin (who then invites officers on the web)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app


def test_officer_add_admin_makes_an_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'umkm.db'}")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    runner = CliRunner()
    added = runner.invoke(app, ["officer", "add", "--name", "Bu Admin", "--region", "18", "--telegram", "42",
                                "--admin"], catch_exceptions=False)
    assert added.exit_code == 0, added.output
    assert "Admin #1 Bu Admin" in added.output
    plain = runner.invoke(app, ["officer", "add", "--name", "Budi", "--region", "18.03", "--telegram", "43"],
                          catch_exceptions=False)
    assert plain.exit_code == 0 and "Officer #2 Budi" in plain.output
    with contextlib.closing(sqlite3.connect(tmp_path / "umkm.db")) as conn:
        assert conn.execute("SELECT id, role FROM officer ORDER BY id").fetchall() == [(1, "admin"), (2, "officer")]
