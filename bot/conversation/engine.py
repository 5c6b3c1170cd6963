"""One inbound event -> one transaction -> outbound messages in the outbox. Knows flows and storage, no channel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bot.conversation import invited, locking, officer, owner
from bot.conversation.turn import Turn, TurnContext
from bot.delivery.outbox import OutboxWriter
from bot.domain.messages import Inbound, Replies
from bot.ops import metrics
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.db import Database, DatabaseUnavailable, is_transient
from storage.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

TRIES = 3  # a transient database error is retried twice (after 50 and 200 ms) before giving the event back
SEEN_AGAIN_AFTER = timedelta(minutes=1)  # last_inbound_at is written at most this often (WhatsApp's 24-h window)


class Engine:
    """`await engine.handle(inbound)` applies one event and returns what to send (already in the outbox)."""

    def __init__(self, db: Database, settings: Settings, renderer: Renderer | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.renderer = renderer or Renderer(settings.templates_dir)
        self.clock = clock
        self.context = TurnContext(settings, self.renderer, clock)

    @metrics.timed_update
    async def handle(self, inbound: Inbound) -> Replies:
        """Applies the event once; a duplicate event id returns [] (`.duplicate`) and changes nothing.

        A transient database error (a dropped connection, a serialization failure) is retried here; if the
        database stays unreachable, `DatabaseUnavailable` is raised and nothing is recorded, so the channel
        (a webhook answered 503) delivers the event again. Any other error is a bug: the person is told.
        """
        for attempt in range(TRIES):
            try:
                return await self._handle_once(inbound)
            except IntegrityError:
                # Two first messages of one new contact raced to create it; the loser tries again.
                if attempt == TRIES - 1:
                    raise
                log.info("retrying after a concurrent insert")
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("event %s:%s failed", inbound.channel, inbound.event_id)
                    metrics.mark_update("error")
                    return await self._apologize(inbound)
                if attempt == TRIES - 1:
                    log.error("event %s:%s not applied, the database is unavailable: %s", inbound.channel,
                              inbound.event_id, exc)
                    metrics.mark_update("unavailable")
                    raise DatabaseUnavailable(str(exc)) from exc
                log.warning("event %s:%s: transient database error, retrying: %s", inbound.channel,
                            inbound.event_id, exc)
                await asyncio.sleep(0.05 * 4 ** attempt)
        return Replies()

    async def _apologize(self, inbound: Inbound) -> Replies:
        """After a bug: the event is recorded (so it is not redelivered forever) and the person is told."""
        try:
            return await self._apology(inbound)
        except Exception as exc:
            if is_transient(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    async def _apology(self, inbound: Inbound) -> Replies:
        async with self.db.transaction(quick=True) as session:
            locked = await locking.begin_turn(session, inbound, self.clock())
            if locked is None:
                return Replies.of_duplicate()
            turn = Turn(self.context, session, locked.contact, locked.conversation)
            turn.send(locked.contact, turn.text("errors/internal"))
            return Replies(await turn.commit_outbox())

    async def requeue(self, inbound: Inbound, outbox_id: int, page: int) -> Replies:
        """Queues another page of an earlier message to this chat (a long list's "more"), once per event."""
        async with self.db.transaction(quick=True) as session:
            now = self.clock()
            if not await locking.record_event(session, inbound, now):
                return Replies.of_duplicate()
            row = await session.get(OutboxMessage, outbox_id)
            if row is None or (row.channel, row.address) != (inbound.channel, inbound.address):
                log.info("%s: stale 'more' for message %s ignored", inbound.channel, outbox_id)
                return Replies()
            outbox = OutboxWriter(session, now)
            outbox.send_again(row, page=page)
            return Replies(await outbox.flush())

    async def _handle_once(self, inbound: Inbound) -> Replies:
        async with self.db.transaction(quick=True) as session:
            now = self.clock()
            locked = await locking.begin_turn(session, inbound, now)
            if locked is None:
                log.info("duplicate event %s:%s ignored", inbound.channel, inbound.event_id)
                metrics.mark_update("duplicate")
                return Replies.of_duplicate()
            contact, conversation = locked.contact, locked.conversation
            if contact.last_inbound_at is None or now - contact.last_inbound_at >= SEEN_AGAIN_AFTER:
                contact.last_inbound_at = now
            if inbound.display_name and not contact.display_name and (contact.owner_id or contact.officer_id):
                contact.display_name = inbound.display_name[:100]  # never kept for someone who has not consented
            turn = Turn(self.context, session, contact, conversation, business=locked.business,
                        notice_waiting=locked.notice_waiting, held_back=locked.held_back)
            if locked.held:  # this person wrote again: what waited for that goes out first, in order
                await turn.outbox.release(contact.channel, contact.address, held=True)
            if contact.officer_id is None and contact.owner_id is None and await invited.claim(turn, inbound):
                pass  # a new officer's first message: their invitation (bot/conversation/invited.py)
            elif contact.officer_id is not None:
                await officer.handle(turn, inbound)
            else:
                await owner.handle(turn, inbound)
            conversation.version += 1
            conversation.updated_at = self.clock()
            return Replies(await turn.commit_outbox())

