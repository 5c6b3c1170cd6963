"""Fault suite, kill -9: a real `umkm-bot run` (Telegram webhook, PostgreSQL) killed at random moments while chats
onboard, restarted at once each time. One line of figures.

    python benchmarks/faults_kill.py [--kills 30] [--chats 24]

Chats post real update shapes (tests/fixtures/telegram: /start, the consent button, the profile answers) as
Telegram does: an update whose POST got no 200 (refused connection, reset, 5xx, timeout) is posted again with
the same update_id until it gets one; like a person, a chat answers only once the bot's reply arrived (or after
15 s). Meanwhile the process is killed (-9) `--kills` times, each at a random moment after it answered /healthz,
and started again at once. Then delivery drains and the suite counts, from the database and the fake Bot API:

- answers lost: an update that got a 200 without its event in `inboundevent`, or whose turn left no outbox row
  (a chat's turns are sequential: a reply row written between its event and the chat's next event);
- replies lost: outbox rows whose text never reached the chat; duplicates: a row's text reaching it again;
- chats out of order: a chat whose first arrivals are not its outbox rows in id order;
- worst delay after a restart: for each reply, arrival - max(its update's 200, the last restart before it).

Exit 1 when a promised zero is not zero or a delay is over 10 s; exit 0 with a line when PostgreSQL is absent.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import load  # noqa: E402
import webhook  # noqa: E402

from bot.handlers.telegram import MAX_TEXT  # noqa: E402
from bot.words.markup import split_html  # noqa: E402
from tests.telegram_user import fixture  # noqa: E402

ANSWERS = load.ANSWERS
MAX_DELAY = 10.0
REPLY_WAIT = 15.0
_update_ids = itertools.count(300_000_000)
_message_ids = itertools.count(1)


def script(chat_id: int) -> list[dict[str, Any]]:
    """One onboarding as Telegram delivers it: /start, the consent button, then the answers."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Sari", "language_code": "id"}
    chat = {"id": chat_id, "first_name": "Sari", "type": "private"}

    def message(text: str) -> dict[str, Any]:
        update = fixture("text_message")
        update["message"].update(message_id=next(_message_ids), chat=dict(chat), text=text)
        update["message"]["from"] = dict(person)
        if text.startswith("/"):
            update["message"]["entities"] = [{"offset": 0, "length": len(text), "type": "bot_command"}]
        return update

    consent = copy.deepcopy(fixture("callback_query"))
    consent["callback_query"].update(id=f"q{next(_message_ids)}", data="consent:yes", **{"from": dict(person)})
    consent["callback_query"]["message"].update(chat=dict(chat))
    updates = [message("/start"), consent, *(message(text) for text in ANSWERS)]
    for update in updates:
        update["update_id"] = next(_update_ids)
    return updates


