"""The doors to the console's sign-in: the officer's Telegram command menu and `umkm-bot officer link`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.review.officers import add_officer
from bot.service.web import _officer_chats
from tests.conftest import World
from tests.fake_telegram import FakeBotAPI


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_officer_chats_get_a_menu_with_dasbor(world: World, api: FakeBotAPI) -> None:
    await add_officer(world.db, "Budi", "18.03", "telegram", "7770001")
    await add_officer(world.db, "Ani", "18.04", "terminal", "ani")
    telegram = world.channels.telegram
    assert telegram is not None
    await telegram.set_officer_commands(world.engine.renderer, await _officer_chats(world.db, "telegram"))
    [call] = api.sent("setMyCommands")
    assert call.params["scope"] == {"type": "chat", "chat_id": 7770001}
    assert [c["command"] for c in call.params["commands"]][0] == "dasbor"


def test_officer_link_prints_a_one_time_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'umkm.db'}")
    for name in ("PUBLIC_URL", "PORT", "DINAS_SECRET_KEY", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    added = runner.invoke(app, ["officer", "add", "--name", "Budi", "--region", "18.03", "--terminal", "b"])
    assert added.exit_code == 0
    local = runner.invoke(app, ["officer", "link", "1"])
    assert local.exit_code == 0 and local.output.startswith("http://127.0.0.1:8080/dinas/login/")
    monkeypatch.setenv("PUBLIC_URL", "https://umkm.example.go.id/")
    public = runner.invoke(app, ["officer", "link", "1"])
    assert public.output.startswith("https://umkm.example.go.id/dinas/login/") and public.output != local.output
    assert runner.invoke(app, ["officer", "remove", "1"]).exit_code == 0
    removed = runner.invoke(app, ["officer", "link", "1"])
    assert removed.exit_code == 2 and "No active officer #1" in removed.output
