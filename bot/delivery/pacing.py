"""Outbound pacing for one channel account: at most `rate` messages in any second, `chat_rate` per chat.

Only the one elected sender of an account sends (bot/delivery/sending.py), so these in-memory limits hold across every
process of a deployment. The window counts a message from the moment its call starts until the API answered
(when it arrived is somewhere in between), so however late a call reaches the API, no second of arrivals holds
more than `rate`. A token bucket would let a full bucket burst on top of the steady rate. The per-chat table
forgets a chat as soon as it no longer constrains anything, so it holds only the chats of the last second or so.
"""

from __future__ import annotations

import asyncio
import math
import time

WINDOW = 1.0


class Pacer:
    """`tokens = await pacer.slot(chat, count)` waits for room; `pacer.finish(chat, tokens)` once answered."""

    def __init__(self, rate: float | None, chat_rate: float | None = None) -> None:
        self.rate = max(1, int(rate)) if rate else 0
        self.chat_gap = 1.0 / chat_rate if chat_rate else 0.0
        self._window: list[list[float]] = []  # [answered at] per message; inf while its call is on the way
        self._chat_next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        """How many chats are remembered (for the test that it stays bounded)."""
        return len(self._chat_next)

    async def slot(self, chat: str, count: int = 1) -> list[list[float]]:
        if self.chat_gap:
            wait = self._chat_next.get(chat, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._chat_next[chat] = math.inf
        tokens: list[list[float]] = []
        if self.rate:
            async with self._lock:
                for _ in range(min(count, self.rate)):
                    tokens.append(await self._one())
        return tokens

    def finish(self, chat: str, tokens: list[list[float]], count: int = 1) -> None:
        """The call is answered: its messages count until a second from now, the chat waits its gap."""
        now = time.monotonic()
        for token in tokens:
            token[0] = now
        if self.chat_gap:
            self._chat_next[chat] = now + self.chat_gap * count
            if len(self._chat_next) > 256:
                for old in [c for c, at in self._chat_next.items() if at <= now]:
                    del self._chat_next[old]

    async def _one(self) -> list[float]:
        while True:
            now = time.monotonic()
            self._window = [t for t in self._window if t[0] > now - WINDOW]
            if len(self._window) < self.rate:
                token = [math.inf]
                self._window.append(token)
                return token
            finite = [t[0] for t in self._window if t[0] != math.inf]
            await asyncio.sleep(min(finite) + WINDOW - now if finite else 0.005)