class Suite:
    def __init__(self, api: load.TimedBotAPI, url: str, work: Path) -> None:
        self.api, self.url, self.work = api, url, work
        self.port = load.free_port()
        self.env = load.bot_env(api, url, self.port, work / "media", TELEGRAM_CHAT_RATE="1000")
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts: list[float] = []  # monotonic times the process was (re)started
        self.accepted: dict[int, tuple[int, float]] = {}  # update_id -> (chat, time of its 200)
        self.waits: list[tuple[int, float, int]] = []  # (chat, 200 of an update, chat's arrivals before it)
        self.posts = self.refused = 0
        self.stop = asyncio.Event()

    def start(self) -> None:
        out = (self.work / "bot.log").open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--port", str(self.port)],
                                        env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.work)
        self.restarts.append(time.monotonic())

    def arrivals(self, chat: int) -> int:
        return sum(1 for _, c, _ in self.api.arrivals if c == chat)

    async def deliver(self, client: httpx.AsyncClient, update: dict[str, Any]) -> float:
        """Posts the update until it gets a 200, as Telegram does; the time of the 200."""
        while True:
            self.posts += 1
            try:
                response = await client.post("/telegram/webhook", json=update,
                                             headers={"X-Telegram-Bot-Api-Secret-Token": load.SECRET})
                if response.status_code == 200:
                    return time.monotonic()
            except httpx.TransportError:
                pass
            self.refused += 1
            await asyncio.sleep(random.uniform(0.2, 0.6))

    async def person(self, client: httpx.AsyncClient, chats: itertools.count[int]) -> None:
        """Onboards one chat after another until told to stop (finishing the update in hand)."""
        while not self.stop.is_set():
            chat = next(chats)
            for update in script(chat):
                if self.stop.is_set():
                    return
                seen = self.arrivals(chat)
                at = await self.deliver(client, update)
                self.accepted[update["update_id"]] = (chat, at)
                self.waits.append((chat, at, seen))
                deadline = at + REPLY_WAIT
                while self.arrivals(chat) == seen and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                await asyncio.sleep(random.uniform(0.0, 0.3))

    def replies(self) -> list[tuple[float, float]]:
        """(200 of an update, arrival of its reply): the chat's first new text after it; never: +inf."""
        times: dict[int, list[tuple[float, str]]] = defaultdict(list)
        for t, chat, text in self.api.arrivals:
            times[chat].append((t, text))
        pairs = []
        for chat, at, seen in self.waits:
            before = {text for _, text in times[chat][:seen]}
            pairs.append((at, next((t for t, text in times[chat][seen:] if text not in before), float("inf"))))
        return pairs

    def delay(self, at: float, arrival: float) -> float:
        """From the 200, or from the last restart before the reply arrived if later."""
        return arrival - max([at, *(r for r in self.restarts if r <= arrival)])

    async def killer(self, kills: int) -> None:
        log = self.work / "bot.log"
        for _ in range(kills):
            assert self.process is not None
            await load.wait_healthy(self.port, self.process, log)
            await asyncio.sleep(random.uniform(0.2, 2.5))
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.start()
        assert self.process is not None
        await load.wait_healthy(self.port, self.process, log)
        await asyncio.sleep(2.0)
        self.stop.set()

    async def drain(self, limit: float = 60) -> None:
        """Until no outbox row is pending and nothing arrived for a second (or `limit` seconds)."""
        deadline = time.monotonic() + limit
        conn = await asyncpg.connect(self.url)
        try:
            while time.monotonic() < deadline:
                pending = await conn.fetchval("SELECT count(*) FROM outboxmessage WHERE status = 'pending'")
                count = len(self.api.arrivals)
                await asyncio.sleep(1.0)
                if not pending and count == len(self.api.arrivals):
                    return
        finally:
            await conn.close()

    async def figures(self, kills: int, elapsed: float) -> tuple[str, bool]:
        conn = await asyncpg.connect(self.url)
        try:
            events = {r["external_id"]: r["received_at"] for r in await conn.fetch(
                "SELECT external_id, received_at FROM inboundevent WHERE channel = 'telegram'")}
            rows = await conn.fetch("SELECT id, address, payload->>'text' AS text, created_at FROM outboxmessage "
                                    "WHERE channel = 'telegram' ORDER BY id")
        finally:
            await conn.close()
        by_chat: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            by_chat[int(row["address"])].append(row)
        turns: dict[int, list[Any]] = defaultdict(list)
        lost_answers = 0
        for update_id, (chat, _) in self.accepted.items():
            if str(update_id) in events:
                turns[chat].append(events[str(update_id)])
            else:
                lost_answers += 1
        for chat, times in turns.items():
            times.sort()
            bounds = [*times[1:], None]
            made = [r["created_at"] for r in by_chat[chat]]
            lost_answers += sum(1 for start, end in zip(times, bounds, strict=True)
                                if not any(start <= m and (end is None or m < end) for m in made))
        arrived: dict[int, list[str]] = defaultdict(list)
        for _, chat, text in self.api.arrivals:
            arrived[chat].append(text)
        lost_replies = duplicates = disordered = 0
        for chat in set(by_chat) | set(arrived):
            sent = [piece for r in by_chat[chat] for piece in split_html(r["text"], MAX_TEXT)]  # as the sender does
            expected, got = Counter(sent), Counter(arrived[chat])
            lost_replies += sum((expected - got).values())
            duplicates += sum((got - expected).values())
            firsts = list(dict.fromkeys(arrived[chat]))
            if firsts != [t for t in dict.fromkeys(sent) if t in got]:
                disordered += 1
        messages = sum(len(v) for v in by_chat.values())
        log = (self.work / "bot.log").read_text(errors="replace")
        taken_back = sum(int(n) for n in re.findall(r"took (?:back|over) (\d+) ", log))
        worst = max((self.delay(at, arrival) for at, arrival in self.replies()), default=0.0)
        ok = not (lost_answers or lost_replies or disordered) and worst <= MAX_DELAY
        line = (f"faults kill -9 (real umkm-bot run, Telegram webhook, PostgreSQL): {kills} kills, "
                f"{len(self.accepted)} updates sent ({self.posts} posts, {self.refused} refused or failed and "
                f"posted again) over {len(turns)} chats -> answers lost {lost_answers}, replies lost "
                f"{lost_replies} of {messages}, duplicate replies {duplicates} (rows taken back after a restart: "
                f"{taken_back}), chats out of order {disordered}, "
                f"worst reply delay after a restart {worst:.1f} s (limit {MAX_DELAY:.0f}) | {elapsed:.0f} s")
        return line, ok


async def main(kills: int, chats: int) -> int:
    started = time.monotonic()
    url = await webhook.postgres_database()
    if url is None:
        print(f"faults kill -9: skipped, PostgreSQL is not reachable at {load.PG_ADMIN} (set BENCH_POSTGRES_URL)")
        return 0
    with tempfile.TemporaryDirectory(prefix="umkm-kill-") as tmp:
        work = Path(tmp)
        (work / "media").mkdir()
        try:
            async with load.TimedBotAPI() as api:
                suite = Suite(api, url, work)
                suite.start()
                limits = httpx.Limits(max_connections=chats * 2, keepalive_expiry=2.0)
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{suite.port}", timeout=10, limits=limits,
                                             trust_env=False) as client:
                    try:
                        ids = itertools.count(810_000_000)
                        await asyncio.gather(suite.killer(kills), *(suite.person(client, ids) for _ in range(chats)))
                        await suite.drain()
                    finally:
                        if suite.process is not None:
                            await load.stop(suite.process)
                line, ok = await suite.figures(kills, time.monotonic() - started)
                print(line)
                if not ok:
                    print("faults kill -9: FAILED; server log:\n" + (work / "bot.log").read_text()[-4000:])
                return 0 if ok else 1
        finally:
            await webhook.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=30, help="kill -9 this many times (default 30)")
    parser.add_argument("--chats", type=int, default=24, help="chats onboarding at once (default 24)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.kills, args.chats)))
