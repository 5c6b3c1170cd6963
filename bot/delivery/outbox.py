"""The one outbox writer: queues messages to people inside the caller's transaction.

Both a conversation `Turn` and the channel-free services (review decisions, jobs) write through it, so a
message is written the same way whoever sends it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery import wake
from bot.domain.messages import Choice, Outbound
from storage.fast.writes import write_with_rows
from storage.models import Contact, OutboxMessage, OutboxStatus

OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]


class OutboxWriter:
    """Messages queued in one transaction; `flush()` writes them (one INSERT) and gives them outbox ids, the
    caller's commit sends them. Nothing is written without `flush()`."""

    def __init__(self, session: AsyncSession, now: datetime, priority: int = 0) -> None:
        """`priority` 1 writes siaran rows: a chat's and the account's replies are sent before them."""
        self.session = session
        self.now = now
        self.priority = priority
        self._rows: list[tuple[dict[str, Any], Outbound]] = []
        self._held: dict[tuple[str, str], tuple[datetime, dict[str, Any]]] = {}
        self.known_clear: set[tuple[str, str]] = set()  # chats known to have no message held back
        self._released: list[Outbound] = []

    def hold_back(self, contact: Contact, until: datetime, meta: dict[str, Any]) -> None:
        """From now on in this transaction, messages to `contact` wait until `until` and carry `meta`."""
        self._held[(contact.channel, contact.address)] = (until, meta)

    def send(self, contact: Contact, text: str, *, choices: Iterable[Choice] = (),
             photos: Iterable[str] = (), request_contact: str = "", notice: dict[str, Any] | None = None,
             not_before: datetime | None = None, meta: dict[str, Any] | None = None) -> None:
        """Queues a message to `contact`; it is written to the outbox in this transaction.

        A plain text right before another message to the same person is joined to it ("That NIB is not
        13 digits." + the question again), so a person gets one message, not two. `not_before` holds a
        message back on purpose (a reply that later events may still change, see bot/conversation/album.py); `meta` is
        kept in its payload for whoever changes it.
        """
        photos = list(photos)
        held_until, held_meta = self._held.get((contact.channel, contact.address), (None, {}))
        not_before = not_before or held_until
        meta = {**held_meta, **(meta or {})}
        if self._rows and not photos and not self.priority:
            row, previous = self._rows[-1]
            if (previous.channel, previous.address) == (contact.channel, contact.address) and \
                    row["next_attempt_at"] == (not_before or self.now) and not (
                    previous.choices or previous.photos or previous.request_contact or previous.notice):
                previous.text = f"{previous.text}\n\n{text}"
                previous.choices, previous.request_contact, previous.notice = list(choices), request_contact, notice
                row["payload"] = {**row["payload"], **previous.to_payload()}
                return
        outbound = Outbound(channel=contact.channel, address=contact.address, text=text, choices=list(choices),
                            photos=photos, request_contact=request_contact, locale=contact.locale, notice=notice)
        self._rows.append(({"channel": contact.channel, "address": contact.address,
                            "payload": {**outbound.to_payload(), **(meta or {})},
                            "next_attempt_at": not_before or self.now}, outbound))

    def send_again(self, row: OutboxMessage, **changes: Any) -> None:
        """Queues a copy of an earlier message `row` to its chat, its payload changed by `changes` (a long
        list's next page: `page=2`)."""
        payload = {**row.payload, **changes}
        outbound = Outbound.from_payload(row.channel, row.address, payload)
        self._rows.append(({"channel": row.channel, "address": row.address, "payload": payload,
                            "next_attempt_at": self.now}, outbound))

    async def release(self, channel: str, address: str, *, held: bool = False, held_back: bool = False) -> None:
        """Lets a chat's waiting messages go out now, in their order, ahead of this transaction's own.

        `held`: those held until the person wrote again (WhatsApp's 24-hour window; they just did).
        `held_back`: those held back on purpose (an album's reply, see bot/conversation/album.py), because
        another message goes to the chat now. The only place a waiting message is released; `flush()` returns them
        first.
        """
        waiting = []
        if held:
            waiting.append(OutboxMessage.status == OutboxStatus.held)
        if held_back:
            ours = [outbound.outbox_id for _, outbound in self._rows if outbound.outbox_id is not None]
            waiting.append(and_(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.attempts == 0,
                                OutboxMessage.priority == 0,  # a siaran waiting for 07:00 stays waiting
                                col(OutboxMessage.next_attempt_at) > self.now, col(OutboxMessage.id).not_in(ours)))
        if not waiting:
            return
        query = (select(OutboxMessage)
                 .where(OutboxMessage.channel == channel, OutboxMessage.address == address, or_(*waiting))
                 .order_by(col(OutboxMessage.id))
                 .with_for_update())
        for row in (await self.session.exec(query)).all():
            row.status = OutboxStatus.pending
            row.next_attempt_at = self.now
            self.session.add(row)
            self._released.append(Outbound.from_payload(row.channel, row.address, row.payload, row.id))

    async def flush(self) -> list[Outbound]:
        """Writes the queued messages so they have outbox ids; the caller's transaction commits them.

        Returns the messages released in this transaction (see `release`) first, then its own. A message held
        back on purpose for a chat is released now when this transaction sends that chat a message due now, so
        the chat's order holds.
        """
        ids = await write_with_rows(self.session, OUTBOX, [self._values(row) for row, _ in self._rows])
        for (_, outbound), outbox_id in zip(self._rows, ids, strict=True):
            outbound.outbox_id = outbox_id
        chats = {(row["channel"], row["address"]) for row, _ in self._rows
                 if row["next_attempt_at"] <= self.now and not self.priority} - self.known_clear
        for channel, address in sorted(chats):
            await self.release(channel, address, held_back=True)
        written = self._released + [outbound for _, outbound in self._rows]
        wake.when_committed(self.session, {outbound.channel for outbound in written})
        return written

    def _values(self, row: dict[str, Any]) -> dict[str, Any]:
        """A queued row as inserted (Core, with the turn's other writes: see storage/fast/writes.py)."""
        return {**row, "status": OutboxStatus.pending.value, "attempts": 0, "parts_sent": 0, "created_at": self.now,
                "priority": self.priority}
