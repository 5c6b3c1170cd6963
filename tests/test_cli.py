"""`umkm-bot`: whole conversations in terminals, officer admin, db upgrade, and `run` as a real process."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from bot import version
from bot.cli import app
from tests.conftest import make_image
from tests.loopback import free_port
from tests.support.conversations import BUSINESS_ANSWERS

CHANNEL_VARS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "PUBLIC_URL", "WHATSAPP_ACCESS_TOKEN",
                "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")

# tests/test_golden.py's owner, typed: a number presses a button of the last message, photos are file paths.
OWNER_SCRIPT = "\n".join([
    "/start",
    "1",                                        # Saya setuju
    *BUSINESS_ANSWERS,
    "Keripik Singkong Balado 250 g",
    "1",                                        # Makanan
    "Bu Sari",
    "Keripik singkong renyah bumbu balado, 250 gram, kemasan standing pouch.",
    "25rb",
    "1",                                        # pcs
    "500",
    "250 gr 20x15x5 cm",
    "1",                                        # Ya, produk dalam negeri
    "P-IRT 2063509010789-26",                   # (then BPOM is not asked)
    "ID31110000123450321",                      # halal
    "red.jpg blue.jpg",                         # then the summary
    "1",                                        # Kirim ke Dinas
]) + "\n"

Invoke = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Runs `umkm-bot ...` in tmp_path, on a SQLite file there, with no chat channel configured."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'umkm.db'}")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    for name in CHANNEL_VARS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "red.jpg").write_bytes(make_image(color="red"))
    (tmp_path / "blue.jpg").write_bytes(make_image(color="blue"))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def product_status(tmp_path: Path) -> str:
    with contextlib.closing(sqlite3.connect(tmp_path / "umkm.db")) as conn:
        return conn.execute("SELECT status FROM product WHERE id = 1").fetchone()[0]


def test_owner_submits_officer_approves_in_two_terminals(cli: Invoke, tmp_path: Path) -> None:
    added = cli("officer", "add", "--name", "Budi", "--region", "Lampung Utara", "--terminal", "officer-1")
    assert added.exit_code == 0, added.output
    assert "Officer #1 Budi" in added.output and "terminal:officer-1" in added.output

    owner = cli("chat", input=OWNER_SCRIPT)
    assert owner.exit_code == 0, owner.output
    out = owner.output
    assert out.startswith("> /start\n")
    assert out.index("> /start") < out.index("  [1] Saya setuju   [2] Tidak setuju") < out.index("> 1\n")
    assert "Ringkasan produk #1" in out and "Rp25.000" in out and "2 foto" in out
    assert "Terkirim!" in out.split("> red.jpg blue.jpg")[1]
    assert product_status(tmp_path) == "submitted"
    assert "Pengajuan produk baru" not in out  # that one waits for the officer's terminal

    officer = cli("chat", "--as", "officer-1", input="1\n")
    assert officer.exit_code == 0, officer.output
    before, after = officer.output.split("> 1\n")
    assert "Pengajuan produk baru #1" in before and "Keripik Singkong Balado 250 g" in before
    assert "  [1] Setujui   [2] Minta revisi   [3] Tolak" in before
    photos = [line.split("🖼  ")[1] for line in before.splitlines() if "🖼  " in line]
    assert len(photos) == 2 and all(Path(p).is_file() for p in photos)
    assert "disetujui" in after
    assert product_status(tmp_path) == "approved"

    again = cli("chat", input="")
    assert again.exit_code == 0 and "DISETUJUI" in again.output
    assert "DISETUJUI" not in cli("chat", input="").output  # shown once


def test_officer_list_shows_a_submission_nobody_was_told_about(cli: Invoke) -> None:
    assert cli("officer", "add", "--name", "Ani", "--region", "32", "--telegram", "-1001234567890").exit_code == 0
    assert cli("chat", "--as", "sari", input=OWNER_SCRIPT).exit_code == 0
    listing = cli("officer", "list")
    assert listing.exit_code == 0, listing.output
    header, ani = listing.output.splitlines()[:2]
    assert header.split() == ["ID", "NAME", "REGION", "ACTIVE", "CHATS"]
    assert ani.split()[:2] == ["1", "Ani"] and "Jawa Barat (32)" in ani and "telegram:-1001234567890" in ani
    assert "Submissions waiting with no officer for their region (1):" in listing.output
    assert ("product #1 'Keripik Singkong Balado 250 g' by Keripik Bu Sari, "
            "Kabupaten Lampung Utara, Lampung (18.03)") in listing.output
    added = cli("officer", "add", "--name", "Budi", "--region", "Lampung Utara", "--terminal", "budi")
    assert "Sent them 1 submission(s) that waited for an officer of this region." in added.output
    officer = cli("chat", "--as", "budi", input="/quit\n")
    assert "Pengajuan produk baru #1" in officer.output and "[1] Setujui" in officer.output


def test_officer_add_list_remove(cli: Invoke) -> None:
    assert "No officers yet" in cli("officer", "list").output
    added = cli("officer", "add", "--name", "Budi", "--region", "18.03", "--whatsapp", "+62 812-3456-7890")
    assert added.exit_code == 0 and "whatsapp:6281234567890" in added.output
    twice = cli("officer", "add", "--name", "Budi", "--region", "18.03", "--whatsapp", "081234567890")
    assert twice.exit_code == 2 and "already officer #1" in twice.output
    assert cli("officer", "remove", "1").exit_code == 0
    row = cli("officer", "list").output.splitlines()[1].split()
    assert row[0] == "1" and "no" in row and row[-1] == "whatsapp:6281234567890"
    missing = cli("officer", "remove", "99")
    assert missing.exit_code == 2 and "No officer #99" in missing.output
    assert "No submission is waiting" in cli("officer", "list").output


@pytest.mark.parametrize(("args", "message"), [
    (["--region", "xyz", "--terminal", "o-1"], "No province or kabupaten/kota matches 'xyz'"),
    (["--region", "bogor", "--terminal", "o-1"], "32.01 Kabupaten Bogor, Jawa Barat; 32.71 Kota Bogor"),
    (["--region", "18.03", "--telegram", "@budi"], "--telegram must be a numeric Telegram chat id"),
    (["--region", "18.03", "--telegram", "0"], "--telegram must be a numeric Telegram chat id"),
    (["--region", "18.03", "--whatsapp", "12345"], "--whatsapp must be an Indonesian mobile number"),
    (["--region", "18.03", "--terminal", "officer one"], "--terminal must be an id without spaces"),
    (["--region", "18.03"], "give exactly one of --telegram CHAT_ID, --whatsapp PHONE or --terminal ID."),
    (["--region", "18.03", "--telegram", "42", "--terminal", "o-1"], "(got --telegram, --terminal)"),
])
def test_officer_add_refuses_mistakes(cli: Invoke, args: list[str], message: str) -> None:
    result = cli("officer", "add", "--name", "Budi", *args)
    assert result.exit_code == 2
    assert "Error: " in result.output and message in result.output
    assert "No officers yet" in cli("officer", "list").output


def test_officer_add_needs_a_name(cli: Invoke) -> None:
    result = cli("officer", "add", "--name", " ", "--region", "18.03", "--terminal", "o-1")
    assert result.exit_code == 2 and "--name must not be empty" in result.output


def test_db_upgrade_with_the_default_url_in_a_fresh_checkout(cli: Invoke, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL")
    result = cli("db", "upgrade")
    assert result.exit_code == 0 and "sqlite:///data/umkm.db is up to date" in result.output
    assert (tmp_path / "data" / "umkm.db").is_file()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_run_serves_healthz_and_stops_on_a_signal(tmp_path: Path, stop: signal.Signals) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARS}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'umkm.db'}", MEDIA_DIR=str(tmp_path / "media"))
    args = [sys.executable, "-m", "bot", "run"]
    if stop == signal.SIGTERM:
        env["PORT"] = str(port)  # as the Procfile's platform sets it
    else:
        args += ["--port", str(port)]
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log, httpx.Client(trust_env=False, timeout=2) as http:
        process = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                try:
                    health = http.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert health.status_code == 200 and health.json() == {"status": "ok", "version": version()}
            process.send_signal(stop)
            assert process.wait(timeout=20) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    output = log_path.read_text()
    for text in ("No chat channel is configured", "TELEGRAM_BOT_TOKEN", "WHATSAPP_ACCESS_TOKEN",
                 "WHATSAPP_PHONE_NUMBER_ID", "umkm-bot chat"):
        assert text in output
    assert (tmp_path / "umkm.db").is_file()


def test_python_dash_m_bot_is_the_same_cli(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, timeout=30,
                            cwd=tmp_path, env={**os.environ, "COLUMNS": "120"})
    assert result.returncode == 0
    assert "umkm-bot" in result.stdout and all(c in result.stdout for c in ("run", "chat", "officer", "db"))
