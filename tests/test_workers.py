"""`umkm-bot run --workers 2`: two processes answer on one port, and both stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fake_telegram import TOKEN, FakeBotAPI
from tests.loopback import free_port
from tests.test_cli import CHANNEL_VARS


def process_ids(parent: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]


def test_two_workers_share_the_port_and_stop_together(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARS}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'umkm.db'}", MEDIA_DIR=str(tmp_path / "media"))
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log, httpx.Client(trust_env=False, timeout=2) as http:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--port", str(port), "--workers", "2"],
                                   cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            answered = 0
            while answered < 20:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                try:
                    answered += http.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
                except httpx.TransportError:
                    time.sleep(0.1)
            children = process_ids(process.pid)
            assert len(children) == 2
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, log_path.read_text()
            assert not any(Path(f"/proc/{pid}").exists() for pid in children)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert "with 2 worker processes" in log_path.read_text()


async def test_only_one_of_several_workers_polls_telegram(tmp_path: Path) -> None:
    """Without PUBLIC_URL the bot polls, and Telegram refuses a second poller: one worker of N polls."""
    async with FakeBotAPI() as api:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARS and not k.startswith("TELEGRAM_")}
        env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'umkm.db'}", MEDIA_DIR=str(tmp_path / "media"),
                   TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url)
        log_path = tmp_path / "run.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--port", str(port), "--workers", "3",
                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                for _ in range(600):  # every worker has started
                    if log_path.read_text().count("channels configured") >= 3 or process.returncode is not None:
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(3)  # time for each to set its command menu and start polling, or not
                output = log_path.read_text()
                assert output.count("channels configured") == 3, output
                assert output.count("telegram: long polling") == 1, output
                assert any(call.method == "getUpdates" for call in api.calls)
            finally:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
