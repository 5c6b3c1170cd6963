"""The one outbox writer: queues messages to people inside the caller's transaction.

Both a conversation `Turn` and the channel-free services (review decisions, jobs) write through it, so a
message is written the same way whoever sends it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Choice, Outbound
from storage.models import Contact, OutboxMessage


class OutboxWriter:
    """Messages queued in one transaction; `flush()` gives them outbox ids, the caller's commit sends them."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now
        self._rows: list[tuple[OutboxMessage, Outbound]] = []

    def send(self, contact: Contact, text: str, *, choices: Iterable[Choice] = (),
             photos: Iterable[str] = (), request_contact: str = "", notice: dict[str, Any] | None = None) -> None:
        """Queues a message to `contact`; it is written to the outbox in this transaction.

        A plain text right before another message to the same person is joined to it ("That NIB is not
        13 digits." + the question again), so a person gets one message, not two.
        """
        photos = list(photos)
        if self._rows and not photos:
            row, previous = self._rows[-1]
            if (previous.channel, previous.address) == (contact.channel, contact.address) and not (
                    previous.choices or previous.photos or previous.request_contact or previous.notice):
                previous.text = f"{previous.text}\n\n{text}"
                previous.choices, previous.request_contact, previous.notice = list(choices), request_contact, notice
                row.payload = previous.to_payload()
                return
        outbound = Outbound(channel=contact.channel, address=contact.address, text=text, choices=list(choices),
                            photos=photos, request_contact=request_contact, locale=contact.locale, notice=notice)
        row = OutboxMessage(channel=contact.channel, address=contact.address, payload=outbound.to_payload(),
                            next_attempt_at=self.now, created_at=self.now)
        self.session.add(row)
        self._rows.append((row, outbound))

    async def flush(self) -> list[Outbound]:
        """Writes the queued messages so they have outbox ids; the caller's transaction commits them."""
        await self.session.flush()
        for row, outbound in self._rows:
            outbound.outbox_id = row.id
        return [outbound for _, outbound in self._rows]
