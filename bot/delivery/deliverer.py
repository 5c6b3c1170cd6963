"""The outbox deliverer: claims the head row of each due chat, sends it through the channel's `Sender`, records.

Order: a row is claimed only when no earlier row of its chat is pending at all (untried, leased, in backoff or
born with a delay; earlier by (priority, id): a siaran's row never holds back a reply), so one chat's messages
go out one after the other whichever deliverer or process sends them. A claim is a lease (`lease_owner`,
`leased_until`) of one row per chat, extended while the send lasts; a deliverer restarted under the same name
("host:run-1") takes back its own leases at once instead of waiting for them to run out. Delivery is at least
once: a process killed mid-send leaves its row leased, and the row is sent again by its restarted self (or by
another deliverer once the lease has run out).

Multi-part messages (an album then the text, a long text in pieces) record each part as it goes out
(`parts_sent`), so a retry sends only what did not. A configuration error (a revoked token) pauses the channel:
its rows stay pending, `ChannelState` says why, and a probe resumes it once fixed. Temporary failures are
retried with capped backoff for `retry_for` (48 h by default) before the row is `failed`.

Why the backoff is computed here rather than by a retry library: the schedule must survive the process, so it
lives in the row (`attempts`, `next_attempt_at`) and is applied by whichever deliverer claims the row next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypedDict, Unpack

from sqlalchemy import and_, exists, or_, select, update

from bot.delivery import outcomes
from bot.delivery.outcomes import record_provider_status
from bot.delivery.pacing import Pacer
from bot.delivery.sender import (
    AddressChanged,
    ConfigurationError,
    HeldError,
    Parts,
    PermanentError,
    Sender,
    TemporaryError,
    Unpaced,
)
from bot.delivery.sending import run_elected
from bot.domain.messages import Outbound
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, utcnow

__all__ = ["AddressChanged", "ConfigurationError", "Deliverer", "HeldError", "Parts", "PermanentError", "Sender",
           "TemporaryError", "Unpaced", "record_provider_status"]

log = logging.getLogger(__name__)

PENDING = OutboxStatus.pending.value
LOW_PRIORITY_ROUND = 8  # a round of siaran rows: this fraction of a full one (2 s at the rate): 1/4 s
OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]


def default_name() -> str:
    """A name no other deliverer has; `umkm-bot run`/`worker` pass stable ones ("host:run-1") instead."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class _Parts:
    """Skips the parts an earlier try sent, paces each one, records each one but the last."""

    def __init__(self, deliverer: Deliverer, claim: outcomes.Claim) -> None:
        self.deliverer = deliverer
        self.claim = claim
        self.sent = claim.parts_sent
        self.pacer = deliverer.pacer(claim.outbound.channel)
        self._tokens: list[list[float]] | None = None
        self._count = 1

    async def slot(self, count: int = 1) -> None:
        self.finish()
        self._tokens = await self.pacer.slot(self.claim.outbound.address, count)
        self._count = count

    def finish(self) -> None:
        """The part in flight was answered (or failed): it counts from now in the pacing window."""
        if self._tokens is not None:
            self.pacer.finish(self.claim.outbound.address, self._tokens, self._count)
            self._tokens = None

    async def done(self, count: int) -> None:
        self.sent = count
        async with self.deliverer.db.begin() as conn:
            await conn.execute(update(OUTBOX).where(OUTBOX.c.id == self.claim.outbound.outbox_id,
                                                    OUTBOX.c.lease_owner == self.deliverer.owner)
                               .values(parts_sent=count))


class Retry(TypedDict, total=False):
    """How a failed send is retried (keyword options of `Deliverer`): backoff from `base_delay` seconds, doubling
    up to `max_delay`, for `retry_for` since the row was written; `max_attempts`, when set, may stop it sooner."""

    max_attempts: int | None
    base_delay: float
    max_delay: float
    retry_for: timedelta


