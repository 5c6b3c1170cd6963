"""Logs: one line per event, JSON when asked, never a token, a WhatsApp number or SQL parameters."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.domain.messages import Inbound
from bot.ops import logs
from bot.settings import Settings
from tests.conftest import World
from tests.fake_telegram import TOKEN

NUMBER = "6281234567890"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Where `logs.setup` writes during the test; the logging setup before it is put back afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level,
             {name: logging.getLogger(name).level for name in [*logs.QUIET, "sqlalchemy.engine", "uvicorn.access"]})
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


async def test_the_bot_token_never_reaches_the_log(world: World, captured: io.StringIO) -> None:
    settings = world.engine.settings
    logs.setup(settings, logging.DEBUG, stream=captured)
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # httpx logs each request URL, token included
    logging.getLogger("telegram").setLevel(logging.DEBUG)
    owner = world.user(777)
    start = owner.message_update("command_start", text="/start")
    start["message"]["entities"] = [{"offset": 0, "length": 6, "type": "bot_command"}]
    await owner.post(start)
    await world.channels.deliverer.deliver_due()
    assert world.api.sent("sendMessage", 777)
    output = captured.getvalue()
    assert "HTTP Request: POST" in output and logs.REDACTED in output  # it was there, and it was cut
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    assert "update handled in" in output and "channel=telegram" in output
    assert f"contact={logs.contact_ref('telegram', '777')}" in output


async def test_a_whatsapp_number_never_appears_on_an_error(engine: Engine, captured: io.StringIO,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.conversation import owner

    settings = engine.settings.model_copy(update={"log_format": "json"})
    logs.setup(settings, logging.DEBUG, stream=captured)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # SQL statements on: parameters stay hidden

    async def fails(turn, inbound):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"cannot reach +{inbound.address} (NIK 3201234567890001)")

    monkeypatch.setattr(owner, "handle", fails)
    await engine.handle(Inbound("whatsapp", NUMBER, "wamid.1", "text", "halo", display_name="Sari Wulandari"))
    output = captured.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]  # every line is one JSON object
    assert NUMBER not in output and NUMBER[2:] not in output and "3201234567890001" not in output
    failed = [line for line in lines if line["level"] == "error"]
    assert failed and "RuntimeError" in failed[0]["error"] and "cannot reach" in failed[0]["error"]
    assert failed[0]["channel"] == "whatsapp" and failed[0]["event"] == "wamid.1"
    assert failed[0]["contact"] == logs.contact_ref("whatsapp", NUMBER)
    assert any("SQL parameters hidden" in line["message"] for line in lines)
    assert any(line["message"].startswith("update error in") for line in lines)


def test_secrets_and_query_strings_are_cut(captured: io.StringIO) -> None:
    settings = Settings(_env_file=None, whatsapp_verify_token="verify-me-please", whatsapp_app_secret="app-secret-x",
                        database_url="postgresql://bot:db-password-1@db/umkm")
    logs.setup(settings, logging.INFO, stream=captured)
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET",
                                             "/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=verify-me-please",
                                             "1.1", 200)
    logging.getLogger("bot").warning("connect to %s failed", "postgresql://bot:db-password-1@db/umkm")
    logging.getLogger("bot").info("secret %s, bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ", "app-secret-x")
    output = captured.getvalue()
    for secret in ("verify-me-please", "db-password-1", "app-secret-x", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"):
        assert secret not in output
    assert '"GET /whatsapp/webhook HTTP/1.1" 200' in output


def test_contact_ref_is_stable_and_keyed() -> None:
    first = logs.contact_ref("whatsapp", NUMBER)
    assert first == logs.contact_ref("whatsapp", NUMBER) and first != logs.contact_ref("telegram", NUMBER)
    assert len(first) == 14 and NUMBER not in first



def test_a_command_run_in_process_leaves_no_handler_behind(captured: io.StringIO, tmp_path: Path) -> None:
    """CliRunner swaps sys.stderr for a stream it closes when the command ends: the logging `chat` set up is put
    back when it ends, so a later line neither fails ("--- Logging error ---") nor goes to the dead stream."""
    from typer.testing import CliRunner

    from bot.cli import app

    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'umkm.db'}"}
    assert CliRunner().invoke(app, ["chat"], input="", env=env).exit_code == 0
    assert (list(root.handlers), root.level) == before


def test_the_handler_writes_to_stderr_as_it_is_at_each_line(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = logs.handler_for(Settings(_env_file=None))
    for stream in (io.StringIO(), io.StringIO()):
        monkeypatch.setattr(sys, "stderr", stream)
        handler.handle(logging.makeLogRecord({"msg": "a line", "levelno": logging.WARNING}))
        assert "a line" in stream.getvalue()
