"""The outbox sender: claims due `OutboxMessage` rows, hands them to the channel's `Sender`, records the outcome.

Delivery is at least once. A row is *claimed* in a short transaction (PostgreSQL: `SELECT ... FOR UPDATE SKIP
LOCKED`, so concurrent deliverers take different rows; SQLite: the write lock every transaction takes at BEGIN):
its `attempts` goes up by one and its `next_attempt_at` moves forward by a lease. The send happens outside any
transaction, and its outcome is written in a second short transaction per row. A deliverer that dies between
the two leaves its rows pending with an expired lease, so another deliverer (or the same one after a restart)
sends them again: nothing a person should receive is lost, at the price of a rare duplicate.

Per-chat order: a row is not claimed while an earlier row of the same chat is waiting (in backoff, or leased
to another deliverer), and within one batch the rows of a chat are sent one after the other; when one fails
for a while, the later ones of that chat go back to waiting behind it.

Why the backoff is computed here rather than by a retry library: the retry schedule must survive the process
(a crash, a deploy, a second worker picking the row up), so it lives in the row itself (`attempts`,
`next_attempt_at`) and is applied by whichever deliverer claims the row next. In-process retry libraries such
as tenacity or backoff sleep inside a call and keep their state in memory; they would hold a claimed row for
the whole schedule and forget it on restart. What remains is one line of arithmetic (`_backoff`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot import metrics
from bot.messages import Outbound
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)

PENDING = OutboxStatus.pending.value


class PermanentError(Exception):
    """The message can never be delivered (the person blocked the bot, the chat does not exist): no retry."""


class TemporaryError(Exception):
    """The message may go through later (network, 5xx, rate limit); `retry_after` seconds if the API said so."""

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HeldError(Exception):
    """The person cannot be reached now (WhatsApp's 24-hour window): keep the message until they write again."""


class Sender(Protocol):
    """Sends one message on one channel; returns the provider's message id, if it gives one."""

    channel: str

    async def send(self, outbound: Outbound) -> str | None: ...


@dataclass(frozen=True)
class _Claim:
    """A row taken for one send, and what it looked like before, to put it back untouched if unsent."""

    outbound: Outbound
    attempts: int
    previous_next_attempt_at: datetime

    @property
    def chat(self) -> tuple[str, str]:
        return self.outbound.channel, self.outbound.address


STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


async def record_provider_status(db: Database, channel: str, message_id: str, status: str,
                                 error_codes: Iterable[int] = (), hold_codes: Iterable[int] = ()) -> bool:
    """Applies a channel's delivery report to the outbox row it is about; reports never go backwards.

    A failure with one of `hold_codes` (WhatsApp's closed 24-hour window) puts the message back on hold, to
    be sent again when the person writes. False when no row has that message id.
    """
    async with db.transaction() as session:
        query = select(OutboxMessage).where(OutboxMessage.channel == channel,
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


class Deliverer:
    """Sends due outbox rows through the registered senders, with a lease, backoff and an attempt limit."""

    def __init__(self, db: Database, senders: dict[str, Sender], clock: Callable[[], datetime] = utcnow,
                 max_attempts: int = 8, lease_seconds: float = 60, base_delay: float = 30,
                 max_delay: float = 3600) -> None:
        """Defaults retry for about an hour (30 s, 1, 2, 4 ... 32 min); a send must finish within the lease."""
        self.db = db
        self.senders = dict(senders)
        self.clock = clock
        self.max_attempts = max_attempts
        self.lease = timedelta(seconds=lease_seconds)
        self.base_delay = base_delay
        self.max_delay = max_delay

    async def deliver_due(self, channel: str | None = None, address: str | None = None, limit: int = 50) -> int:
        """Claims and sends up to `limit` due rows (optionally of one channel / chat); returns how many."""
        channels = [c for c in self.senders if channel is None or c == channel]
        if not channels:
            return 0
        now = self.clock()
        conditions = [col(OutboxMessage.channel).in_(channels), col(OutboxMessage.next_attempt_at) <= now]
        if address is not None:
            conditions.append(col(OutboxMessage.address) == address)
        return await self._deliver(await self._claim(now, conditions, limit))

    async def deliver(self, outbound: Iterable[Outbound]) -> int:
        """Sends the rows an engine call just committed, right away (those no other deliverer took first)."""
        ids = [o.outbox_id for o in outbound if o.outbox_id is not None and o.channel in self.senders]
        if not ids:
            return 0
        now = self.clock()
        # A fresh row (never tried) is claimable even if the engine's clock ran a little ahead of ours, but
        # not one born with a deliberate delay (next_attempt_at after created_at: an album's one reply).
        conditions = [col(OutboxMessage.id).in_(ids),
                      or_(and_(col(OutboxMessage.attempts) == 0,
                               col(OutboxMessage.next_attempt_at) <= col(OutboxMessage.created_at)),
                          col(OutboxMessage.next_attempt_at) <= now)]
        return await self._deliver(await self._claim(now, conditions, len(ids)))

    async def run(self, stop: asyncio.Event, interval: float = 1.0, limit: int = 50) -> None:
        """Delivers due rows until `stop` is set: at once again after a full batch, else every `interval` s."""
        if not self.senders:
            log.info("delivery: no channel sender registered, nothing to deliver")
        while not stop.is_set():
            try:
                handled = await self.deliver_due(limit=limit)
            except Exception:
                log.exception("delivery: a round failed; trying again in %s s", interval)
                handled = 0
            if handled >= limit:
                continue
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass

    # --- claim ------------------------------------------------------------------------------------------

    async def _claim(self, now: datetime, conditions: list, limit: int) -> list[_Claim]:  # type: ignore[type-arg]
        """Takes due pending rows in one short transaction and leases them; rows locked elsewhere are skipped."""
        earlier = aliased(OutboxMessage)
        waiting_before = exists().where(
            earlier.channel == OutboxMessage.channel, earlier.address == OutboxMessage.address,
            earlier.status == PENDING, earlier.id < OutboxMessage.id,
            earlier.attempts > 0, earlier.next_attempt_at > now)
        query = (select(OutboxMessage)
                 .where(OutboxMessage.status == PENDING, and_(*conditions), ~waiting_before)
                 .order_by(col(OutboxMessage.id))
                 .limit(limit)
                 .with_for_update(skip_locked=True, of=OutboxMessage))
        claims = []
        async with self.db.transaction() as session:
            for row in (await session.exec(query)).all():
                claims.append(_Claim(Outbound.from_payload(row.channel, row.address, row.payload, row.id),
                                     row.attempts + 1, row.next_attempt_at))
                row.attempts += 1
                row.next_attempt_at = now + self.lease
                session.add(row)
        return claims

    # --- send and record --------------------------------------------------------------------------------

    async def _deliver(self, claims: list[_Claim]) -> int:
        """Sends each chat's rows in order; different chats go concurrently."""
        chats: dict[tuple[str, str], list[_Claim]] = {}
        for claim in claims:
            chats.setdefault(claim.chat, []).append(claim)
        await asyncio.gather(*(self._deliver_chat(rows) for rows in chats.values()))
        return len(claims)

    async def _deliver_chat(self, claims: list[_Claim]) -> None:
        for index, claim in enumerate(claims):
            if not await self._send_one(claim):
                await self._release(claims[index + 1:])
                return

    async def _send_one(self, claim: _Claim) -> bool:
        """Sends one claimed row and records the outcome; False when the chat should wait (temporary failure)."""
        outbound = claim.outbound
        sender = self.senders[outbound.channel]
        try:
            provider_id = await sender.send(outbound)
        except HeldError as exc:
            log.info("outbox #%s to %s held until they write again: %s", outbound.outbox_id, outbound.channel, exc)
            metrics.sent(outbound.channel, "held")
            await self._record_held(claim, exc)
            return True
        except PermanentError as exc:
            log.warning("outbox #%s to %s failed for good: %s", outbound.outbox_id, outbound.channel, exc)
            metrics.sent(outbound.channel, "failed")
            await self._record_failure(claim, exc, retry=False)
            return True
        except TemporaryError as exc:
            retry = claim.attempts < self.max_attempts
            log.info("outbox #%s to %s failed (attempt %s, %s): %s", outbound.outbox_id, outbound.channel,
                     claim.attempts, "will retry" if retry else "giving up", exc)
            metrics.sent(outbound.channel, "429" if exc.retry_after else "retried" if retry else "failed")
            await self._record_failure(claim, exc, retry=retry, retry_after=exc.retry_after)
            return not retry
        except Exception as exc:  # a bug or an unexpected API answer: retried like a temporary failure
            retry = claim.attempts < self.max_attempts
            log.exception("outbox #%s to %s: unexpected error", outbound.outbox_id, outbound.channel)
            metrics.sent(outbound.channel, "retried" if retry else "failed")
            await self._record_failure(claim, exc, retry=retry)
            return not retry
        await self._record_sent(claim, provider_id)
        metrics.sent(outbound.channel, "sent")
        return True

    async def _record_sent(self, claim: _Claim, provider_id: str | None) -> None:
        async with self.db.transaction() as session:
            row = await session.get(OutboxMessage, claim.outbound.outbox_id, with_for_update=True)
            if row is None or row.status != PENDING:
                return
            row.status = OutboxStatus.sent
            row.provider_message_id = provider_id
            row.sent_at = self.clock()
            row.last_error = None
            session.add(row)

    async def _record_failure(self, claim: _Claim, exc: BaseException, *, retry: bool,
                              retry_after: float | None = None) -> None:
        async with self.db.transaction() as session:
            row = await session.get(OutboxMessage, claim.outbound.outbox_id, with_for_update=True)
            if row is None or row.status != PENDING or row.attempts != claim.attempts:
                return  # our lease ran out and another deliverer owns the row now
            row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            if retry:
                delay = max(self._backoff(claim.attempts), retry_after or 0)
                row.next_attempt_at = self.clock() + timedelta(seconds=delay)
            else:
                row.status = OutboxStatus.failed
            session.add(row)

    async def _record_held(self, claim: _Claim, exc: BaseException) -> None:
        async with self.db.transaction() as session:
            row = await session.get(OutboxMessage, claim.outbound.outbox_id, with_for_update=True)
            if row is None or row.status != PENDING or row.attempts != claim.attempts:
                return
            row.status = OutboxStatus.held
            row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            session.add(row)

    async def _release(self, claims: list[_Claim]) -> None:
        """Puts claimed but unsent rows back as they were; they wait behind the chat's failed row."""
        if not claims:
            return
        async with self.db.transaction() as session:
            for claim in claims:
                row = await session.get(OutboxMessage, claim.outbound.outbox_id, with_for_update=True)
                if row is None or row.status != PENDING or row.attempts != claim.attempts:
                    continue
                row.attempts = claim.attempts - 1
                row.next_attempt_at = claim.previous_next_attempt_at
                session.add(row)

    def _backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try: base, 2 x base, 4 x base ... up to max_delay."""
        return min(self.max_delay, self.base_delay * 2 ** (attempts - 1))
