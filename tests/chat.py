"""A fake channel for engine tests: people who type, tap buttons by label and send photos."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.conversation.engine import Engine
from bot.domain.messages import Inbound, Outbound, PhotoIn

_ids = itertools.count(1)


class Network:
    """Routes what the engine returns to the fake chat it is addressed to."""

    def __init__(self, engine: Engine, channel: str = "fake") -> None:
        self.engine = engine
        self.channel = channel
        self.chats: dict[str, Chat] = {}

    def chat(self, address: str) -> Chat:
        return self.chats.setdefault(address, Chat(self, address))

    async def deliver(self, inbound: Inbound) -> list[Outbound]:
        outbound = await self.engine.handle(inbound)
        for message in outbound:
            inbox = self.chat(message.address).inbox
            same = [i for i, m in enumerate(inbox) if message.outbox_id and m.outbox_id == message.outbox_id]
            if same:  # an unsent message the engine rewrote (an album's one reply): still one message
                inbox[same[0]] = message
            else:
                inbox.append(message)
        return outbound


@dataclass
class Chat:
    network: Network
    address: str
    inbox: list[Outbound] = field(default_factory=list)

    def _inbound(self, kind: str, text: str = "", **extra) -> Inbound:  # type: ignore[no-untyped-def]
        return Inbound(self.network.channel, self.address, f"ev-{next(_ids)}", kind, text, **extra)  # type: ignore[arg-type]

    async def send(self, text: str) -> list[Outbound]:
        """Types a message; returns the replies to this chat."""
        kind = "command" if text.startswith("/") else "text"
        return self._mine(await self.network.deliver(self._inbound(kind, text)))

    async def tap(self, label: str) -> list[Outbound]:
        """Taps the button with this label (or id) on the newest message that has buttons."""
        for message in reversed(self.inbox):
            for choice in message.choices:
                if label in (choice.label, choice.id):
                    return self._mine(await self.network.deliver(self._inbound("choice", choice.id)))
            if message.choices:
                labels = [c.label for c in message.choices]
                raise AssertionError(f"no button {label!r} on the last keyboard: {labels}")
        raise AssertionError("no message with buttons")

    async def press(self, choice_id: str) -> list[Outbound]:
        """Sends a raw button id, as a forged or stale callback would."""
        return self._mine(await self.network.deliver(self._inbound("choice", choice_id)))

    async def photos(self, *images: bytes) -> list[Outbound]:
        photos = tuple(PhotoIn(data, f"file-{i}") for i, data in enumerate(images))
        return self._mine(await self.network.deliver(self._inbound("photos", photos=photos)))

    async def share_contact(self, phone: str) -> list[Outbound]:
        return self._mine(await self.network.deliver(self._inbound("contact", phone=phone)))

    def _mine(self, outbound: list[Outbound]) -> list[Outbound]:
        return [m for m in outbound if m.address == self.address]

    @property
    def last(self) -> str:
        return self.inbox[-1].text if self.inbox else ""

    def texts(self, since: int = 0) -> list[str]:
        return [m.text for m in self.inbox[since:]]

    @property
    def buttons(self) -> list[str]:
        return [c.label for c in self.inbox[-1].choices] if self.inbox else []
