"""What became of each claimed outbox row, written as soon as known (outcomes that arrive together, together).

Each update is guarded by `lease_owner`: a deliverer whose lease was taken over records nothing for that row.
Also the `ChannelState` of a channel paused by a configuration error, and the operator's view of given-up rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select, update
from sqlmodel import select as orm_select

from bot.domain.messages import Outbound
from bot.ops import metrics
from storage.db import Database
from storage.models import ChannelState, Contact, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
CONTACT = Contact.__table__  # type: ignore[attr-defined]
PENDING = OutboxStatus.pending.value


@dataclass(frozen=True)
class Claim:
    """A row leased for one send: its message, the attempt this is, parts already out, when it was written."""

    outbound: Outbound
    attempts: int
    parts_sent: int
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    """kind: sent, retry, failed, held, paused (configuration error), moved (the chat has a new address)."""

    claim: Claim
    kind: str
    provider_id: str | None = None
    error: BaseException | None = None
    next_attempt_at: datetime | None = None
    address: str | None = None

    @property
    def error_text(self) -> str | None:
        return f"{type(self.error).__name__}: {self.error}"[:1000] if self.error is not None else None


def _mine(owner: str) -> Any:
    return (OUTBOX.c.id == bindparam("b_id")) & (OUTBOX.c.lease_owner == owner)


def metric_label(result: Outcome) -> str:
    """The send result as /metrics counts it: sent, retried, 429, held, failed, paused, moved."""
    if result.kind == "retry":
        return "429" if getattr(result.error, "retry_after", None) else "retried"
    return result.kind


async def record(db: Database, owner: str, now: datetime, results: list[Outcome]) -> None:
    """Writes every outcome of a round by the deliverer `owner`; the rows leave their lease (and `paused` ones
    their attempt). Pausing the channel itself is the deliverer's (`Deliverer.pause`)."""
    for result in results:
        metrics.sent(result.claim.outbound.channel, metric_label(result))
    free = {"lease_owner": None, "leased_until": None}
    sent = [{"b_id": r.claim.outbound.outbox_id, "b_pid": r.provider_id} for r in results if r.kind == "sent"]
    async with db.begin() as conn:
        if sent:
            await conn.execute(update(OUTBOX).where(_mine(owner)).values(
                status=OutboxStatus.sent.value, provider_message_id=bindparam("b_pid"), sent_at=now,
                last_error=None, **free), sent)
        for result in results:
            row = (OUTBOX.c.id == result.claim.outbound.outbox_id) & (OUTBOX.c.lease_owner == owner)
            if result.kind == "retry":
                values: dict[str, Any] = {"next_attempt_at": result.next_attempt_at}
            elif result.kind in ("failed", "held"):
                values = {"status": result.kind}
            elif result.kind == "paused":
                values = {"attempts": OUTBOX.c.attempts - 1}
            elif result.kind == "moved":
                values = {"attempts": OUTBOX.c.attempts - 1, "next_attempt_at": now}
            else:
                continue
            await conn.execute(update(OUTBOX).where(row).values(last_error=result.error_text, **free, **values))
            if result.kind == "moved" and result.address:
                await _move_chat(conn, result.claim.outbound, result.address)


async def _move_chat(conn: Any, outbound: Outbound, address: str) -> None:
    """Every waiting message and the contact of a migrated chat follow it to its new address."""
    log.warning("delivery: %s chat %s moved to %s", outbound.channel, outbound.address, address)
    old = (OUTBOX.c.channel == outbound.channel) & (OUTBOX.c.address == outbound.address)
    await conn.execute(update(OUTBOX).where(old, OUTBOX.c.status.in_([PENDING, OutboxStatus.held.value]))
                       .values(address=address))
    taken = exists().where(CONTACT.c.channel == outbound.channel, CONTACT.c.address == address)
    await conn.execute(update(CONTACT).where(CONTACT.c.channel == outbound.channel,
                                             CONTACT.c.address == outbound.address, ~taken).values(address=address))


async def pause_channel(db: Database, channel: str, reason: str, now: datetime) -> None:
    """Records that `channel` is paused (`ChannelState`), and why, until `resume_channel`."""
    async with db.transaction() as session:
        state = await session.get(ChannelState, channel, with_for_update=True)
        if state is None:
            state = ChannelState(channel=channel)
        if state.paused_reason is None:
            state.paused_at = now
        state.paused_reason = reason
        state.last_error, state.last_error_at, state.updated_at = reason, now, now
        session.add(state)


async def resume_channel(db: Database, channel: str, now: datetime) -> None:
    async with db.transaction() as session:
        state = await session.get(ChannelState, channel, with_for_update=True)
        if state is not None:
            state.paused_reason, state.paused_at, state.updated_at = None, None, now
            session.add(state)


async def paused_channels(db: Database, channels: list[str]) -> dict[str, str]:
    table = ChannelState.__table__  # type: ignore[attr-defined]
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(table.c.channel, table.c.paused_reason).where(
            table.c.channel.in_(channels), table.c.paused_reason.is_not(None)))).all()
    return {r.channel: r.paused_reason for r in rows}


async def record_provider_status(db: Database, channel: str, message_id: str, status: str,
                                 error_codes: Iterable[int] = (), hold_codes: Iterable[int] = ()) -> bool:
    """Applies a channel's delivery report to the outbox row it is about; reports never go backwards.

    A failure with one of `hold_codes` (WhatsApp's closed 24-hour window) puts the message back on hold, to
    be sent again when the person writes. False when no row has that message id.
    """
    async with db.transaction() as session:
        query = orm_select(OutboxMessage).where(OutboxMessage.channel == channel,
                                                OutboxMessage.provider_message_id == message_id).with_for_update()
        row = (await session.exec(query)).first()
        if row is None:
            return False
        if STATUS_RANK.get(status, 0) > STATUS_RANK.get(row.provider_status or "", 0):
            row.provider_status = status
        codes = list(error_codes)
        if status == "failed":
            row.last_error = f"{channel} reported failure {codes}"
            if set(codes) & set(hold_codes) and row.status == OutboxStatus.sent:
                row.status = OutboxStatus.held
        session.add(row)
    return True


STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
