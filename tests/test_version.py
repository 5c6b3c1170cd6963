"""One version, pyproject.toml's: `umkm-bot --version`, `/healthz` and the console's footer all say it."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import bot
from bot.cli import app
from bot.service.web import create_app
from bot.settings import Settings
from storage.db import Database

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def pyproject_version() -> str:
    return tomllib.loads(PYPROJECT.read_text())["project"]["version"]


def test_the_version_is_pyprojects() -> None:
    assert bot.version() == pyproject_version() == metadata.version("umkm-bot")


def test_without_installed_metadata_the_source_tree_or_unknown(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    bot.version.cache_clear()
    try:
        assert bot.version() == pyproject_version()  # a checkout never installed
        bot.version.cache_clear()
        monkeypatch.setattr(bot, "__file__", str(tmp_path / "bot" / "__init__.py"))  # no pyproject.toml beside
        assert bot.version() == bot.UNKNOWN_VERSION
    finally:
        bot.version.cache_clear()


def test_cli_version_option() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"umkm-bot {pyproject_version()}\n"
    assert "--version" in CliRunner().invoke(app, ["--help"]).output


async def test_healthz_and_the_console_footer_say_the_version(database: Database, settings: Settings) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, database)),
                                 base_url="http://bot") as http:
        health = await http.get("/healthz")
        page = await http.get("/dinas/login/not-a-link")  # a console page anyone sees
    assert health.json() == {"status": "ok", "version": pyproject_version()}
    assert page.headers["content-type"].startswith("text/html")
    footer = page.text[page.text.index("<footer>"):page.text.index("</footer>")]
    assert f"umkm-bot {pyproject_version()}" in footer