class Deliverer:
    """Sends due outbox rows through the registered senders: per-chat order, leases, backoff, pauses."""

    def __init__(self, db: Database, senders: dict[str, Sender], clock: Callable[[], datetime] = utcnow, *,
                 name: str | None = None, lease_seconds: float = 15, probe_interval: float = 30,
                 **retry: Unpack[Retry]) -> None:
        """Retries for `retry_for` (30 s, 1, 2, 4 ... min, then hourly); `max_attempts` may stop it sooner."""
        if unknown := set(retry) - Retry.__optional_keys__:
            raise TypeError(f"unknown retry options: {sorted(unknown)}")
        self.db = db
        self.senders = dict(senders)
        self.clock = clock
        self.name = name or default_name()
        self.owner = f"{self.name}@{uuid.uuid4().hex[:10]}"
        self.max_attempts = retry.get("max_attempts")
        self.lease = timedelta(seconds=lease_seconds)
        self.base_delay = retry.get("base_delay", 30)
        self.max_delay = retry.get("max_delay", 3600)
        self.retry_for = retry.get("retry_for", timedelta(hours=48))
        self.probe_interval = probe_interval
        self.paused: dict[str, str] = {}
        self.running = False  # set by the elected-sender loop (bot/delivery/sending.py); deliver() then only wakes it
        self.wakeups: dict[str, asyncio.Event] = {c: asyncio.Event() for c in self.senders}
        self._pacers: dict[str, Pacer] = {}
        self._reclaimed = False

    def pacer(self, channel: str) -> Pacer:
        if channel not in self._pacers:
            sender = self.senders[channel]
            self._pacers[channel] = Pacer(getattr(sender, "rate", None), getattr(sender, "chat_rate", None))
        return self._pacers[channel]

    # --- entry points ---------------------------------------------------------------------------------

    async def deliver_due(self, channel: str | None = None, address: str | None = None, limit: int = 50,
                          where: Any = None) -> int:
        """Sends every due row (optionally of one channel / chat), head of each chat first; returns how many."""
        await self.reclaim_own_leases()
        total = 0
        while True:
            channels = [c for c in self.senders if (channel is None or c == channel) and c not in self.paused]
            if not channels:
                return total
            conditions = [OUTBOX.c.channel.in_(channels)]
            if address is not None:
                conditions.append(OUTBOX.c.address == address)
            if where is not None:
                conditions.append(where)
            claimed, progressed = await self._round(conditions, limit)
            total += claimed
            if not claimed or not progressed:
                return total

    async def deliver(self, outbound: Iterable[Outbound]) -> int:
        """After a commit: wakes the elected sender, or (no sender loop in this process) sends those chats now."""
        chats = {(o.channel, o.address) for o in outbound if o.channel in self.senders}
        if not chats:
            return 0
        if self.running:
            for channel, _ in chats:
                self.wakeups[channel].set()
            return 0
        where = or_(*(and_(OUTBOX.c.channel == c, OUTBOX.c.address == a) for c, a in sorted(chats)))
        return await self.deliver_due(where=where)

    async def run(self, stop: asyncio.Event, interval: float = 1.0, limit: int = 50) -> None:
        """The elected-sender loop for every channel, until `stop` is set (see bot/delivery/sending.py)."""
        await run_elected(self, stop, interval, limit)

    # --- claim ----------------------------------------------------------------------------------------

    async def reclaim_own_leases(self) -> None:
        """A restarted deliverer (same name, new boot) takes back what its former self had leased."""
        if self._reclaimed:
            return
        self._reclaimed = True
        prefix = self.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "@%"
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(OUTBOX).where(OUTBOX.c.status == PENDING, OUTBOX.c.lease_owner.like(prefix, escape="\\"),
                                     OUTBOX.c.lease_owner != self.owner)
                .values(lease_owner=None, leased_until=None))
        if result.rowcount:
            log.info("delivery: took back %s message(s) leased before a restart of %s", result.rowcount, self.name)

    async def take_over(self, channel: str) -> None:
        """Just elected the account's sender: rows still leased by another deliverer of this channel belong to
        a sender that died (or lost its election), so they are free at once rather than when the lease ends."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(OUTBOX).where(OUTBOX.c.channel == channel, OUTBOX.c.status == PENDING,
                                     OUTBOX.c.lease_owner.is_not(None), OUTBOX.c.lease_owner != self.owner)
                .values(lease_owner=None, leased_until=None))
        if result.rowcount:
            log.warning("delivery: took over %s %s message(s) leased by a former sender", result.rowcount, channel)

    async def _claim(self, conditions: list[Any], limit: int) -> list[outcomes.Claim]:
        """Leases the head row of each due chat (rows locked by another claim are skipped)."""
        now = self.clock()
        earlier = OUTBOX.alias("earlier")
        # A chat's rows go by (priority, id): a siaran (priority 1) waits behind every reply, never the reverse.
        ahead = or_(earlier.c.priority < OUTBOX.c.priority,
                    and_(earlier.c.priority == OUTBOX.c.priority, earlier.c.id < OUTBOX.c.id))
        waiting_before = exists().where(earlier.c.channel == OUTBOX.c.channel, earlier.c.address == OUTBOX.c.address,
                                        earlier.c.status == PENDING, ahead)
        query = (select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.address, OUTBOX.c.payload, OUTBOX.c.attempts,
                        OUTBOX.c.parts_sent, OUTBOX.c.created_at, OUTBOX.c.priority)
                 .where(OUTBOX.c.status == PENDING, OUTBOX.c.next_attempt_at <= now,
                        or_(OUTBOX.c.leased_until.is_(None), OUTBOX.c.leased_until <= now), ~waiting_before,
                        *conditions)
                 .order_by(OUTBOX.c.priority, OUTBOX.c.id).limit(limit).with_for_update(skip_locked=True, of=OUTBOX))
        async with self.db.begin() as conn:
            rows = (await conn.execute(query)).all()
            if not rows:
                return []
            # A round waits for all its sends: siaran rows (priority 1) go in short rounds, so that a reply
            # written meanwhile waits about a quarter of a second for the next claim.
            low = [r for r in rows if r.priority]
            rows = [r for r in rows if not r.priority] + low[:max(1, limit // LOW_PRIORITY_ROUND)]
            await conn.execute(update(OUTBOX).where(OUTBOX.c.id.in_([r.id for r in rows]))
                               .values(attempts=OUTBOX.c.attempts + 1, lease_owner=self.owner,
                                       leased_until=now + self.lease))
        return [outcomes.Claim(Outbound.from_payload(r.channel, r.address, r.payload, r.id), r.attempts + 1,
                               r.parts_sent, r.created_at) for r in rows]

    # --- send -----------------------------------------------------------------------------------------

    async def _round(self, conditions: list[Any], limit: int) -> tuple[int, bool]:
        """Claims, sends (chats at once), records every outcome in one transaction; (claimed, any progress)."""
        claims = await self._claim(conditions, limit)
        if not claims:
            return 0, False
        unfinished = {c.outbound.outbox_id for c in claims}
        waiting: list[outcomes.Outcome] = []
        sent_all, arrived = asyncio.Event(), asyncio.Event()
        keeper = asyncio.create_task(self._keep_leases(unfinished, waiting, sent_all, arrived))
        try:
            results = await asyncio.gather(*(self._send(c, unfinished, waiting, arrived) for c in claims))
        finally:
            sent_all.set()  # the keeper ends after the write it may be doing (cancelling it would lose that)
            arrived.set()
            await asyncio.gather(keeper, return_exceptions=True)
        await self._flush(waiting)
        return len(claims), any(r.kind not in ("retry", "paused") for r in results)

    async def _flush(self, waiting: list[outcomes.Outcome]) -> None:
        batch = waiting[:]
        del waiting[:len(batch)]
        if batch:
            now = self.clock()
            await outcomes.record(self.db, self.owner, now, batch)
            for result in batch:
                if result.kind == "paused":
                    await self.pause(result.claim.outbound.channel, result.error_text or "", now)

    async def _keep_leases(self, unfinished: set[int | None], waiting: list[outcomes.Outcome],
                           sent_all: asyncio.Event, arrived: asyncio.Event) -> None:
        """While a round sends: writes each outcome as soon as it is known (those that arrive during a write
        go in the next one), so a crash re-sends as little as it can; and extends the leases of rows still
        being sent every third of a lease."""
        period = self.lease.total_seconds() / 3
        extended = time.monotonic()
        while not sent_all.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), max(0.0, period - (time.monotonic() - extended)))
            arrived.clear()
            await self._flush(waiting)
            ids = [i for i in unfinished if i is not None]
            if sent_all.is_set() or not ids or time.monotonic() - extended < period:
                continue
            extended = time.monotonic()
            async with self.db.begin() as conn:
                await conn.execute(update(OUTBOX).where(OUTBOX.c.id.in_(ids), OUTBOX.c.lease_owner == self.owner)
                                   .values(leased_until=self.clock() + self.lease))

    async def _send(self, claim: outcomes.Claim, unfinished: set[int | None], waiting: list[outcomes.Outcome],
                    arrived: asyncio.Event) -> outcomes.Outcome:
        outcome = await self._attempt(claim, unfinished)
        waiting.append(outcome)
        arrived.set()
        return outcome

    async def _attempt(self, claim: outcomes.Claim, unfinished: set[int | None]) -> outcomes.Outcome:
        outbound = claim.outbound
        parts = _Parts(self, claim)
        try:
            provider_id = await self.senders[outbound.channel].send(outbound, parts)
        except HeldError as exc:
            log.info("outbox #%s to %s held until they write again: %s", outbound.outbox_id, outbound.channel, exc)
            return outcomes.Outcome(claim, "held", error=exc)
        except ConfigurationError as exc:
            return outcomes.Outcome(claim, "paused", error=exc)
        except AddressChanged as exc:
            return outcomes.Outcome(claim, "moved", error=exc, address=exc.address)
        except PermanentError as exc:
            log.warning("outbox #%s to %s failed for good: %s", outbound.outbox_id, outbound.channel, exc)
            return outcomes.Outcome(claim, "failed", error=exc)
        except TemporaryError as exc:
            return self._retry(claim, exc, exc.retry_after)
        except Exception as exc:  # a bug or an unexpected API answer: retried like a temporary failure
            log.exception("outbox #%s to %s: unexpected error", outbound.outbox_id, outbound.channel)
            return self._retry(claim, exc, None)
        finally:
            parts.finish()
            unfinished.discard(outbound.outbox_id)
        return outcomes.Outcome(claim, "sent", provider_id=provider_id)

    def _retry(self, claim: outcomes.Claim, exc: BaseException, retry_after: float | None) -> outcomes.Outcome:
        now = self.clock()
        give_up = (self.max_attempts is not None and claim.attempts >= self.max_attempts) or (
            now - claim.created_at >= self.retry_for)
        log.info("outbox #%s to %s failed (attempt %s, %s): %s", claim.outbound.outbox_id, claim.outbound.channel,
                 claim.attempts, "giving up" if give_up else "will retry", exc)
        if give_up:
            return outcomes.Outcome(claim, "failed", error=exc)
        delay = max(self._backoff(claim.attempts), retry_after or 0)
        return outcomes.Outcome(claim, "retry", error=exc, next_attempt_at=now + timedelta(seconds=delay))

    def _backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try: base, 2 x base, 4 x base ... up to max_delay."""
        return min(self.max_delay, self.base_delay * 2 ** min(attempts - 1, 30))

    # --- paused channels ------------------------------------------------------------------------------

    async def pause(self, channel: str, reason: str, now: datetime) -> None:
        """Stops sending on `channel` until a probe says it works again; says so loudly, once."""
        if channel not in self.paused:
            log.error("delivery: %s PAUSED, its messages wait: %s. Fix the credentials; sending resumes by itself "
                      "(checked every %.0f s) or at the next restart.", channel, reason, self.probe_interval)
        self.paused[channel] = reason
        await outcomes.pause_channel(self.db, channel, reason, now)

    async def load_paused(self) -> None:
        """The channels a former run paused (probed again before anything is sent)."""
        self.paused.update(await outcomes.paused_channels(self.db, list(self.senders)))

    async def probe_paused(self) -> bool:
        """Asks each paused channel whether it works again; True when one was resumed."""
        resumed = False
        for channel in list(self.paused):
            probe = getattr(self.senders[channel], "probe", None)
            try:
                if probe is not None:
                    await probe()
            except ConfigurationError as exc:
                log.error("delivery: %s still paused: %s", channel, exc)
                continue
            except Exception as exc:  # the network: try again at the next probe
                log.warning("delivery: probing %s failed: %s", channel, exc)
                continue
            del self.paused[channel]
            await outcomes.resume_channel(self.db, channel, self.clock())
            log.warning("delivery: %s works again; sending its queue", channel)
            resumed = True
        return resumed
