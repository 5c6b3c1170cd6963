"""Outbound pacing for one channel account: at most `rate` messages in any second, `chat_rate` per chat.

Only the one elected sender of an account sends (bot/sending.py), so these in-memory limits hold across every
process of a deployment. A sliding window (not a token bucket, which lets a full bucket burst on top of the
steady rate) keeps the send times of the last second; the per-chat table forgets a chat as soon as it no
longer constrains anything, so it holds only the chats written to within the last `1 / chat_rate` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

MARGIN = 0.02  # seconds added to each window, so clock jitter on the way to the API never makes it 31 in one


class Pacer:
    """`await pacer.slot(chat, count)` returns when `count` more messages to `chat` may go out now."""

    def __init__(self, rate: float | None, chat_rate: float | None = None) -> None:
        self.rate = int(rate) if rate else 0
        self.chat_gap = 1.0 / chat_rate + MARGIN if chat_rate else 0.0
        self._sent: deque[float] = deque()
        self._chat_next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        """How many chats are remembered (for the test that it stays bounded)."""
        return len(self._chat_next)

    async def slot(self, chat: str, count: int = 1) -> None:
        if self.chat_gap:
            wait = self._chat_next.get(chat, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        if self.rate:
            async with self._lock:
                for _ in range(min(count, self.rate)):
                    await self._one()
        if self.chat_gap:
            now = time.monotonic()
            self._chat_next[chat] = now + self.chat_gap * count
            if len(self._chat_next) > 256:
                self._forget(now)

    async def _one(self) -> None:
        while True:
            now = time.monotonic()
            while self._sent and now - self._sent[0] >= 1.0 + MARGIN:
                self._sent.popleft()
            if len(self._sent) < self.rate:
                self._sent.append(now)
                return
            await asyncio.sleep(self._sent[0] + 1.0 + MARGIN - now)

    def _forget(self, now: float) -> None:
        for chat in [c for c, at in self._chat_next.items() if at <= now]:
            del self._chat_next[chat]
