"""What a channel's sender is to the deliverer: the errors it raises and what it gets with each message."""

from __future__ import annotations

from typing import Protocol

from bot.domain.messages import Outbound


class PermanentError(Exception):
    """The message can never be delivered (the person blocked the bot, the chat does not exist): no retry."""


class TemporaryError(Exception):
    """The message may go through later (network, 5xx, rate limit); `retry_after` seconds if the API said so."""

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HeldError(Exception):
    """The person cannot be reached now (WhatsApp's 24-hour window): keep the message until they write again."""


class ConfigurationError(Exception):
    """The operator's fault (a wrong or revoked token): pause the channel, keep every message."""


class AddressChanged(Exception):
    """The chat moved (Telegram's `migrate_to_chat_id`): its messages go to `address` from now on."""

    def __init__(self, address: str) -> None:
        super().__init__(f"chat moved to {address}")
        self.address = address


class Parts(Protocol):
    """What a sender gets with each message: how many parts went out before, a pacing slot, progress."""

    sent: int

    async def slot(self, count: int = 1) -> None: ...

    async def done(self, count: int) -> None: ...


class Unpaced:
    """Parts for a send outside the deliverer (a test, a one-off): nothing sent before, no pacing, no record."""

    sent = 0

    async def slot(self, count: int = 1) -> None:
        return None

    async def done(self, count: int) -> None:
        return None


class Sender(Protocol):
    """Sends one message on one channel; returns the provider's message id, if it gives one.

    Optional attributes: `rate` (messages a second for the account), `chat_rate` (per chat), `account` (what
    one rate applies to, e.g. the bot id) and `async probe()` (raises ConfigurationError while still broken).
    """

    channel: str

    async def send(self, outbound: Outbound, parts: Parts) -> str | None: ...
